// setdetail.js — one set: its files, and what the caller may do with it:
// verify, download a file, restore a database (dry run first, then merge
// or wipe after typing the database name, then the undo command).

import { el, fill, $, button, badge, bytes, count, nanos, when, age } from "./dom.js";
import { post, ApiError } from "./api.js";
import { canBackup, canRestore, canVerify } from "./scopes.js";
import { verifyButton, download } from "./actions.js";
import { start } from "./ops.js";

const restorable = (s) => s.label === "restore-verified" || s.label === "created, not restore-verified";

export function drawSet(set, id) {
  const root = $("set-detail");
  if (!set) {
    fill(root, el("h2", {}, "Set not found"), el("p", { class: "error" }, `The catalog holds no set ${id}: it may have been pruned.`));
    return;
  }
  const problem = set.problem || (set.verification && set.verification.error) || set.error || "";
  const out = el("div", { class: "action-out", "aria-live": "polite" });
  const facts = el("dl", { class: "facts" },
    fact("Label", badge(set.label)), problem ? fact("Problem", el("span", { class: "error" }, problem)) : null,
    fact("Created", `${when(set.created)} (${age(set.created)})`), fact("Trigger", set.trigger || "–"), fact("By", set.by || "–"),
    fact("Chain", set.parent ? el("a", { href: "#set/" + encodeURIComponent(set.parent), class: "mono" }, "builds on " + set.parent) : "full set"),
    set.full_reason ? fact("Why full", set.full_reason) : null,
    excludedFact(set),
    set.verification ? fact("Verified", `${when(set.verification.time)}: ${set.verification.ok ? "ok" : "failed"}`) : null);
  const rows = Object.entries(set.databases || {}).sort(([a], [b]) => a.localeCompare(b)).map(([db, d]) =>
    el("tr", { "data-db": db },
      el("th", { scope: "row" }, db),
      el("td", { "data-label": "File" }, d.file || "–"),
      el("td", { "data-label": "Size", class: "num" }, bytes(d.bytes)),
      el("td", { "data-label": "Keys", class: "num" }, count(d.keys)),
      el("td", { "data-label": "Duration", class: "num" }, nanos(d.duration_ns)),
      el("td", { "data-label": "SHA-256", class: "mono hash", title: d.sha256 || "" }, (d.sha256 || "–").slice(0, 12)),
      el("td", { "data-label": "Actions", class: "row-actions" }, el("div", {},
        canBackup(db) && set.status === "complete" ? button("Download", () => download(set, db, out), { "data-action": "download" }) : null,
        canRestore(db) && restorable(set) ? button("Restore…", () => restoreFlow(set, db, out), { "data-action": "restore" }) : null))));
  fill(root,
    el("div", { class: "bar" }, el("h2", { class: "mono" }, set.id), el("div", { class: "actions" }, canVerify(set) && set.status === "complete" ? verifyButton(set) : null)),
    facts,
    el("div", { class: "table-wrap" }, el("table", { class: "table", id: "set-files" },
      el("caption", {}, "Files of this set"),
      el("thead", {}, el("tr", {}, ["Database", "File", "Size", "Keys", "Duration", "SHA-256", "Actions"].map((h) => el("th", { scope: "col" }, h)))),
      el("tbody", {}, rows))),
    out);
}

// excludedFact names the streams the set left out (--exclude-stream), which
// a wipe restore of it keeps as they are.
function excludedFact(set) {
  const globs = Object.values(set.databases || {}).flatMap((d) => d.excluded_streams || []);
  return globs.length ? fact("Streams left out", `${globs.join(", ")} (a wipe restore keeps their current data)`) : null;
}

function fact(term, value) {
  return [el("dt", {}, term), el("dd", {}, value)];
}

// restoreFlow runs the dry run of restoring db from set and shows what it
// would add, overwrite and remove, then the confirmed restore.
async function restoreFlow(set, db, out) {
  const base = `/api/v1/backups/${encodeURIComponent(set.id)}/restore?only=${db}`;
  out.dataset.busy = "restore"; // no redraw of the view until the form is done with
  fill(out, el("p", { class: "muted" }, `Dry run: comparing ${db} of ${set.id} with the server's database…`));
  let plan;
  try {
    const r = await post(base + "&dry_run=true");
    plan = (r.restores && r.restores[0] && r.restores[0].plan) || {};
  } catch (e) {
    fill(out, el("p", { class: "error", role: "alert" }, "Dry run refused: " + (e instanceof ApiError ? e.text() : String(e))));
    delete out.dataset.busy;
    return;
  }
  const typed = el("input", { id: "confirm-db", autocomplete: "off", spellcheck: "false", "aria-describedby": "confirm-help" });
  const mode = (v, checked) => el("label", { class: "radio" },
    el("input", { type: "radio", name: "restore-mode", value: v, checked }), v === "merge"
      ? "Merge: add and overwrite keys, keep the others"
      : `Wipe: replace the database; ${count(plan.removed_by_wipe)} key(s) only the server holds are removed`);
  const go = el("button", { type: "submit", class: "danger", disabled: true, "data-action": "confirm-restore" }, `Restore ${db}`);
  const form = el("form", { class: "panel restore", "aria-label": "Restore " + db },
    el("h3", {}, `Restore ${db} from ${set.id}`),
    el("table", { class: "plan", id: "plan" }, el("caption", {}, "Dry run: nothing was written"), el("tbody", {},
      planRow("Added (the database lacks them)", plan.added), planRow("Overwritten (another value)", plan.overwritten),
      planRow("Unchanged", plan.unchanged), planRow("Removed, with wipe only", plan.removed_by_wipe),
      plan.expired_skipped ? planRow("Expired, skipped", plan.expired_skipped) : null)),
    (plan.warnings || []).map((w) => el("p", { class: "warning" }, w)),
    el("fieldset", {}, el("legend", {}, "Mode"), mode("merge", true), mode("wipe", false)),
    el("label", { for: "confirm-db" }, `Type the database name (${db}) to confirm`), typed,
    el("p", { id: "confirm-help", class: "muted" }, "A safety snapshot of the database is taken first; the undo command is shown when it is done."),
    el("div", { class: "actions" }, go, el("button", { type: "button", "data-action": "cancel" }, "Cancel")));
  typed.addEventListener("input", () => { go.disabled = typed.value.trim() !== db; });
  form.querySelector('[data-action="cancel"]').addEventListener("click", () => {
    delete out.dataset.busy;
    fill(out);
  });
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    if (typed.value.trim() !== db) return;
    const wipe = form.querySelector('input[name="restore-mode"]:checked').value === "wipe";
    delete out.dataset.busy;
    fill(out, el("p", { class: "muted" }, `Restoring ${db} (${wipe ? "wipe" : "merge"}): see the progress above.`));
    start("POST", base + (wipe ? "&wipe=true" : ""), `Restore ${db} from ${set.id} (${wipe ? "wipe" : "merge"})`);
    window.scrollTo(0, 0);
  });
  fill(out, form);
  typed.focus();
}

function planRow(what, n) {
  return el("tr", {}, el("th", { scope: "row" }, what), el("td", { class: "num" }, count(n ?? 0)));
}
