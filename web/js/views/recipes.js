// Recipes (issue 10 item 5; docs/http-api.md "Recipes"): every recipe on disk with the cameras
// using it; one recipe's references (the images it keeps), boundary, evidence, kept versions
// and reviews, with the undo of the newest review-made version; for engineers, a new recipe
// from uploaded good images or from captured frames, and the switch of a camera to a recipe
// (PUT /api/cameras/{id}/recipe, the same path as OPC UA SelectRecipe and MQTT cmd/recipe).

import { h, fmtScore, fmtTime, errorText } from '../dom.js';

export const name = 'recipes';
export const title = 'Recipes';
export const nav = true;

const short = (v) => String(v ?? '').slice(0, 8);
const enc = encodeURIComponent;

export function mount(root, params, ctx) {
  const abort = new AbortController();
  const engineer = ctx.session?.role === 'engineer';
  const selected = params[0] ?? null;
  const msg = h('p.notice', { role: 'status', hidden: true });
  const listBody = h('tbody');
  const detail = h('div');
  const show = (kind, text) => {
    msg.className = `notice ${kind}`;
    msg.textContent = text;
    msg.hidden = false;
  };

  // New recipe (engineers): uploaded good images, or frames the cameras captured.
  const idIn = h('input.input', { 'aria-label': 'recipe id', name: 'id', placeholder: 'e.g. bracket-b', pattern: '[a-z0-9][a-z0-9_-]*', required: true, size: 16 });
  const filesIn = h('input', { type: 'file', name: 'images', multiple: true, accept: 'image/*', 'aria-label': 'good images' });
  const idsIn = h('input.input', { 'aria-label': 'inspection ids', placeholder: 'or inspection ids, comma-separated', size: 34 });
  const replaceIn = h('input', { type: 'checkbox', 'aria-label': 'replace' });
  const unlabelledIn = h('input', { type: 'checkbox', 'aria-label': 'unlabelled' });
  const createBtn = h('button.btn.btn-primary', { type: 'submit' }, 'Create recipe');
  const createForm = h('form.filters', { 'aria-label': 'new recipe', hidden: !engineer, onsubmit: (e) => { e.preventDefault(); void create(); } },
    h('label.field', 'Recipe id', idIn),
    h('label.field', 'Good images', filesIn),
    h('label.field', 'From captured frames', idsIn),
    h('label.toggle', replaceIn, 'new version if it exists'),
    h('label.toggle', { title: 'Frames of the running line, not checked one by one: the odd ones out (mutual scoring) are left out.' }, unlabelledIn, 'unlabelled line frames (drop the odd ones)'),
    createBtn);

  root.append(
    h('div.view-head', h('h1', 'Recipes'), selected ? h('a', { href: '#/recipes' }, '← all recipes') : null),
    msg,
    h('section.panel', { style: 'margin-bottom:1rem' },
      h('div.table-wrap', h('table.data', { 'aria-label': 'recipes' },
        h('thead', h('tr', ['Recipe', 'Version', 'References', 'Cameras', 'Kept versions', 'Created'].map((t) => h('th', t)))),
        listBody)),
      engineer ? h('div', { style: 'margin-top:0.9rem' }, h('h2', 'New recipe'), createForm,
        h('p.small.muted', 'Good parts only (or tick "unlabelled" for frames of the line). Images are checked (type, size, dimensions, decodable) before anything is written; calibration takes a few seconds.')) : null),
    detail);

  async function create() {
    const id = idIn.value.trim();
    const ids = idsIn.value.split(/[\s,]+/).filter(Boolean);
    const q = `?${new URLSearchParams({ ...(replaceIn.checked ? { replace: 'true' } : {}), ...(unlabelledIn.checked ? { unlabelled: 'true' } : {}) })}`;
    createBtn.disabled = true;
    show('info', `Making recipe ${id}…`);
    try {
      let r;
      if (filesIn.files.length > 0) {
        const form = new FormData();
        form.set('id', id);
        for (const f of filesIn.files) form.append('images', f, f.name);
        r = await ctx.api.sendForm(`/api/recipes${q}`, form);
      } else if (ids.length > 0) {
        r = await ctx.api.send('POST', `/api/recipes${q}`, { id, inspections: ids });
      } else {
        throw new Error('choose good images or give inspection ids');
      }
      const left = r.dropped?.length ? ` Left out as odd: ${r.dropped.join(', ')}.` : '';
      show('info', `Recipe ${r.id} made: version ${short(r.version)} from ${r.references.length} reference(s).${left}`);
      filesIn.value = '';
      idsIn.value = '';
      await refresh();
      location.hash = `#/recipes/${enc(r.id)}`;
    } catch (e) {
      show('error', `Recipe not made: ${errorText(e)}`);
    } finally {
      createBtn.disabled = false;
    }
  }

  function renderList(recipes) {
    listBody.replaceChildren(...recipes.map((r) => h('tr', { dataset: { recipe: r.id }, 'aria-selected': r.id === selected ? 'true' : null },
      h('td', h('a', { href: `#/recipes/${enc(r.id)}` }, h('b', r.id))),
      h('td.num', short(r.version)),
      h('td.num', String(r.references)),
      h('td', r.cameras.length ? r.cameras.join(', ') : '—'),
      h('td.num', String(r.versions)),
      h('td', fmtTime(Date.parse(r.createdAt), true)))));
    if (recipes.length === 0) listBody.append(h('tr', h('td', { colspan: 6 }, 'No recipes yet.')));
  }

  function renderDetail(r, cameras) {
    const undoBtn = h('button.btn', { type: 'button' }, `Undo the newest review (back to ${short(r.undoable?.fromVersion)})`);
    undoBtn.addEventListener('click', async () => {
      undoBtn.disabled = true;
      try {
        const u = await ctx.api.send('POST', `/api/recipes/${enc(r.id)}/undo`);
        show('info', `Undone: recipe ${u.recipe.id} is back to version ${short(u.recipe.version)}.`);
        await refresh();
      } catch (e) {
        show('error', `Not undone: ${errorText(e)}`);
        undoBtn.disabled = false;
      }
    });
    const camSel = h('select', { 'aria-label': 'camera' }, cameras.map((c) => h('option', { value: c.id }, `${c.id} (now ${c.recipe.id})`)));
    const useBtn = h('button.btn.btn-primary', { type: 'submit' }, 'Use on camera');
    const useForm = h('form.filters', { 'aria-label': 'use recipe', hidden: !engineer, onsubmit: async (e) => {
      e.preventDefault();
      useBtn.disabled = true;
      try {
        const s = await ctx.api.send('PUT', `/api/cameras/${enc(camSel.value)}/recipe`, { recipe: r.id });
        show('info', `Camera ${s.camera} now inspects with recipe ${s.recipe.id} (${short(s.recipe.version)}).`);
        await refresh();
      } catch (err) {
        show('error', `Recipe not switched on ${camSel.value}: ${errorText(err)}`);
      } finally {
        useBtn.disabled = false;
      }
    } }, h('label.field', 'Camera', camSel), useBtn);
    // Relearn the boundary from the line: the newest passes of this recipe whose frames are kept
    // join its held-out evidence (after false rejects on a recipe with few references).
    const relearnBtn = h('button.btn', { type: 'button', hidden: !engineer, title: 'Frames the line passed are scored against the memory bank and join the evidence the boundary comes from.' }, 'Relearn the boundary from the last 20 passes');
    relearnBtn.addEventListener('click', async () => {
      relearnBtn.disabled = true;
      try {
        const page = await ctx.api.getJson(`/api/inspections?recipe=${enc(r.id)}&pass=true&limit=60`);
        const ids = page.items.filter((x) => x.files?.frame).slice(0, 20).map((x) => x.id);
        if (ids.length === 0) throw new Error('no kept frames of passes for this recipe (archive.saveFrames: all keeps them)');
        const o = await ctx.api.send('POST', `/api/recipes/${enc(r.id)}/relearn`, { inspections: ids });
        show('info', `Boundary relearnt from ${o.frames} passes: ${fmtScore(o.threshold.before)} → ${fmtScore(o.threshold.after)} (version ${short(o.recipe.version)}).`);
        await refresh();
      } catch (e) {
        show('error', `Boundary not relearnt: ${errorText(e)}`);
        relearnBtn.disabled = false;
      }
    });
    const b = r.boundary ?? {};
    detail.replaceChildren(h('div.grid-2',
      h('section.panel', { 'aria-label': `recipe ${r.id}` },
        h('h2', `Recipe ${r.id}`),
        h('dl.kv',
          h('dt', 'version'), h('dd', h('span.num', { dataset: { version: r.version } }, r.version)),
          h('dt', 'created'), h('dd', fmtTime(Date.parse(r.createdAt), true)),
          h('dt', 'model'), h('dd', `${r.bundle.id} · ${r.bundle.version}`),
          h('dt', 'input'), h('dd', `${r.input.width}×${r.input.height}`),
          h('dt', 'boundary'), h('dd', `${fmtScore(b.threshold)}${b.rule ? ` · ${b.rule}` : ''}`),
          h('dt', 'evidence'), h('dd', `${r.evidence.heldOut} held-out · ${r.evidence.perturbed} perturbed · ${r.evidence.synthetic} synthetic defects · ${r.evidence.added} learnt from reviews · ${r.evidence.missedDefects} missed defects kept`),
          h('dt', 'cameras'), h('dd', r.cameras.length ? r.cameras.join(', ') : 'none')),
        r.undoable ? h('div', { style: 'margin-top:0.8rem' }, undoBtn, h('div.small.muted', `made by ${r.undoable.user}'s review of ${r.undoable.inspectionId}`)) : null,
        h('div', { style: 'margin-top:0.8rem' }, useForm),
        engineer ? h('div', { style: 'margin-top:0.8rem' }, relearnBtn) : null),
      h('section.panel', { 'aria-label': 'history' },
        h('h2', 'Versions and reviews'),
        r.versions.length ? h('ul', r.versions.map((v) => h('li', `${short(v.version)} · ${fmtTime(Date.parse(v.createdAt), true)} · ${v.references} references · boundary ${fmtScore(v.threshold)}${v.version === r.version ? ' · active' : ''}`))) : h('p.muted', 'No earlier versions kept.'),
        r.reviews.length ? h('ul.reviews', r.reviews.map((x) => h('li', `${fmtTime(x.at, true)} · ${x.user} · ${x.action === 'undo' ? 'undo' : x.label === 'good' ? 'false reject learnt' : 'missed defect kept'} · ${x.inspectionId}${x.toVersion ? ` → ${short(x.toVersion)}` : ''}${x.undone ? ' (undone)' : ''}`))) : h('p.muted', 'No reviews yet.'))),
      h('section.panel', { style: 'margin-top:1rem', 'aria-label': 'references' },
        h('h2', `References (${r.references.length})`),
        h('div.thumbs', r.references.map((x) => h('figure.thumb',
          x.kept ? h('img', { src: `/api/recipes/${enc(r.id)}/references/${enc(x.name)}`, alt: x.name, loading: 'lazy' }) : h('div.stage-empty', 'not kept'),
          h('figcaption.small', x.name))))));
  }

  async function refresh() {
    try {
      const [recipes, cameras] = await Promise.all([ctx.api.getJson('/api/recipes', { signal: abort.signal }), ctx.api.getJson('/api/cameras', { signal: abort.signal })]);
      renderList(recipes);
      if (selected) renderDetail(await ctx.api.getJson(`/api/recipes/${enc(selected)}`, { signal: abort.signal }), cameras);
    } catch (e) {
      if (e.name === 'AbortError') return;
      show('error', e.code === 'E_RECIPE_NOT_FOUND' ? `No recipe ${selected}.` : errorText(e));
    }
  }
  void refresh();
  // A version made elsewhere (another browser's review, OPC UA, MQTT) shows up here.
  const off = ctx.on('recipe', () => void refresh());
  return () => {
    abort.abort();
    off();
  };
}
