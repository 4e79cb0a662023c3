// Small SVG charts for the numbers page, drawn from data with no library: stacked bars
// (yield per hour), a histogram with marker lines (recent pass scores against the boundary),
// and ROC curves (the last evaluation). All text is set with textContent.

import { s, fmtScore } from './dom.js';

const M = { left: 48, right: 14, top: 12, bottom: 34 };

function frame(width, height, label) {
  return s('svg', { class: 'chart', viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': label, preserveAspectRatio: 'xMidYMid meet' });
}

function niceMax(v) {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

function yAxis(svg, x0, x1, y, max, steps, fmt) {
  for (let i = 0; i <= steps; i++) {
    const v = (max * i) / steps;
    const yy = y(v);
    svg.append(s('line', { class: i === 0 ? 'axis' : 'grid', x1: x0, x2: x1, y1: yy, y2: yy }));
    svg.append(s('text', { x: x0 - 6, y: yy + 4, 'text-anchor': 'end' }, fmt(v)));
  }
}

/** Stacked pass/fail bars, one per hour: buckets = [{ hour, passed, failed }]. */
export function yieldChart(buckets, width = 520, height = 240) {
  const svg = frame(width, height, 'inspections per hour, passed and failed');
  const w = width - M.left - M.right;
  const ht = height - M.top - M.bottom;
  const max = niceMax(Math.max(1, ...buckets.map((b) => b.passed + b.failed)));
  const y = (v) => M.top + ht - (v / max) * ht;
  yAxis(svg, M.left, width - M.right, y, max, 4, (v) => String(Math.round(v)));
  const bw = w / Math.max(1, buckets.length);
  const every = Math.max(1, Math.ceil(buckets.length / 8));
  buckets.forEach((b, i) => {
    const x = M.left + i * bw + bw * 0.12;
    const bwi = bw * 0.76;
    const yp = y(b.passed);
    const yf = y(b.passed + b.failed);
    const title = `${new Date(b.hour).toLocaleString()}: ${b.passed} pass, ${b.failed} fail${b.passed + b.failed ? `, yield ${((100 * b.passed) / (b.passed + b.failed)).toFixed(1)} %` : ''}`;
    const g = s('g', {}, s('title', {}, title));
    if (b.passed > 0) g.append(s('rect', { class: 'bar-pass', x, y: yp, width: bwi, height: M.top + ht - yp }));
    if (b.failed > 0) g.append(s('rect', { class: 'bar-fail', x, y: yf, width: bwi, height: yp - yf }));
    svg.append(g);
    if (i % every === 0) {
      const d = new Date(b.hour);
      svg.append(s('text', { x: x + bwi / 2, y: height - 10, 'text-anchor': 'middle' }, `${String(d.getHours()).padStart(2, '0')}:00`));
    }
  });
  return svg;
}

/**
 * Histogram of `values` from 0 to a little past the boundary (or the largest value), with
 * vertical markers: [{ x, cls, label }].
 */
export function histogram(values, { boundary, markers = [], bins = 40 }, width = 520, height = 240) {
  const svg = frame(width, height, 'score distribution of recent passes against the boundary');
  const w = width - M.left - M.right;
  const ht = height - M.top - M.bottom;
  const hi = Math.max(boundary * 1.15, ...values, ...markers.map((m) => m.x)) || 1;
  const counts = new Array(bins).fill(0);
  for (const v of values) counts[Math.min(bins - 1, Math.max(0, Math.floor((v / hi) * bins)))]++;
  const max = niceMax(Math.max(1, ...counts));
  const x = (v) => M.left + (v / hi) * w;
  const y = (v) => M.top + ht - (v / max) * ht;
  yAxis(svg, M.left, width - M.right, y, max, 4, (v) => String(Math.round(v)));
  const bw = w / bins;
  counts.forEach((c, i) => {
    if (c > 0) svg.append(s('rect', { class: 'bar-score', x: M.left + i * bw + 0.5, y: y(c), width: Math.max(1, bw - 1), height: M.top + ht - y(c) }, s('title', {}, `${c} passes scoring ${fmtScore((i * hi) / bins)} … ${fmtScore(((i + 1) * hi) / bins)}`)));
  });
  for (let i = 0; i <= 4; i++) {
    const v = (hi * i) / 4;
    svg.append(s('text', { x: x(v), y: height - 10, 'text-anchor': 'middle' }, fmtScore(v)));
  }
  for (const m of markers) {
    svg.append(s('line', { class: m.cls, x1: x(m.x), x2: x(m.x), y1: M.top, y2: M.top + ht }, s('title', {}, `${m.label}: ${fmtScore(m.x)}`)));
  }
  return svg;
}

const PALETTE = ['#8cc2f2', '#ff7b7b', '#5fd08f', '#ffc94d', '#c49cf2', '#f2a65a', '#7fe0d8', '#e88fc7'];

/** ROC curves: [{ label, fpr: [], tpr: [], auroc }]. */
export function rocChart(curves, size = 360) {
  const width = size + M.left + M.right;
  const height = size + M.top + M.bottom;
  const svg = frame(width, height, 'ROC curves of the last evaluation');
  svg.classList.add('roc');
  const x = (v) => M.left + v * size;
  const y = (v) => M.top + (1 - v) * size;
  for (let i = 0; i <= 4; i++) {
    const v = i / 4;
    svg.append(s('line', { class: 'grid', x1: x(0), x2: x(1), y1: y(v), y2: y(v) }));
    svg.append(s('line', { class: 'grid', x1: x(v), x2: x(v), y1: y(0), y2: y(1) }));
    svg.append(s('text', { x: x(0) - 6, y: y(v) + 4, 'text-anchor': 'end' }, v.toFixed(2)));
    svg.append(s('text', { x: x(v), y: y(0) + 16, 'text-anchor': 'middle' }, v.toFixed(2)));
  }
  svg.append(s('line', { class: 'diag', x1: x(0), y1: y(0), x2: x(1), y2: y(1) }));
  curves.forEach((c, i) => {
    const n = Math.min(c.fpr.length, c.tpr.length);
    let d = '';
    for (let k = 0; k < n; k++) d += `${k === 0 ? 'M' : 'L'}${x(c.fpr[k]).toFixed(1)},${y(c.tpr[k]).toFixed(1)}`;
    svg.append(s('path', { class: 'curve', d, stroke: PALETTE[i % PALETTE.length] }, s('title', {}, `${c.label}: AUROC ${c.auroc.toFixed(3)}`)));
  });
  svg.append(s('text', { x: x(0.5), y: height - 2, 'text-anchor': 'middle' }, 'false positive rate'));
  return { svg, colours: curves.map((_, i) => PALETTE[i % PALETTE.length]) };
}
