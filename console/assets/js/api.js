// api.js — the HTTP API client: the credential kept in sessionStorage,
// every call with Authorization: Bearer jwt:… or pat:…, and errors turned
// into ApiError {status, code, error, hint}.

const KEY = "flowg.credential";

export class ApiError extends Error {
  constructor(status, body) {
    super(body.error || `HTTP ${status}`);
    this.status = status;
    this.code = body.code || `http_${status}`;
    this.hint = body.hint || "";
  }
  // text is what the page shows: the error, its hint, and the status.
  text() {
    return `${this.message}${this.hint ? " — " + this.hint : ""} (HTTP ${this.status}, ${this.code})`;
  }
}

export function credential() {
  return sessionStorage.getItem(KEY);
}

export function forget() {
  sessionStorage.removeItem(KEY);
}

// login exchanges a user name and password for a JWT and keeps it.
export async function login(username, password) {
  const body = await call("POST", "/api/v1/auth/login", { username, password }, { anonymous: true });
  sessionStorage.setItem(KEY, "jwt:" + body.token);
}

// useToken keeps a personal access token, given as pat:ID_SECRET or ID_SECRET.
export function useToken(token) {
  token = token.trim();
  if (!/^pat:/i.test(token)) token = "pat:" + token;
  sessionStorage.setItem(KEY, token);
}

// call sends one request and answers the decoded JSON body ({} for none),
// with status set on it; a status of 400 or more throws ApiError.
export async function call(method, path, json, opts = {}) {
  const headers = { Accept: "application/json" };
  if (!opts.anonymous) {
    const cred = credential();
    if (!cred) throw new ApiError(401, { error: "not signed in", code: "unauthenticated" });
    headers.Authorization = "Bearer " + cred;
  }
  const init = { method, headers, cache: "no-store", credentials: "omit", referrerPolicy: "no-referrer" };
  if (json !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(json);
  }
  let res;
  try {
    res = await fetch(path, init);
  } catch (e) {
    throw new ApiError(0, { error: "the server did not answer: " + e.message, code: "network", hint: "check that flowg serve runs, then retry" });
  }
  const text = await res.text();
  let body = {};
  if (text) {
    try {
      body = JSON.parse(text);
    } catch {
      body = { error: text.slice(0, 300) };
    }
  }
  if (res.status >= 400) throw new ApiError(res.status, body);
  if (body && typeof body === "object") Object.defineProperty(body, "status", { value: res.status });
  return body;
}

export const get = (path) => call("GET", path);
export const post = (path, json) => call("POST", path, json);

// metrics fetches /metrics (no credential needed) and answers the samples of
// the metric name as {labels-string: value}.
export async function metric(name) {
  const res = await fetch("/metrics", { cache: "no-store", credentials: "omit" });
  if (!res.ok) return {};
  const out = {};
  for (const line of (await res.text()).split("\n")) {
    if (!line.startsWith(name)) continue;
    const m = line.match(/^([a-z_]+)(\{[^}]*\})?\s+(\S+)/);
    if (!m || m[1] !== name) continue;
    const db = (m[2] || "").match(/database="([^"]*)"/);
    out[db ? db[1] : ""] = Number(m[3]);
  }
  return out;
}
