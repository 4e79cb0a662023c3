// Numbers (issue 10 item 6): yield per hour from the record, the drift watch per recipe —
// the scores of recent passes against the boundary and the references — and the ROC curves
// of the last `eval` run.

import { h, fmtScore, fmtPct, driftClass, errorText } from '../dom.js';
import { histogram, rocChart, yieldChart } from '../charts.js';

export const name = 'numbers';
export const title = 'Numbers';
export const nav = true;

export function mount(root, _params, ctx) {
  const abort = new AbortController();
  const opts = { signal: abort.signal };
  const camera = h('select', null, h('option', { value: '' }, 'all cameras'));
  const hours = h('select', null, [[8, 'last 8 h'], [24, 'last 24 h'], [72, 'last 3 days'], [168, 'last 7 days']].map(([v, l]) => h('option', { value: v, selected: v === 24 }, l)));
  const yieldBox = h('div');
  const yieldSummary = h('div', { style: 'display:flex;gap:2rem;flex-wrap:wrap;margin-bottom:0.5rem' });
  const driftBox = h('div', { style: 'display:flex;flex-direction:column;gap:1.25rem' });
  const evalBox = h('div');
  root.append(
    h('div.view-head', h('h1', 'Numbers')),
    h('div.grid-2',
      h('section.panel', { 'aria-label': 'yield per hour' },
        h('h2', 'Yield per hour'),
        h('div.filters', h('label.field', 'Camera', camera), h('label.field', 'Period', hours)),
        yieldSummary, yieldBox,
        h('div.legend', h('span', h('i', { style: 'background:var(--pass)' }), 'pass'), h('span', h('i', { style: 'background:var(--fail)' }), 'fail'))),
      h('section.panel', { 'aria-label': 'drift watch' },
        h('h2', 'Drift watch — recent passes against the boundary'),
        driftBox,
        h('p.small.muted', 'Rule: margin = (boundary − median of the last 200 passes) ÷ (boundary − median of the recipe\'s calibration normal scores). ok ≥ 50 %, watch 25–50 %, drifting below 25 %: normal parts have used up half / three quarters of the margin the references had. Needs ≥ 30 passes.'))),
    h('section.panel', { 'aria-label': 'last evaluation', style: 'margin-top:1rem' }, h('h2', 'Last evaluation — ROC'), evalBox),
  );

  async function loadYield() {
    const q = new URLSearchParams({ hours: hours.value });
    if (camera.value) q.set('camera', camera.value);
    try {
      const buckets = await ctx.api.getJson(`/api/stats/yield?${q}`, opts);
      const passed = buckets.reduce((a, b) => a + b.passed, 0);
      const failed = buckets.reduce((a, b) => a + b.failed, 0);
      yieldSummary.replaceChildren(
        h('div', h('div.fact-label', 'yield'), h('div.big-figure', passed + failed ? fmtPct(passed / (passed + failed), 1) : '—')),
        h('div', h('div.fact-label', 'inspected'), h('div.big-figure', (passed + failed).toLocaleString())),
        h('div', h('div.fact-label', 'failed'), h('div.big-figure', failed.toLocaleString())));
      yieldBox.replaceChildren(yieldChart(buckets));
    } catch (e) {
      if (e.name !== 'AbortError') yieldBox.replaceChildren(h('p.notice.error', errorText(e)));
    }
  }

  async function loadDrift(recipes) {
    const parts = await Promise.all(recipes.map(async (id) => {
      try {
        const d = await ctx.api.getJson(`/api/stats/scores?recipe=${encodeURIComponent(id)}&limit=500`, opts);
        const refMedian = d.drift?.medianReference ?? null;
        const nowMedian = d.drift?.medianPass ?? null;
        const markers = [{ x: d.threshold, cls: 'boundary', label: 'boundary' }];
        if (refMedian !== null) markers.push({ x: refMedian, cls: 'ref-median', label: 'references\' median' });
        if (nowMedian !== null) markers.push({ x: nowMedian, cls: 'now-median', label: 'median of the last passes' });
        const state = d.drift?.state ?? 'insufficient';
        return h('div', { dataset: { recipe: id } },
          h('div', { style: 'display:flex;gap:0.75rem;align-items:center;flex-wrap:wrap;margin-bottom:0.3rem' },
            h('b', `recipe ${id}`), h('span.muted.small', String(d.version).slice(0, 8)),
            h(`span.chip.${driftClass(state) || 'x'}`, state === 'insufficient' ? `insufficient: ${d.drift?.reason ?? 'no verdicts yet'}` : `${state} · ${fmtPct(d.drift.margin)} of the margin left`)),
          d.passes.length ? histogram(d.passes, { boundary: d.threshold, markers }) : h('p.muted', 'No passes recorded for this recipe version yet.'),
          h('div.legend',
            h('span', h('i', { style: 'background:var(--fail-ink)' }), `boundary ${fmtScore(d.threshold)}`),
            h('span', h('i', { style: 'background:var(--pass-ink)' }), `references' median ${fmtScore(refMedian)}`),
            h('span', h('i', { style: 'background:var(--watch-ink)' }), `median of the last ${d.drift?.passes ?? 0} passes ${fmtScore(nowMedian)}`),
            h('span', `${d.passes.length} passes shown`)));
      } catch (e) {
        return e.name === 'AbortError' ? null : h('p.notice.error', `recipe ${id}: ${errorText(e)}`);
      }
    }));
    driftBox.replaceChildren(...parts.filter(Boolean));
  }

  async function loadEval() {
    try {
      const r = await ctx.api.getJson('/api/eval/latest', opts);
      const cats = r.categories ?? [];
      const m = (x) => (x && Number.isFinite(x.mean) ? `${x.mean.toFixed(3)} ± ${x.std.toFixed(3)}` : '—');
      evalBox.replaceChildren(
        h('p', `${r.dataset ?? '?'} · ${r.shots}-shot × ${r.draws} draws · bundle ${r.bundle?.id ?? '?'} ${r.bundle?.version ?? ''}${r.createdAt ? ` · ${new Date(r.createdAt).toLocaleString()}` : ''}`),
        h('div', { style: 'display:grid;gap:1rem;grid-template-columns:repeat(auto-fit,minmax(300px,1fr))' }, cats.map((c) => {
          const curves = (c.roc ?? []).map((d, i) => ({ label: `draw ${i + 1}`, fpr: d.fpr, tpr: d.tpr, auroc: d.auroc }));
          const chart = curves.length ? rocChart(curves) : null;
          return h('div',
            h('b', c.name), h('div.small.muted', `image AUROC ${m(c.image_auroc)} · pixel AUROC ${m(c.pixel_auroc)} · accuracy ${m(c.accuracy)}`),
            chart ? chart.svg : h('p.muted', 'This report has no ROC points (written by an older eval).'),
            chart ? h('div.legend', curves.map((cv, i) => h('span', h('i', { style: `background:${chart.colours[i]}` }), `${cv.label} ${cv.auroc.toFixed(3)}`))) : null);
        })));
    } catch (e) {
      if (e.name === 'AbortError') return;
      evalBox.replaceChildren(h('p.muted', e.code === 'E_NOT_FOUND' ? e.message : errorText(e)));
    }
  }

  let recipes = [];
  ctx.api.getJson('/api/cameras', opts).then((cams) => {
    for (const c of cams) camera.append(h('option', { value: c.id }, c.id));
    recipes = [...new Set(cams.map((c) => c.recipe.id))];
    void loadDrift(recipes);
  }).catch(() => undefined);
  camera.addEventListener('change', () => void loadYield());
  hours.addEventListener('change', () => void loadYield());
  void loadYield();
  void loadEval();
  const offDrift = ctx.on('drift', () => void loadDrift(recipes));
  const offRecipe = ctx.on('recipe', (e) => {
    if (!recipes.includes(e.recipe.id)) recipes.push(e.recipe.id);
    void loadDrift(recipes);
  });
  const timer = setInterval(() => {
    void loadYield();
    void loadDrift(recipes);
  }, 30_000);
  return () => {
    abort.abort();
    clearInterval(timer);
    offDrift();
    offRecipe();
  };
}
