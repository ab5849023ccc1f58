// chart.js — set size (bars) and duration (line) over time, in SVG.

import { svg, el, fill, bytes, seconds, when } from "./dom.js";

const H = 240, PAD = { l: 64, r: 64, t: 12, b: 34 };

function total(set, field) {
  return Object.values(set.databases || {}).reduce((n, d) => n + (Number(d[field]) || 0), 0);
}

// drawChart draws the complete sets of sets (newest first) into node.
export function drawChart(node, sets) {
  const points = sets.filter((s) => s.status === "complete" && s.databases)
    .map((s) => ({ id: s.id, t: Date.parse(s.created), size: total(s, "bytes"), dur: total(s, "duration_ns") / 1e9 }))
    .filter((p) => isFinite(p.t)).reverse();
  if (points.length === 0) {
    fill(node, el("p", { class: "muted" }, "No complete set yet: the chart appears with the first one."));
    return;
  }
  // The drawing is as wide as the space it gets, so its text keeps its size
  // from a phone to a wide screen.
  const W = Math.max(360, Math.min(1400, Math.round(node.clientWidth || 760)));
  const t0 = points[0].t, t1 = points[points.length - 1].t;
  const maxSize = Math.max(1, ...points.map((p) => p.size));
  const maxDur = Math.max(0.001, ...points.map((p) => p.dur));
  const iw = W - PAD.l - PAD.r, ih = H - PAD.t - PAD.b;
  const bw = Math.max(3, Math.min(18, iw / points.length / 2));
  const x = (t) => PAD.l + bw + (t1 === t0 ? (iw - 2 * bw) / 2 : ((t - t0) / (t1 - t0)) * (iw - 2 * bw));
  const ys = (v) => PAD.t + ih - (v / maxSize) * ih;
  const yd = (v) => PAD.t + ih - (v / maxDur) * ih;

  const root = svg("svg", { viewBox: `0 0 ${W} ${W < 560 ? H + 14 : H}`, role: "img", class: "chart-svg",
    "aria-label": `Size and duration of ${points.length} sets` });
  root.appendChild(svg("title", {}, `Size and duration of ${points.length} sets`));
  for (let i = 0; i <= 4; i++) {
    const y = PAD.t + (ih * i) / 4;
    root.appendChild(svg("line", { x1: PAD.l, x2: W - PAD.r, y1: y, y2: y, class: "grid" }));
    root.appendChild(svg("text", { x: PAD.l - 6, y: y + 4, class: "axis size", "text-anchor": "end" }, bytes(maxSize * (1 - i / 4))));
    root.appendChild(svg("text", { x: W - PAD.r + 6, y: y + 4, class: "axis dur" }, seconds(maxDur * (1 - i / 4))));
  }
  root.appendChild(svg("text", { x: PAD.l, y: H - 8, class: "axis" }, when(new Date(t0).toISOString())));
  // On a narrow drawing the last date goes on the line below the first.
  const narrow = W < 560;
  if (t1 !== t0) root.appendChild(svg("text", { x: W - PAD.r, y: narrow ? H + 8 : H - 8, class: "axis", "text-anchor": "end" }, when(new Date(t1).toISOString())));
  for (const p of points) {
    const y = ys(p.size);
    root.appendChild(svg("rect", { x: x(p.t) - bw / 2, y, width: bw, height: PAD.t + ih - y, class: "bar" },
      svg("title", {}, `${p.id}: ${bytes(p.size)}, ${seconds(p.dur)}`)));
  }
  root.appendChild(svg("polyline", { class: "line", points: points.map((p) => `${x(p.t)},${yd(p.dur)}`).join(" ") }));
  for (const p of points) {
    root.appendChild(svg("circle", { cx: x(p.t), cy: yd(p.dur), r: 3.5, class: "dot" },
      svg("title", {}, `${p.id}: ${seconds(p.dur)}`)));
  }
  fill(node, root);
}
