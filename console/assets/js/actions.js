// actions.js — what a caller may do with the catalog, each button shown
// only when its scopes allow: take a set, verify a set, download a file.

import { el, button, fill } from "./dom.js";
import { post, credential, ApiError } from "./api.js";
import { backupable, DATABASES } from "./scopes.js";
import { start } from "./ops.js";

// takeSetButton answers the "Take a set" button, or null when the caller
// may back up no database. The set holds the databases it may back up,
// and is verified at once.
export function takeSetButton() {
  const dbs = backupable();
  if (dbs.length === 0) return null;
  const only = dbs.length === DATABASES.length ? "" : "&only=" + dbs.join(",");
  return button("Take a set (with verify)", () => start("POST", "/api/v1/backups?verify=true" + only, "Take a set of " + dbs.join(", ")),
    { class: "primary", "data-action": "take" });
}

export function verifyButton(set) {
  return button("Verify this set", () => start("POST", `/api/v1/backups/${encodeURIComponent(set.id)}/verify`, "Verify " + set.id),
    { "data-action": "verify" });
}

// download fetches a single-use link for the file of db in set and lets
// the browser stream it; a server without links gets the file fetched
// with the credential instead (held in memory, fine for small files).
export async function download(set, db, out) {
  const base = `/api/v1/backups/${encodeURIComponent(set.id)}`;
  try {
    const link = await post(`${base}/${db}/link`);
    save(link.url, "");
    fill(out, el("p", { class: "muted" }, `Downloading ${db} of ${set.id} (single-use link, expires ${link.expires_at || "soon"}).`));
  } catch (e) {
    if (!(e instanceof ApiError) || (e.status !== 404 && e.status !== 405)) {
      fill(out, el("p", { class: "error", role: "alert" }, e instanceof ApiError ? e.text() : String(e)));
      return;
    }
    try {
      const res = await fetch(`${base}/${db}`, { headers: { Authorization: "Bearer " + credential() }, credentials: "omit", cache: "no-store" });
      if (!res.ok) {
        const body = await res.json().catch(() => ({}));
        throw new ApiError(res.status, body);
      }
      const url = URL.createObjectURL(await res.blob());
      save(url, set.databases[db].file || db + ".db");
      setTimeout(() => URL.revokeObjectURL(url), 60000);
      fill(out, el("p", { class: "muted" }, `Downloaded ${db} of ${set.id}.`));
    } catch (e2) {
      fill(out, el("p", { class: "error", role: "alert" }, e2 instanceof ApiError ? e2.text() : String(e2)));
    }
  }
}

function save(url, name) {
  const a = el("a", { href: url, download: name, hidden: true });
  document.body.appendChild(a);
  a.click();
  a.remove();
}

