// Charts on uPlot. Each chart is created once per page and then fed new
// data with `update(...)` (uPlot's setData), so auto-refresh never rebuilds
// the canvas and nothing flickers.

import uPlot from '/ui/vendor/uPlot.esm.js';
import { formatValue } from './format.js';

export const COLORS = {
  invocations: '#3867d6',
  errors: '#d64545',
  p50: '#3867d6',
  p99: '#8854d0',
  rate: '#e1702a',
  init: '#e1702a',
  gbs: '#138a7e',
  cold: '#e1702a',
  prewarmed: '#c9a227',
  warm: '#2f9e5f',
};

const AXIS = { stroke: '#5b6472', grid: { stroke: '#edf0f4', width: 1 }, ticks: { stroke: '#dde2e8', width: 1 } };
const FONT = '11px system-ui, -apple-system, "Segoe UI", sans-serif';

const fromZero = (u, min, max) => [0, max > 0 ? max * 1.15 : 1];
const shortNumber = new Intl.NumberFormat('en-US', { notation: 'compact', maximumFractionDigits: 2 });

/** Axis labels for a `data-format` kind. */
function axisLabel(format) {
  if (format === 'rate') return (v) => `${Math.round(v * 100)}%`;
  if (format === 'ms') return (v) => `${shortNumber.format(v)} ms`;
  if (format === 'gbs') return (v) => (v === 0 ? '0' : v < 0.01 ? v.toExponential(0) : shortNumber.format(v));
  return (v) => (Number.isInteger(v) ? shortNumber.format(v) : '');
}

/** Keeps a chart as wide as its container. */
function fitWidth(container, u, height) {
  const observer = new ResizeObserver(() => {
    const width = Math.floor(container.clientWidth);
    if (width > 0 && width !== u.width) u.setSize({ width, height });
  });
  observer.observe(container);
  return () => observer.disconnect();
}

function seriesOptions(s) {
  const bars = s.kind === 'bars';
  return {
    label: s.label,
    stroke: s.color,
    width: bars ? 1 : 2,
    fill: bars ? `${s.color}b3` : undefined,
    paths: bars ? uPlot.paths.bars({ size: [0.72, 28], gap: 1 }) : undefined,
    points: bars ? { show: false } : { show: true, size: 5, fill: s.color },
    spanGaps: false,
    value: (u, v) => formatValue(v, s.format),
  };
}

/**
 * A chart over the metrics series: `series` is `[{ label, color, kind: 'bars' | 'line', format }]`;
 * `update(times, ...columns)` takes bucket start times (epoch seconds) and one column per series.
 */
export function createTimeChart(container, { series, format = 'count', height = 190, yRange = fromZero }) {
  const opts = {
    width: Math.max(200, Math.floor(container.clientWidth)),
    height,
    padding: [8, 8, 0, 0],
    series: [{ value: (u, v) => (v == null ? '' : new Date(v * 1000).toLocaleString('en-GB', { hour12: false })) }, ...series.map(seriesOptions)],
    scales: { x: { time: true }, y: { range: yRange } },
    axes: [
      { ...AXIS, font: FONT, space: 70 },
      { ...AXIS, font: FONT, size: 62, space: 28, values: (u, splits) => splits.map(axisLabel(format)) },
    ],
    legend: { live: true },
    cursor: { drag: { x: false, y: false }, points: { size: 6 } },
    select: { show: false },
  };
  const u = new uPlot(opts, [[], ...series.map(() => [])], container);
  const unfit = fitWidth(container, u, height);
  return {
    update: (times, ...columns) => u.setData([times, ...columns]),
    destroy: () => {
      unfit();
      u.destroy();
    },
  };
}

/** A small bar sparkline of calls per bucket, for the functions list. */
export function createSparkline(container, { width = 150, height = 30, color = COLORS.invocations } = {}) {
  const u = new uPlot(
    {
      width,
      height,
      padding: [2, 0, 0, 0],
      series: [{}, { stroke: color, fill: `${color}99`, width: 1, paths: uPlot.paths.bars({ size: [0.8, 6], gap: 0 }), points: { show: false } }],
      scales: { x: { time: true }, y: { range: fromZero } },
      axes: [{ show: false }, { show: false }],
      legend: { show: false },
      cursor: { show: false },
      select: { show: false },
    },
    [[], []],
    container,
  );
  return { update: (times, values) => u.setData([times, values]), destroy: () => u.destroy() };
}

const KINDS = ['cold', 'prewarmed', 'warm'];
const PERCENTILES = ['p50', 'p95', 'p99'];
// Grouped bars on a numeric axis: percentile group g, start kind k sits at x = 4g + k.
const SLOTS = PERCENTILES.flatMap((_, g) => KINDS.map((_, k) => 4 * g + k));

/** Latency p50/p95/p99 side by side for cold, pre-warmed and warm calls; `update(latencyMs)`. */
export function createDistributionChart(container, { height = 210 } = {}) {
  const labels = { cold: 'cold', prewarmed: 'pre-warmed', warm: 'warm' };
  const valueLabels = (u) => {
    const { ctx } = u;
    const ratio = uPlot.pxRatio;
    ctx.save();
    ctx.font = `${10 * ratio}px system-ui, sans-serif`;
    ctx.fillStyle = '#3c4452';
    ctx.textAlign = 'center';
    for (let s = 1; s < u.series.length; s++) {
      u.data[s].forEach((v, i) => {
        if (v == null) return;
        const x = u.valToPos(u.data[0][i], 'x', true);
        const y = u.valToPos(v, 'y', true);
        ctx.fillText(shortNumber.format(v), x, y - 4 * ratio);
      });
    }
    ctx.restore();
  };
  const u = new uPlot(
    {
      width: Math.max(200, Math.floor(container.clientWidth)),
      height,
      padding: [16, 8, 0, 0],
      series: [
        {},
        ...KINDS.map((kind) => ({
          label: labels[kind],
          stroke: COLORS[kind],
          fill: `${COLORS[kind]}cc`,
          width: 1,
          paths: uPlot.paths.bars({ size: [0.86, 60], gap: 2 }),
          points: { show: false },
        })),
      ],
      scales: { x: { time: false, range: [-0.8, 10.8] }, y: { range: fromZero } },
      axes: [
        { ...AXIS, font: FONT, grid: { show: false }, splits: () => [1, 5, 9], values: (u, splits) => splits.map((s) => PERCENTILES[(s - 1) / 4]) },
        { ...AXIS, font: FONT, size: 62, values: (u, splits) => splits.map(axisLabel('ms')) },
      ],
      legend: { live: false },
      cursor: { show: false },
      select: { show: false },
      hooks: { draw: [valueLabels] },
    },
    [SLOTS, ...KINDS.map(() => SLOTS.map(() => null))],
    container,
  );
  const unfit = fitWidth(container, u, height);
  return {
    update(latencyMs) {
      const columns = KINDS.map((kind, k) => SLOTS.map((x) => (x % 4 === k ? latencyMs[kind][PERCENTILES[(x - k) / 4]] : null)));
      u.setData([SLOTS, ...columns]);
    },
    destroy: () => {
      unfit();
      u.destroy();
    },
  };
}

/** Bucket start times in epoch seconds, as uPlot wants them. */
export const bucketTimes = (series) => series.map((p) => Date.parse(p.t) / 1000);
