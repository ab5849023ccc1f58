// overview.js — one card per database: is it protected, and how old is
// the newest set one could restore?

import { el, fill, $, badge, bytes, count, age, ageSeconds, when, seconds } from "./dom.js";
import { DATABASES } from "./scopes.js";

// STALE is the age past which a database's newest restore-verified set no
// longer protects it well: a day, as the README's alert (26 h) allows one
// missed nightly run.
const STALE = 24 * 3600;

const usable = (s) => s.label === "restore-verified" || s.label === "created, not restore-verified";

export function drawOverview(state) {
  fill($("cards"), ...DATABASES.map((db) => card(db, state)));
}

function card(db, state) {
  const holding = state.sets.filter((s) => s.databases && s.databases[db]);
  const verified = holding.find((s) => s.label === "restore-verified");
  const newest = holding[0];
  const sized = holding.find(usable);
  const stale = !verified || ageSeconds(verified.created) > STALE;
  const entry = sized ? sized.databases[db] : null;
  const rows = [
    row("Newest restore-verified", verified ? setLink(verified, age(verified.created)) : "none",
      verified ? when(verified.created) : "no set of " + db + " was ever restore-verified"),
    row("Newest set", newest ? [badge(newest.label), " ", setLink(newest, age(newest.created))] : "none",
      newest ? `${newest.trigger || "?"} by ${newest.by || "?"}` : ""),
    row("Size", entry ? bytes(entry.bytes) : "–", entry ? count(entry.keys) + " keys" : ""),
  ];
  const span = state.journal.find((j) => j.database === db);
  if (span) {
    rows.push(row("Continuous window", `${when(span.from)} → ${when(span.to)}`,
      (span.gaps || []).length ? `${span.gaps.length} gap(s): ${span.gaps.join("; ")}` : "no gaps"));
    const lag = state.lag[db];
    rows.push(row("Lag", typeof lag === "number" ? seconds(lag) : "–", lag > 60 ? "changes older than a minute are not shipped yet" : ""));
  }
  return el("article", { class: "card" + (stale ? " stale" : ""), "data-db": db, "aria-label": db + " database" },
    el("header", {}, el("h3", {}, db), verified ? badge(stale ? "verified set older than a day" : "restore-verified") : badge("not protected")),
    stale ? el("p", { class: "warning" }, verified
      ? `The newest restore-verified set of ${db} is ${age(verified.created)}: take and verify a new one.`
      : `No restore-verified set holds ${db}: take a set with verify.`) : null,
    el("dl", {}, rows));
}

function row(term, value, note) {
  return [el("dt", {}, term), el("dd", {}, value, note ? el("small", {}, note) : null)];
}

function setLink(set, text) {
  return el("a", { href: "#set/" + encodeURIComponent(set.id), title: set.id }, text);
}
