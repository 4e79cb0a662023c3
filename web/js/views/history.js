// History (issue 10 item 2): the inspection record, newest first, filtered by result, camera,
// recipe and capture time, one page at a time (the daemon pages by seq, so page 200 costs what
// page 1 does). Filters and position survive a visit to an inspection and back.

import { h, fmtScore, fmtPct, fmtTime, errorText } from '../dom.js';

export const name = 'history';
export const title = 'History';
export const nav = true;

const PAGE = 50;
const saved = { pass: '', camera: '', recipe: '', from: '', to: '', pages: [undefined] };

function toLocalInput(ms) {
  const d = new Date(ms - new Date(ms).getTimezoneOffset() * 60000);
  return d.toISOString().slice(0, 16);
}

export function mount(root, _params, ctx) {
  const abort = new AbortController();
  const sel = (options, value) => h('select', null, options.map(([v, label]) => h('option', { value: v, selected: v === value }, label)));
  const result = sel([['', 'all'], ['false', 'FAIL only'], ['true', 'PASS only']], saved.pass);
  const camera = sel([['', 'all cameras']], saved.camera);
  const recipe = h('input', { list: 'recipes-known', value: saved.recipe, placeholder: 'any recipe', size: 14 });
  const known = h('datalist#recipes-known');
  const from = h('input', { type: 'datetime-local', value: saved.from });
  const to = h('input', { type: 'datetime-local', value: saved.to });
  const body = h('tbody');
  const count = h('span.count');
  const newer = h('button.btn', { type: 'button' }, '◀ Newer');
  const older = h('button.btn', { type: 'button' }, 'Older ▶');
  const msg = h('p.notice.error', { hidden: true });
  let next = null;
  let total = 0;

  root.append(
    h('div.view-head', h('h1', 'History'), h('span.muted', 'every verdict the daemon recorded')),
    h('form.filters', { onsubmit: (e) => { e.preventDefault(); apply(); }, onchange: () => apply() },
      h('label.field', 'Result', result),
      h('label.field', 'Camera', camera),
      h('label.field', 'Recipe', recipe, known),
      h('label.field', 'From', from),
      h('label.field', 'To', to),
      h('button.btn', { type: 'button', onclick: () => { [result.value, camera.value, recipe.value, from.value, to.value] = ['', '', '', '', '']; apply(); } }, 'Clear'),
      h('button.btn', { type: 'button', onclick: () => { to.value = ''; from.value = toLocalInput(Date.now() - 3600_000); apply(); } }, 'Last hour')),
    msg,
    h('div.table-wrap', h('table.data', { 'aria-label': 'inspections' },
      h('thead', h('tr', ['Time', 'Camera', 'Result', 'Score / boundary', 'Confidence', 'Where', 'Recipe', 'Decided by'].map((t, i) => h(`th${i === 3 || i === 4 ? '.num' : ''}`, t)))),
      body)),
    h('div.pager', count, newer, older),
  );

  ctx.api.getJson('/api/cameras', { signal: abort.signal }).then((cams) => {
    for (const c of cams) camera.append(h('option', { value: c.id, selected: c.id === saved.camera }, c.id));
    for (const r of new Set(cams.map((c) => c.recipe.id))) known.append(h('option', { value: r }));
  }).catch(() => undefined);

  function apply() {
    Object.assign(saved, { pass: result.value, camera: camera.value, recipe: recipe.value.trim(), from: from.value, to: to.value, pages: [undefined] });
    void load();
  }

  newer.addEventListener('click', () => {
    if (saved.pages.length > 1) saved.pages.pop();
    void load();
  });
  older.addEventListener('click', () => {
    if (next !== null) saved.pages.push(next);
    void load();
  });

  async function load() {
    const q = new URLSearchParams({ limit: String(PAGE) });
    if (saved.pass) q.set('pass', saved.pass);
    if (saved.camera) q.set('camera', saved.camera);
    if (saved.recipe) q.set('recipe', saved.recipe);
    if (saved.from) q.set('from', String(new Date(saved.from).getTime()));
    if (saved.to) q.set('to', String(new Date(saved.to).getTime()));
    const before = saved.pages[saved.pages.length - 1];
    if (before !== undefined) q.set('before', String(before));
    body.setAttribute('aria-busy', 'true');
    try {
      const page = await ctx.api.getJson(`/api/inspections?${q}`, { signal: abort.signal });
      msg.hidden = true;
      next = page.next;
      total = page.total;
      render(page.items);
    } catch (e) {
      if (e.name === 'AbortError') return;
      msg.textContent = errorText(e);
      msg.hidden = false;
    } finally {
      body.removeAttribute('aria-busy');
    }
  }

  function render(items) {
    const first = (saved.pages.length - 1) * PAGE;
    body.replaceChildren(...items.map((s) => {
      const href = `#/inspection/${encodeURIComponent(s.id)}`;
      const words = [...new Set(s.locations.map((l) => l.grid))];
      const where = words.length === 0 ? '—' : words.length <= 3 ? words.join(', ') : `${words.slice(0, 3).join(', ')} +${words.length - 3}`;
      return h('tr', { dataset: { id: s.id }, onclick: (e) => { if (!(e.target instanceof HTMLAnchorElement)) location.hash = href; } },
        h('td', h('a.row-link', { href }, fmtTime(s.capturedAt, true))),
        h('td', s.camera),
        h('td', h(`span.badge.${s.pass ? 'pass' : 'fail'}`, s.pass ? 'PASS' : 'FAIL')),
        h('td.num', `${fmtScore(s.judge?.score ?? s.score)} / ${fmtScore(s.judge?.threshold ?? s.threshold)}`),
        h('td.num', fmtPct(s.confidence)),
        h('td', where),
        h('td', { title: `version ${s.recipe.version}` }, s.recipe.id),
        h('td', s.decidedBy === 'llm' ? 'LLM' : 'judge'));
    }));
    if (items.length === 0) body.append(h('tr', h('td', { colspan: 8, class: 'muted' }, 'No inspections match these filters.')));
    count.textContent = total === 0 ? '0 inspections' : `${(first + 1).toLocaleString()}–${(first + items.length).toLocaleString()} of ${total.toLocaleString()} inspections`;
    newer.disabled = saved.pages.length <= 1;
    older.disabled = next === null;
  }

  void load();
  return () => abort.abort();
}
