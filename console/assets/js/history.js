// history.js — every backup, verify and restore, newest first, from
// GET /api/v1/operations; running ones show live progress (polled).

import { el, fill, $, button, when, seconds, plural } from "./dom.js";
import { get, ApiError } from "./api.js";
import { view } from "./ops.js";

const POLL_MS = 1000;
let timer = null;

// drawHistory reads the history and draws it; while an operation runs and
// the history is shown it reads it again every POLL_MS.
export async function drawHistory(isShown) {
  clearTimeout(timer);
  const table = $("history-table");
  let list, next;
  try {
    const r = await get("/api/v1/operations");
    list = Array.isArray(r.operations) ? r.operations : [];
    next = r.next_before || "";
  } catch (e) {
    const text = e instanceof ApiError && e.status === 404 && e.code === "no_route"
      ? "This server keeps no operation history (GET /api/v1/operations is missing): update flowg."
      : e instanceof ApiError ? e.text() : String(e);
    fill(table, el("caption", {}, "History"), el("tbody", {}, el("tr", {}, el("td", { class: "error" }, text))));
    return;
  }
  const head = el("thead", {}, el("tr", {}, ["Started", "Operation", "Trigger", "By", "Result", "Duration"].map((h) => el("th", { scope: "col" }, h))));
  const body = el("tbody", {}, list.length ? list.map(opRow)
    : el("tr", {}, el("td", { colspan: 6, class: "muted" }, "No backup, verify or restore yet.")));
  fill(table, el("caption", {}, `${plural(list.length, "operation")}, newest first`), head, body);
  fill($("history-more"), next ? button("Show older operations", () => older(next, body, table)) : null);
  if (list.some((op) => view(op).running) && isShown()) {
    timer = setTimeout(() => drawHistory(isShown), POLL_MS);
  }
}

// older appends the page of operations before the id next, and a button
// for the page after it.
async function older(next, body, table) {
  clearTimeout(timer); // a redraw would drop the pages shown
  try {
    const r = await get("/api/v1/operations?before=" + encodeURIComponent(next));
    for (const op of r.operations || []) body.appendChild(opRow(op));
    fill(table.querySelector("caption"), `${plural(body.rows.length, "operation")}, newest first`);
    fill($("history-more"), r.next_before ? button("Show older operations", () => older(r.next_before, body, table)) : null);
  } catch (e) {
    fill($("history-more"), el("p", { class: "error", role: "alert" }, e instanceof ApiError ? e.text() : String(e)));
  }
}

function opRow(op) {
  const v = view(op);
  const dur = v.running ? (Date.now() - Date.parse(op.started_at)) / 1000 : op.duration_seconds;
  const set = op.set_id ? el("a", { href: "#set/" + encodeURIComponent(op.set_id), class: "mono" }, op.set_id) : null;
  return el("tr", { "data-op": op.id || "", class: v.running ? "running" : "" },
    el("td", { "data-label": "Started" }, when(op.started_at)),
    el("td", { "data-label": "Operation" }, op.kind || "operation", op.dry_run ? " (dry run)" : "", set ? [" of set ", set] : null,
      (op.databases || []).length ? el("small", {}, op.databases.join(", ")) : null),
    el("td", { "data-label": "Trigger" }, op.trigger || "–"),
    el("td", { "data-label": "By", class: "by" }, op.who || "–"),
    el("td", { "data-label": "Result" },
      v.running ? [el("progress", typeof v.fraction === "number" ? { max: 1, value: v.fraction, "aria-label": "progress" } : { "aria-label": "progress" }), " ", v.text]
        : el("span", { class: v.ok ? "badge ok" : "badge bad" }, v.status || "unknown"),
      v.error ? el("small", { class: "error" }, v.error) : null),
    el("td", { "data-label": "Duration", class: "num" }, seconds(dur)));
}
