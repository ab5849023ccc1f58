// app.js — the console's entry point: sign in and out, the views
// (#overview, #sets, #set/ID, #history) and their redraw.

import { fill, $ } from "./dom.js";
import { ApiError, credential, forget, get, login, useToken } from "./api.js";
import { setScopes } from "./scopes.js";
import { state, onChange, refresh, findSet } from "./state.js";
import { drawOverview } from "./overview.js";
import { drawSets } from "./sets.js";
import { drawSet } from "./setdetail.js";
import { drawHistory } from "./history.js";
import { takeSetButton } from "./actions.js";
import { resume } from "./ops.js";

const REFRESH_MS = 15000;
let refresher = null;

function currentView() {
  const h = location.hash.replace(/^#/, "");
  if (h.startsWith("set/")) return { name: "set", id: decodeURIComponent(h.slice(4)) };
  return { name: ["overview", "sets", "history"].includes(h) ? h : "overview" };
}

function showView(name) {
  for (const v of document.querySelectorAll(".view")) v.hidden = v.id !== "view-" + name;
  for (const a of document.querySelectorAll("#nav a")) {
    if (a.dataset.view === name || (name === "set" && a.dataset.view === "sets")) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
}

function notice(text, kind = "error") {
  const n = $("notice");
  n.hidden = !text;
  n.className = "notice " + kind;
  fill(n, text || "");
}

function draw() {
  if (!credential()) return;
  const v = currentView();
  showView(v.name);
  fill($("overview-actions"), takeSetButton());
  fill($("sets-actions"), takeSetButton());
  if (v.name === "overview") drawOverview(state);
  if (v.name === "sets") drawSets(state);
  if (v.name === "set") drawSet(findSet(v.id), v.id);
  if (v.name === "history") drawHistory(() => currentView().name === "history");
}

// enter reads who the caller is and the catalog, then shows the console.
async function enter() {
  try {
    const me = await get("/api/v1/auth/me").catch((e) => {
      if (e instanceof ApiError && e.status === 404) return { user: "", scopes: null }; // an older server: the API judges alone
      throw e;
    });
    state.me = me;
    setScopes(me.scopes);
    fill($("who-name"), me.user ? `${me.user}${me.kind === "token" ? " (token)" : ""}` : "signed in");
    $("who").hidden = false;
    $("nav").hidden = false;
    notice("");
    await refresh().catch((e) => {
      if (e instanceof ApiError && e.status === 403) {
        notice("You may not list the backup catalog: " + e.text());
        return;
      }
      throw e;
    });
    draw();
    resume();
    clearInterval(refresher);
    refresher = setInterval(() => refresh().catch((e) => {
      if (e instanceof ApiError && e.status === 401) signOut(e.text()); // expired or revoked meanwhile
    }), REFRESH_MS);
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) {
      signOut(e.text());
      return;
    }
    notice(e instanceof ApiError ? e.text() : String(e));
  }
}

function signOut(why) {
  forget();
  sessionStorage.removeItem("flowg.operations");
  clearInterval(refresher);
  state.me = null;
  state.sets = [];
  setScopes([]);
  $("who").hidden = true;
  $("nav").hidden = true;
  fill($("ops"));
  showView("signin");
  const err = $("signin-error");
  err.hidden = !why;
  fill(err, why || "");
  $("username").focus();
}

function signinError(e) {
  const err = $("signin-error");
  err.hidden = false;
  fill(err, e instanceof ApiError ? e.text() : String(e));
}

function wire() {
  $("form-password").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try {
      await login($("username").value, $("password").value);
      $("password").value = "";
      $("signin-error").hidden = true;
      await enter();
    } catch (e) {
      $("password").value = "";
      $("password").focus();
      signinError(e);
    }
  });
  $("form-token").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    useToken($("token").value);
    $("token").value = "";
    $("signin-error").hidden = true;
    await enter();
  });
  $("signout").addEventListener("click", () => signOut(""));
  // The skip link moves the focus, not the view (its #main is no view).
  document.querySelector(".skip").addEventListener("click", (ev) => {
    ev.preventDefault();
    $("main").focus();
  });
  window.addEventListener("hashchange", () => {
    draw();
    $("main").focus({ preventScroll: true });
  });
  // A refresh redraws the view, except a set whose restore is under way
  // (its dry run asked, or its form open): the typed confirmation is kept.
  onChange(() => {
    if (currentView().name === "set" && document.querySelector("#set-detail [data-busy]")) return;
    draw();
  });
}

wire();
if (credential()) enter();
else signOut("");

