// One SVG chart per key result: check-ins over time, the ideal line from start to target, the projection.
import { num, svg } from "./ui.js";

const W = 560;
const H = 200;
const PAD = { left: 48, right: 16, top: 14, bottom: 26 };

function day(value) {
  return new Date(value.length === 10 ? `${value}T00:00:00Z` : value).getTime();
}

export function keyResultChart(kr, cycle) {
  const t0 = day(cycle.startsOn);
  const t1 = day(cycle.endsOn) + 86400000;
  const points = kr.checkIns.map((c) => ({ t: day(c.measuredAt), v: c.value })).sort((a, b) => a.t - b.t);
  const values = [kr.startValue, kr.targetValue, ...points.map((p) => p.v)];
  if (kr.projectedValue !== null && kr.projectedValue !== undefined) values.push(kr.projectedValue);
  let lo = Math.min(...values);
  let hi = Math.max(...values);
  if (hi === lo) {
    hi += Math.abs(hi) * 0.1 || 1;
    lo -= Math.abs(lo) * 0.1 || 1;
  }
  const margin = (hi - lo) * 0.08;
  lo -= margin;
  hi += margin;
  const tMax = Math.max(t1, ...points.map((p) => p.t));
  const x = (t) => PAD.left + ((t - t0) / (tMax - t0)) * (W - PAD.left - PAD.right);
  const y = (v) => PAD.top + (1 - (v - lo) / (hi - lo)) * (H - PAD.top - PAD.bottom);
  const fmt = (v) => num(v, kr.unit);

  const last = points[points.length - 1];
  const summary = `${kr.title}: start ${fmt(kr.startValue)}, target ${fmt(kr.targetValue)}, ${points.length} check-ins${last ? `, latest ${fmt(last.v)}` : ""}${kr.projectedValue != null ? `, projected ${fmt(kr.projectedValue)} at cycle end` : ""}.`;
  const titleId = `chart-${kr.id}-title`;
  const chart = svg("svg", { viewBox: `0 0 ${W} ${H}`, class: "chart", role: "img", "aria-labelledby": titleId, "data-points": String(points.length) }, svg("title", { id: titleId }, summary));

  // Grid with three value labels.
  for (const v of [lo + margin, (lo + hi) / 2, hi - margin]) {
    chart.append(
      svg("line", { x1: PAD.left, x2: W - PAD.right, y1: y(v), y2: y(v), class: "chart__grid" }),
      svg("text", { x: PAD.left - 6, y: y(v) + 4, class: "chart__label", "text-anchor": "end" }, num(v)),
    );
  }
  const dateLabel = (t) => new Date(t).toLocaleDateString("en-US", { month: "short", day: "numeric", timeZone: "UTC" });
  chart.append(
    svg("text", { x: PAD.left, y: H - 6, class: "chart__label" }, dateLabel(t0)),
    svg("text", { x: W - PAD.right, y: H - 6, class: "chart__label", "text-anchor": "end" }, dateLabel(t1 - 86400000)),
  );
  // "Today" marker helps read whether the line is ahead of or behind the ideal.
  const now = Date.now();
  if (now > t0 && now < tMax) chart.append(svg("line", { x1: x(now), x2: x(now), y1: PAD.top, y2: H - PAD.bottom, class: "chart__today" }));

  chart.append(svg("line", { x1: x(t0), y1: y(kr.startValue), x2: x(t1), y2: y(kr.targetValue), class: "chart__ideal" }, svg("title", "Straight line from start to target")));
  chart.append(svg("circle", { cx: x(t1), cy: y(kr.targetValue), r: 4, class: "chart__target" }, svg("title", `Target ${fmt(kr.targetValue)}`)));

  if (last && kr.projectedValue !== null && kr.projectedValue !== undefined && last.t < t1) {
    chart.append(svg("line", { x1: x(last.t), y1: y(last.v), x2: x(t1), y2: y(kr.projectedValue), class: "chart__projection" }, svg("title", `Projected ${fmt(kr.projectedValue)} at cycle end`)));
  }
  if (points.length) {
    const d = [`M${x(t0).toFixed(1)},${y(kr.startValue).toFixed(1)}`, ...points.map((p) => `L${x(p.t).toFixed(1)},${y(p.v).toFixed(1)}`)].join(" ");
    chart.append(svg("path", { d, class: "chart__actual" }));
    for (const p of points) {
      chart.append(svg("circle", { cx: x(p.t), cy: y(p.v), r: 3, class: "chart__point" }, svg("title", `${dateLabel(p.t)}: ${fmt(p.v)}`)));
    }
  }
  return chart;
}

export function chartLegend() {
  const item = (cls, text) => {
    const mark = svg("svg", { width: 22, height: 8, "aria-hidden": "true" }, svg("line", { x1: 0, y1: 4, x2: 22, y2: 4, class: cls }));
    const span = document.createElement("span");
    span.className = "legend__item";
    span.append(mark, text);
    return span;
  };
  const legend = document.createElement("div");
  legend.className = "legend";
  legend.append(item("chart__actual", "Check-ins"), item("chart__ideal", "Start → target"), item("chart__projection", "Projection"));
  return legend;
}
