// sets.js — the catalog as a table, newest first, and its chart.

import { el, fill, $, badge, bytes, nanos, when, age, plural } from "./dom.js";
import { drawChart } from "./chart.js";

export function drawSets(state) {
  drawChart($("chart"), state.sets);
  const head = el("thead", {}, el("tr", {}, ["Created", "Trigger", "By", "Databases", "Size", "Duration", "Label", "Chain"]
    .map((h) => el("th", { scope: "col" }, h))));
  const body = el("tbody", {});
  if (state.sets.length === 0) {
    body.appendChild(el("tr", {}, el("td", { colspan: 8, class: "muted" }, "The catalog holds no set yet.")));
  }
  for (const s of state.sets) body.appendChild(setRow(s));
  fill($("sets-table"), el("caption", {}, `${plural(state.sets.length, "set")} in ${state.catalog || "the catalog"}, newest first`), head, body);
}

function setRow(s) {
  const dbs = Object.entries(s.databases || {});
  const size = dbs.reduce((n, [, d]) => n + (d.bytes || 0), 0);
  const dur = dbs.reduce((n, [, d]) => n + (d.duration_ns || 0), 0);
  const problem = s.problem || (s.verification && s.verification.error) || s.error || "";
  return el("tr", { "data-set": s.id },
    el("td", { "data-label": "Created" }, el("a", { href: "#set/" + encodeURIComponent(s.id), class: "mono" }, s.id),
      el("small", {}, when(s.created) + " · " + age(s.created))),
    el("td", { "data-label": "Trigger" }, s.trigger || "–"),
    el("td", { "data-label": "By", class: "by" }, s.by || "–"),
    el("td", { "data-label": "Databases" }, dbs.map(([n]) => n).sort().join(", ") || "–"),
    el("td", { "data-label": "Size", class: "num" }, bytes(size), each(dbs, (d) => bytes(d.bytes))),
    el("td", { "data-label": "Duration", class: "num" }, nanos(dur), each(dbs, (d) => nanos(d.duration_ns))),
    el("td", { "data-label": "Label" }, badge(s.label), problem ? el("small", { class: "error" }, problem) : null),
    el("td", { "data-label": "Chain" }, s.parent
      ? el("span", {}, "builds on ", el("a", { href: "#set/" + encodeURIComponent(s.parent), class: "mono" }, s.parent))
      : "full"));
}

// each lists, for a set of more than one database, each one's value.
function each(dbs, value) {
  if (dbs.length < 2) return null;
  return dbs.slice().sort(([a], [b]) => a.localeCompare(b)).map(([n, d]) => el("small", {}, `${n} ${value(d)}`));
}
