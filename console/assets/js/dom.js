// dom.js — building elements without parsing markup, and formatting values.
// Every text a user sees becomes a text node (el's string children), so a
// name holding a script tag is shown as text, never run.

const SVG = "http://www.w3.org/2000/svg";

// el builds an element: attrs are set with setAttribute (on* attributes
// are refused), children are elements or strings (text nodes).
export function el(tag, attrs = {}, ...children) {
  return build(document.createElement(tag), attrs, children);
}

// svg builds an SVG element as el does.
export function svg(tag, attrs = {}, ...children) {
  return build(document.createElementNS(SVG, tag), attrs, children);
}

function build(node, attrs, children) {
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on")) throw new Error("el: event attributes are not allowed: " + k);
    node.setAttribute(k, v === true ? "" : String(v));
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const c of children) {
    if (c === undefined || c === null || c === false) continue;
    if (Array.isArray(c)) append(node, c);
    else if (c instanceof Node) node.appendChild(c);
    else node.appendChild(document.createTextNode(String(c)));
  }
}

// clear empties node and appends children.
export function fill(node, ...children) {
  node.replaceChildren();
  append(node, children);
  return node;
}

export function $(id) {
  return document.getElementById(id);
}

// button returns a <button type=button> calling onClick.
export function button(label, onClick, attrs = {}) {
  const b = el("button", { type: "button", ...attrs }, label);
  b.addEventListener("click", onClick);
  return b;
}

const UNITS = ["B", "KiB", "MiB", "GiB", "TiB"];

export function bytes(n) {
  if (typeof n !== "number" || !isFinite(n)) return "–";
  let i = 0;
  while (n >= 1024 && i < UNITS.length - 1) {
    n /= 1024;
    i++;
  }
  return (i === 0 ? String(Math.round(n)) : n.toFixed(n < 10 ? 1 : 0)) + " " + UNITS[i];
}

export function count(n) {
  if (typeof n !== "number" || !isFinite(n)) return "–";
  return n.toLocaleString("en");
}

// seconds formats a duration in seconds: 850 ms, 12.3 s, 4 min 05 s, 3 h 02 min.
export function seconds(s) {
  if (typeof s !== "number" || !isFinite(s) || s < 0) return "–";
  if (s === 0) return "0 s";
  if (s < 1) return (s < 0.01 ? (s * 1000).toFixed(1) : Math.round(s * 1000)) + " ms";
  if (s < 60) return s.toFixed(s < 10 ? 1 : 0) + " s";
  if (s < 3600) return Math.floor(s / 60) + " min " + String(Math.floor(s % 60)).padStart(2, "0") + " s";
  if (s < 172800) return Math.floor(s / 3600) + " h " + String(Math.floor((s % 3600) / 60)).padStart(2, "0") + " min";
  return Math.floor(s / 86400) + " days";
}

// plural says "1 set", "2 sets".
export function plural(n, word) {
  return `${count(n)} ${word}${n === 1 ? "" : "s"}`;
}

export function nanos(ns) {
  return typeof ns === "number" ? seconds(ns / 1e9) : "–";
}

// age says how long ago the instant t (an RFC 3339 string) was.
export function age(t, now = Date.now()) {
  const ms = Date.parse(t);
  if (!isFinite(ms)) return "–";
  const s = Math.max(0, (now - ms) / 1000);
  if (s < 60) return "just now";
  return seconds(s).replace(/ \d+ (s|min)$/, "") + " ago";
}

export function ageSeconds(t, now = Date.now()) {
  const ms = Date.parse(t);
  return isFinite(ms) ? (now - ms) / 1000 : Infinity;
}

// when formats an RFC 3339 instant as local "2026-12-06 07:04:05".
export function when(t) {
  const d = new Date(t);
  if (!t || isNaN(d)) return "–";
  const p = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

// labelClass maps a set label to the CSS class of its badge.
export function labelClass(label) {
  switch (label) {
    case "restore-verified": return "badge ok";
    case "created, not restore-verified": return "badge warn";
    case "running": return "badge run";
    default: return "badge bad";
  }
}

export function badge(label) {
  return el("span", { class: labelClass(label) }, label || "unknown");
}
