// state.js — what the page knows: the caller, the catalog, and the
// listeners redrawn when it changes.

import { get, metric } from "./api.js";

export const state = { me: null, sets: [], journal: [], catalog: "", lag: {}, loaded: false };

const listeners = [];

export function onChange(fn) {
  listeners.push(fn);
}

function changed() {
  for (const fn of listeners) fn(state);
}

// refresh reads the catalog (GET /api/v1/backups) and the continuous
// backup lag (/metrics), then redraws.
export async function refresh() {
  const list = await get("/api/v1/backups");
  state.sets = Array.isArray(list.backups) ? list.backups : [];
  state.journal = Array.isArray(list.journal) ? list.journal : [];
  state.catalog = list.catalog || "";
  state.lag = state.journal.length ? await metric("flowg_backup_continuous_lag_seconds").catch(() => ({})) : {};
  state.loaded = true;
  changed();
}

export function findSet(id) {
  return state.sets.find((s) => s.id === id);
}
