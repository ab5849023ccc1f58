// ops.js — long work started from the page (take, verify, restore). It is
// asked for with ?async=true: a server that runs it detached answers 202
// {"operation_id"}, kept in sessionStorage and polled at
// GET /api/v1/operations/:id until it ends, across page reloads. A server
// that answers at once (no async support) gives the result directly.

import { el, fill, $, button, bytes } from "./dom.js";
import { call, credential, get, ApiError } from "./api.js";
import { refresh } from "./state.js";

const KEY = "flowg.operations";
const POLL_MS = 700;
const RETRY_MS = 3000; // after no answer, or a 502/503/504
const panels = new Map(); // operation key -> panel element
let endedCount = 0;

function remembered() {
  try {
    return JSON.parse(sessionStorage.getItem(KEY) || "[]");
  } catch {
    return [];
  }
}

function remember(list) {
  sessionStorage.setItem(KEY, JSON.stringify(list));
}

// start runs method path as an operation titled title and shows it in the
// operations area until dismissed.
export async function start(method, path, title) {
  const url = path + (path.includes("?") ? "&" : "?") + "async=true";
  const key = "local-" + Date.now();
  show(key, { title, running: true, text: "starting…" });
  try {
    const body = await call(method, url);
    if (body.status === 202 && body.operation_id) {
      panels.get(key).remove();
      panels.delete(key);
      remember([...remembered(), { id: body.operation_id, title }]);
      track(body.operation_id, title);
      return;
    }
    show(key, { title, running: false, ok: true, result: body });
  } catch (e) {
    show(key, { title, running: false, ok: false, error: e instanceof ApiError ? e.text() : String(e) });
  }
  refresh().catch(() => {});
}

// resume polls the operations this tab started before a reload.
export function resume() {
  for (const op of remembered()) track(op.id, op.title);
}

async function track(id, title) {
  show(id, { title, running: true, fraction: null, text: "waiting for the server…" });
  for (;;) {
    let op;
    try {
      op = await get("/api/v1/operations/" + encodeURIComponent(id));
    } catch (e) {
      if (!credential()) return; // signed out meanwhile: the work goes on, unwatched
      if (e instanceof ApiError && [0, 502, 503, 504].includes(e.status)) {
        // The server restarts or is busy: the work may go on; ask again.
        show(id, { title, running: true, fraction: null, text: "no answer from the server (" + e.text() + "); asking again…" });
        await new Promise((r) => setTimeout(r, RETRY_MS));
        continue;
      }
      if (e instanceof ApiError && e.status === 404) forgetOp(id);
      show(id, { title, running: false, ok: false, error: e instanceof ApiError ? e.text() : String(e) });
      return;
    }
    const v = view(op);
    show(id, { title, ...v });
    if (!v.running) {
      forgetOp(id);
      refresh().catch(() => {});
      return;
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

function forgetOp(id) {
  remember(remembered().filter((o) => o.id !== id));
}

// view reads an operation as GET /api/v1/operations/:id answers it:
// state running, succeeded or failed; progress in bytes done of the total
// expected (0 when not known); the error; the answer of its request.
export function view(op) {
  const state = op.state || "";
  const running = state === "running";
  const p = op.progress || {};
  const fraction = p.total_bytes > 0 ? Math.min(1, (p.done_bytes || 0) / p.total_bytes) : null;
  const text = p.done_bytes ? `${bytes(p.done_bytes)}${p.total_bytes ? " of about " + bytes(p.total_bytes) : ""}` : state;
  return { running, ok: state === "succeeded", status: state, fraction, text, error: op.error || "", result: op.result || null, op };
}

function show(key, v) {
  let panel = panels.get(key);
  if (!panel) {
    panel = el("section", { class: "op", "data-op": key, tabindex: "-1" });
    panels.set(key, panel);
    $("ops").prepend(panel);
  }
  panel.className = "op " + (v.running ? "running" : v.ok ? "done" : "failed");
  if (!v.running && !panel.dataset.ended) panel.dataset.ended = String(++endedCount); // the order they ended in
  fill(panel,
    el("h3", {}, v.title, " — ", v.running ? "running" : v.ok ? "done" : "failed"),
    v.running ? el("progress", v.fraction === null || v.fraction === undefined ? { "aria-label": v.title } : { max: 1, value: v.fraction, "aria-label": v.title }) : null,
    v.running && v.text ? el("p", { class: "muted" }, v.text) : null,
    v.error ? el("p", { class: "error", role: "alert" }, v.error) : null,
    v.result ? summary(v.result) : null,
    v.running ? null : button("Dismiss", () => { panel.remove(); panels.delete(key); }));
  trimFinished();
}

// KEEP_FINISHED is how many finished operations stay shown (newest first);
// older ones are dismissed so the view below stays in sight.
const KEEP_FINISHED = 2;

function trimFinished() {
  const finished = [...panels.entries()].filter(([, p]) => p.dataset.ended)
    .sort(([, a], [, b]) => Number(b.dataset.ended) - Number(a.dataset.ended));
  for (const [key, p] of finished.slice(KEEP_FINISHED)) {
    p.remove();
    panels.delete(key);
  }
}

// summary says what a finished operation did: the set it wrote or
// verified and its label, or for a restore each database and how to undo it.
export function summary(r) {
  const parts = [];
  if (Array.isArray(r.restores)) {
    for (const x of r.restores) {
      parts.push(el("p", {}, `${x.database}: ${x.mode}${r.dry_run ? " (dry run)" : ""}, ${x.written ?? 0} keys written in ${x.duration || "–"}`));
      if (x.safety_snapshot) {
        parts.push(el("p", {}, "Undo: "), el("pre", { class: "undo" }, el("code", {}, `flowg backups restore --wipe ${x.safety_snapshot}`)));
      }
      if (x.undo) parts.push(el("p", { class: "muted" }, x.undo));
    }
  } else if (r.id && r.label) {
    parts.push(el("p", {}, "Set ", el("a", { href: "#set/" + encodeURIComponent(r.id), class: "mono" }, r.id), `: ${r.label}`,
      r.problem ? ` — ${r.problem}` : ""));
  }
  for (const w of r.warnings || []) parts.push(el("p", { class: "warning" }, w));
  if (r.duration && !Array.isArray(r.restores)) parts.push(el("p", { class: "muted" }, "took " + r.duration));
  return el("div", { class: "summary" }, parts);
}

