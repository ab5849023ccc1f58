// scopes.js — which actions the signed-in caller may see. The API stays
// the judge: hiding a button is a courtesy, a 403 is still shown plainly.

export const DATABASES = ["auth", "config", "logs"];

const READ = {
  auth: ["read_acls"],
  config: ["read_pipelines", "read_transformers", "read_alerts"],
  logs: ["read_streams"],
};
const WRITE = {
  auth: ["write_acls"],
  config: ["write_pipelines", "write_transformers", "write_alerts"],
  logs: ["write_streams"],
};

let held = null; // null: unknown (a server without /auth/me), every action shown

export function setScopes(scopes) {
  held = Array.isArray(scopes) ? new Set(scopes) : null;
}

function all(list) {
  return held === null || list.every((s) => held.has(s));
}

// canBackup: take, verify, download or list db (its read scopes).
export const canBackup = (db) => all(READ[db] || ["?"]);
// canRestore: restore db (its write scopes).
export const canRestore = (db) => all(WRITE[db] || ["?"]);
export const backupable = () => DATABASES.filter(canBackup);
// canVerify: every database of the set.
export const canVerify = (set) => Object.keys(set.databases || {}).every(canBackup);
