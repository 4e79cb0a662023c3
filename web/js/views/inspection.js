// One inspection (issue 10 items 2 and 3): the frame with its overlay, the figures the verdict
// was made from, the record's JSON and downloads — and the conversation about it.

import { inspectionUrl } from '../api.js';
import { chatPanel } from '../chat.js';
import { h, fmtScore, fmtPct, fmtMs, fmtTime, errorText } from '../dom.js';
import { drawLayers, loadLayers } from '../overlay.js';
import { reviewPanel } from '../review.js';

export const name = 'inspection';
export const title = 'Inspection';
export const nav = false;

export function mount(root, params, ctx) {
  const id = params.join('/');
  const abort = new AbortController();
  let chat = null;
  root.append(h('p.muted', `Loading inspection ${id}…`));
  ctx.api.getJson(inspectionUrl(id), { signal: abort.signal }).then((doc) => {
    if (abort.signal.aborted) return;
    chat = chatPanel(id, ctx);
    root.replaceChildren(render(doc, chat, abort.signal, ctx));
  }).catch((e) => {
    if (e.name === 'AbortError') return;
    root.replaceChildren(
      h('div.view-head', h('h1', 'Inspection'), h('a', { href: '#/history' }, '← History')),
      h('p.notice.error', e.code === 'E_INSPECTION_UNKNOWN' ? `Inspection ${id} is not in the record (retention may have removed it).` : errorText(e)),
    );
  });
  return () => {
    abort.abort();
    chat?.close();
  };
}

function render(doc, chat, signal, ctx) {
  const s = doc.inspection;
  const show = { heat: true, mask: true, boxes: true };
  const canvas = h('canvas', { 'aria-label': 'frame with overlay' });
  const stage = h('div.stage', h('div.stage-empty', s.files.frame ? 'loading the frame…' : 'The frame of this inspection was not saved (archive.saveFrames); its figures are below.'));
  let layers = null;
  if (s.files.frame) {
    loadLayers(s, signal).then((l) => {
      layers = l;
      stage.replaceChildren(canvas);
      drawLayers(canvas, l, show);
    }).catch((e) => {
      if (e.name !== 'AbortError') stage.replaceChildren(h('div.stage-empty', `Cannot load the frame: ${errorText(e)}`));
    });
  }
  const toggles = h('div.toggles', ['heat', 'mask', 'boxes'].map((k) => h('label.toggle',
    h('input', { type: 'checkbox', checked: true, onchange: (e) => { show[k] = e.target.checked; if (layers) drawLayers(canvas, layers, show); } }),
    { heat: 'heat map', mask: 'mask', boxes: 'boxes' }[k])));
  const dl = (kind, label, ok) => ok ? h('a.btn', { href: inspectionUrl(s.id, kind), download: `${s.id.replace(/[^A-Za-z0-9._-]/g, '_')}.${kind}` }, label) : null;
  const j = s.judge ?? { pass: s.pass, score: s.score, threshold: s.threshold, confidence: s.confidence };
  const t = s.timings;
  const facts = h('dl.kv',
    h('dt', 'captured'), h('dd', fmtTime(s.capturedAt, true)),
    h('dt', 'camera'), h('dd', s.camera),
    h('dt', 'score / boundary'), h('dd', `${fmtScore(j.score)} / ${fmtScore(j.threshold)} (${j.threshold > 0 ? fmtPct(j.score / j.threshold) : '—'} of the boundary)`),
    h('dt', 'confidence'), h('dd', fmtPct(s.confidence, 1)),
    h('dt', 'decided by'), h('dd', s.decidedBy === 'llm' ? `LLM · P(yes) ${fmtScore(s.llm?.pYes)} (judge said ${j.pass ? 'pass' : 'fail'})` : `judge${s.llm ? ` · LLM P(yes) ${fmtScore(s.llm.pYes)}` : ''}`),
    h('dt', 'where'), h('dd', s.locations.length === 0 ? 'no defect region' : h('div', s.locations.map((l, i) => h('div', `${i + 1}. ${l.grid} — box ${l.box.width}×${l.box.height} at (${l.box.x}, ${l.box.y}), ${Math.round(l.area)} px (${fmtPct(l.area / (s.frame.width * s.frame.height), 1)} of the frame), peak ${fmtScore(l.peak)}`)))),
    h('dt', 'recipe'), h('dd', `${s.recipe.id} · ${s.recipe.version}`),
    h('dt', 'model'), h('dd', `${s.model.id} · ${s.model.version}`),
    h('dt', 'timings'), h('dd', `pre ${fmtMs(t.preprocessMs)} · enc ${fmtMs(t.encoderMs)} · map ${fmtMs(t.mapMs)} · judge ${fmtMs(t.judgeMs)} · total ${fmtMs(t.totalMs)} ms`),
    h('dt', 'record'), h('dd', s.seq === null ? 'in memory' : `seq ${s.seq}`),
  );
  return h('div',
    h('div.view-head',
      h('h1', `Inspection ${s.id}`),
      h(`span.badge.${s.pass ? 'pass' : 'fail'}`, s.pass ? 'PASS' : 'FAIL'),
      h('a', { href: '#/history' }, '← History')),
    h('div.inspection',
      h('div', { style: 'display:flex;flex-direction:column;gap:1rem;min-width:0' },
        h('section.panel', stage, h('div', { style: 'margin-top:0.6rem' }, toggles),
          h('div.downloads', dl('frame.jpg', 'Frame (JPEG)', s.files.frame), dl('map.png', 'Anomaly map (PNG)', s.files.map), dl('mask.png', 'Mask (PNG)', s.files.mask), dl('record.json', 'Record (JSON)', s.seq !== null))),
        h('section.panel', h('details', h('summary', 'Record JSON'), h('pre.json', JSON.stringify(doc.verdict, null, 2))))),
      h('div', { style: 'display:flex;flex-direction:column;gap:1rem;min-width:0' },
        h('section.panel', h(`div.verdict-banner.${s.pass ? 'pass' : 'fail'}`, { style: 'margin-bottom:0.8rem' }, s.pass ? 'PASS' : 'FAIL'), facts),
        reviewPanel(s, doc.reviews, ctx),
        chat.el)));
}
