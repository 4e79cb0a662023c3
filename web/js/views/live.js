// Live view (issue 10 item 1): one card per camera, side by side — the latest frame with its
// anomaly map, mask and boxes, PASS/FAIL, score against the boundary, confidence, where, who
// decided, stage timings, inspections/s and drops. Pushed by the daemon's event stream; a
// card draws only the newest verdict and skips the ones that arrived while it was drawing.

import { h, fmtScore, fmtPct, fmtMs, fmtAgo, fmtTime, driftClass, driftText, stateClass } from '../dom.js';
import { loadLayers, drawLayers } from '../overlay.js';

export const name = 'live';
export const title = 'Live';
export const nav = true;

/** Display lag (decided in the daemon → drawn here), newest last; read by the browser test. */
const lag = (window.__agptLive ??= { latencies: [] });

function p50(xs) {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)];
}

function gauge(score, boundary) {
  const scale = 2 * boundary;
  const frac = scale > 0 ? Math.max(0, Math.min(1, score / scale)) : 0;
  return h('div', null,
    h('div.gauge', { role: 'img', 'aria-label': `score ${fmtScore(score)}, boundary ${fmtScore(boundary)}` },
      h(`div.gauge-fill${score > boundary ? '.over' : ''}`, { style: `width:${(frac * 100).toFixed(1)}%` }),
      h('div.gauge-mark')),
    h('div.gauge-legend', h('span', '0'), h('span', `boundary ${fmtScore(boundary)}`), h('span', `${fmtScore(scale)}+`)));
}

class Card {
  constructor(id, onOpen) {
    this.id = id;
    this.show = { heat: true, mask: true, boxes: true };
    this.layers = null;
    this.loading = false;
    this.pending = null;
    this.abort = null;
    this.info = null;
    this.canvas = h('canvas', { 'aria-label': `camera ${id}, latest frame` });
    this.empty = h('div.stage-empty', 'waiting for the first verdict…');
    this.stale = h('div.stale', { hidden: true });
    this.stage = h('div.stage', this.empty, this.stale);
    this.banner = h('div.verdict-banner.none', 'no verdict yet');
    this.facts = h('div.facts');
    this.stateChip = h('span.chip');
    this.recipeChip = h('span.chip.info');
    this.driftChip = h('span.chip');
    this.foot = h('div.cam-foot');
    const toggles = h('div.toggles', ['heat', 'mask', 'boxes'].map((k) =>
      h('label.toggle', h('input', { type: 'checkbox', checked: true, onchange: (e) => {
        this.show[k] = e.target.checked;
        if (this.layers) drawLayers(this.canvas, this.layers, this.show);
      } }), { heat: 'heat map', mask: 'mask', boxes: 'boxes' }[k])));
    this.el = h('section.cam', { 'aria-label': `camera ${id}`, dataset: { camera: id } },
      h('div.cam-head', h('span.cam-name', id), this.stateChip, this.recipeChip, this.driftChip),
      h('div.cam-body',
        h('div', this.stage, h('div', { style: 'margin-top:0.5rem' }, toggles)),
        h('div.facts-col', this.banner, this.facts)),
      this.foot);
    this.onOpen = onOpen;
  }

  setInfo(c) {
    this.info = c;
    this.stateChip.replaceChildren(h(`span.dot.${stateClass(c.state) || 'x'}`), c.state);
    this.recipeChip.textContent = `${c.recipe.id} · ${String(c.recipe.version).slice(0, 6)}`;
    this.recipeChip.title = `recipe ${c.recipe.id}, version ${c.recipe.version}`;
    this.driftChip.className = `chip ${driftClass(c.drift?.state)}`;
    this.driftChip.textContent = driftText(c.drift);
    this.driftChip.title = c.drift?.reason ?? (c.drift ? `median of the last ${c.drift.passes} passes vs the references' median` : '');
    const n = c.counters;
    const lagP50 = p50(lag.latencies.slice(-100));
    this.foot.replaceChildren(
      h('span', h('b', c.fps.toFixed(2)), ' insp/s'),
      h('span', h('b', n.inspected), ' inspected'),
      h('span', h('b', n.passed), ' pass · ', h('b', n.failed), ' fail'),
      h(`span${n.dropped > 0 ? '.warn' : ''}`, h('b', n.dropped), ' dropped'),
      h(`span${n.errors > 0 ? '.warn' : ''}`, h('b', n.errors), ' errors'),
      lagP50 !== null ? h('span', { title: 'frame decided → shown here, median of the last 100' }, 'display lag ', h('b', `${Math.round(lagP50)} ms`)) : null,
      this.layers ? h('a', { href: `#/inspection/${encodeURIComponent(this.layers.summary.id)}` }, 'Open inspection →') : null,
    );
    this.tickStale();
  }

  tickStale() {
    const c = this.info;
    const last = this.layers?.summary.decidedAt;
    if (!c || !last || c.trigger.mode !== 'free-run') {
      this.stale.hidden = true;
      return;
    }
    const expectMs = c.trigger.fps > 0 ? Math.max(5000, 5000 / c.trigger.fps) : 10000;
    const age = Date.now() - last;
    this.stale.hidden = age < expectMs;
    this.stale.textContent = `no new verdict · last ${fmtAgo(last)}`;
  }

  verdict(summary) {
    if (this.layers && summary.seq !== null && this.layers.summary.seq !== null && summary.seq <= this.layers.summary.seq) return;
    this.pending = summary;
    if (!this.loading) void this.next();
  }

  async next() {
    const s = this.pending;
    this.pending = null;
    if (!s) return;
    this.loading = true;
    this.abort = new AbortController();
    try {
      const layers = await loadLayers(s, this.abort.signal);
      this.layers = layers;
      if (this.empty.isConnected) this.empty.replaceWith(this.canvas);
      drawLayers(this.canvas, layers, this.show);
      this.renderFacts(s);
      requestAnimationFrame(() => {
        lag.latencies.push(Date.now() - s.decidedAt);
        if (lag.latencies.length > 1000) lag.latencies.splice(0, lag.latencies.length - 1000);
        lag.lastShown = s.id;
      });
    } catch (e) {
      if (e.name !== 'AbortError') this.banner.title = String(e.message ?? e);
    } finally {
      this.loading = false;
    }
    if (this.pending) void this.next();
  }

  renderFacts(s) {
    this.el.classList.toggle('fail', !s.pass);
    this.banner.className = `verdict-banner ${s.pass ? 'pass' : 'fail'}`;
    this.banner.textContent = s.pass ? 'PASS' : 'FAIL';
    const j = s.judge ?? { pass: s.pass, score: s.score, threshold: s.threshold, confidence: s.confidence };
    const t = s.timings;
    const MAX_CHIPS = 4;
    const locs = s.locations.length === 0
      ? h('span.muted', s.pass ? 'none — part is good' : 'no region located')
      : [
          ...s.locations.slice(0, MAX_CHIPS).map((l, i) => h('span.chip.bad', `${i + 1} ${l.grid} · ${Math.round(l.area)} px`)),
          s.locations.length > MAX_CHIPS ? h('span.chip', `+${s.locations.length - MAX_CHIPS} smaller`) : null,
        ];
    this.facts.replaceChildren(
      h('div', h('div.fact-row', h('span.fact-label', 'score'), h('span.fact-value.big', fmtScore(j.score))), gauge(j.score, j.threshold)),
      h('div.fact-row', h('span.fact-label', 'confidence'), h('span.fact-value', fmtPct(s.confidence))),
      h('div.decider', h('span.fact-label', 'decided by '),
        s.decidedBy === 'llm'
          ? [h('b', 'LLM'), ` · P(yes) ${fmtScore(s.llm?.pYes)} · judge said ${j.pass ? 'pass' : 'fail'}`]
          : [h('b', 'judge'), s.llm ? ` · LLM P(yes) ${fmtScore(s.llm.pYes)}` : '']),
      h('div', h('div.fact-label', 'where'), h('div.locations', locs)),
      h('div.timings', { title: 'stage timings, ms' },
        [['pre', t.preprocessMs], ['enc', t.encoderMs], ['map', t.mapMs], ['judge', t.judgeMs], ['total', t.totalMs]].map(([k, v]) => h('div', h('b', fmtMs(v)), h('span', k)))),
      h('div.small.muted', `${fmtTime(s.capturedAt)} · ${s.id}`),
    );
  }

  close() {
    this.abort?.abort();
  }
}

export function mount(root, _params, ctx) {
  const grid = h('div.cams');
  const cards = new Map();
  const card = (id) => {
    let c = cards.get(id);
    if (!c) {
      c = new Card(id);
      cards.set(id, c);
      grid.append(c.el);
      grid.classList.toggle('single', cards.size === 1);
    }
    return c;
  };
  root.append(grid);
  const offs = [
    ctx.on('cameras', (list) => {
      for (const cam of list) card(cam.id).setInfo(cam);
      for (const [id, c] of cards) {
        if (!list.some((x) => x.id === id)) {
          c.close();
          c.el.remove();
          cards.delete(id);
        }
      }
    }),
    ctx.on('verdict', (e) => card(e.camera).verdict(e.inspection)),
    ctx.on('drift', () => undefined),
  ];
  // Until the stream's first `cameras` event: the cameras as the API has them now.
  ctx.api.getJson('/api/cameras').then((list) => {
    for (const cam of list) {
      const c = card(cam.id);
      if (!c.info) c.setInfo(cam);
      if (cam.lastVerdict) c.verdict(cam.lastVerdict);
    }
  }).catch(() => undefined);
  const timer = setInterval(() => cards.forEach((c) => c.tickStale()), 1000);
  return () => {
    clearInterval(timer);
    offs.forEach((off) => off());
    cards.forEach((c) => c.close());
  };
}
