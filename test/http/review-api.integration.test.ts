/**
 * The review loop and the recipes API inside the real daemon (simulated camera, default bundle,
 * the record on disk; docs/http-api.md "Review the verdict, teach the recipe", "Recipes"):
 * a fail marked good teaches the running recipe a new version (kept on disk, swapped in, shown
 * in the camera snapshot OPC UA and MQTT read), the same frame then passes; a second mark of
 * the same frame is 409; undo goes back; a pass marked defect becomes labelled evidence; every
 * action is in the record and in audit.log. Recipes are listed, shown, made from uploads and
 * from captured frames; bad uploads are refused before anything is written.
 */
import t from 'tap';
import { existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { SIM_CAMERA, startConsoleDaemon, type ConsoleDaemon, daemonTestdir } from '../support/console-daemon.js';
import { until } from '../support/wait.js';

// Bodies are checked field by field.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;
const root = daemonTestdir(t);
let d: ConsoleDaemon;

const post = (path: string, body: unknown) =>
  fetch(`${d.base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
const getJson = async (path: string): Promise<Json> => (await fetch(`${d.base}${path}`)).json();
const review = (id: string, label: string) => post(`/api/inspections/${encodeURIComponent(id)}/review`, { label });
const version = () => d.app.control.camera('cam1')!.snapshot().recipe.version;
const auditLines = (): Json[] => readFileSync(join(d.stateDirectory, 'audit.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));

async function inspections(pass: boolean, n: number): Promise<{ id: string; recipe: { version: string }; files: { frame: boolean } }[]> {
  return (await getJson(`/api/inspections?camera=cam1&pass=${pass}&limit=${n}`)).items;
}

t.before(async () => {
  d = await startConsoleDaemon(t, root, { cameras: [SIM_CAMERA('cam1', 11)], http: { maxUploadBytes: 300_000 } });
  await until(() => (d.app.pipeline('cam1')?.counters.failed ?? 0) >= 3 && (d.app.pipeline('cam1')?.counters.passed ?? 0) >= 8, 60_000, '3 fails and 8 passes on cam1', 50);
});

t.test('good on a fail: a new recipe version, swapped in, kept, audited; the same frame passes; a second mark is 409', async (t) => {
  const [fail, other] = await inspections(false, 2);
  const v0 = version();
  const t0 = performance.now();
  const res = await review(fail.id, 'good');
  const clickMs = performance.now() - t0;
  const body: Json = await res.json();
  t.equal(res.status, 200, JSON.stringify(body));
  t.comment(`review request → answer ${clickMs.toFixed(0)} ms (desk: ${body.ms} ms to the swapped-in version)`);
  t.match(body, { review: { inspectionId: fail.id, user: 'local', action: 'review', label: 'good', recipeId: 'sim-part', fromVersion: v0 }, recipe: { id: 'sim-part', previousVersion: v0 } });
  t.not(body.recipe.version, v0, 'a new version');
  t.equal(body.rescored.pass, true, `the same frame passes now (score ${body.rescored.score} ≤ ${body.rescored.threshold})`);
  t.equal(version(), body.recipe.version, 'the camera snapshot (OPC UA RecipeVersion, MQTT state) shows it');
  const recipes = join(d.stateDirectory, 'recipes');
  t.equal(JSON.parse(readFileSync(join(recipes, 'sim-part', 'recipe.json'), 'utf8')).version, body.recipe.version, 'the active recipe on disk is the new version');
  t.ok(existsSync(join(recipes, '.versions', 'sim-part', v0, 'recipe.json')), 'the old version is kept');
  t.ok(readdirSync(join(recipes, 'sim-part', 'references')).some((f) => f.includes(fail.id.replace(/[^A-Za-z0-9._-]/g, '_'))), 'the frame is a reference now');

  const doc: Json = await getJson(`/api/inspections/${encodeURIComponent(fail.id)}`);
  t.match(doc.reviews, [{ label: 'good', user: 'local', toVersion: body.recipe.version, undone: false }], 'stored with the inspection');
  t.match(auditLines().at(-1), { user: 'local', action: 'review', label: 'good', inspection: fail.id, recipe: 'sim-part', fromVersion: v0, toVersion: body.recipe.version, at: /^\d{4}-/ });

  const again = await review(fail.id, 'good');
  t.equal(again.status, 409);
  t.match(await again.json(), { error: { code: 'E_REVIEW_CONFLICT', message: /already marked good by local/ } });

  // Two browsers mark the same frame at once: exactly one wins.
  const both = await Promise.all([review(other.id, 'good'), review(other.id, 'good')]);
  t.same(both.map((r) => r.status).sort(), [200, 409], 'one 200, one 409');
  const codes = await Promise.all(both.map(async (r) => (r.status === 409 ? (await r.json()).error.code : 'ok')));
  t.ok(codes.includes('E_REVIEW_CONFLICT'));

  // Nothing lost while the recipe changed under the running camera.
  const v2 = version();
  const before = d.app.pipeline('cam1')!.counters.inspected;
  await until(async () => (await getJson('/api/inspections?camera=cam1&limit=1')).items[0].recipe.version === v2, 15_000, 'a verdict by the new version', 100);
  t.equal(d.app.pipeline('cam1')!.counters.errors, 0, 'no inspection failed during the swaps');
  t.ok(d.app.pipeline('cam1')!.counters.inspected > before, 'the camera kept inspecting');
});

t.test('undo: back to the version before the newest review, twice, then nothing to undo', async (t) => {
  const detail: Json = await getJson('/api/recipes/sim-part');
  t.ok(detail.undoable, 'the page is offered an undo');
  const r1 = await post('/api/recipes/sim-part/undo', {});
  const b1: Json = await r1.json();
  t.equal(r1.status, 200, JSON.stringify(b1));
  t.equal(b1.recipe.version, detail.undoable.fromVersion);
  t.equal(version(), b1.recipe.version, 'the camera inspects with the restored version');
  t.match(auditLines().at(-1), { action: 'undo', fromVersion: detail.undoable.toVersion, toVersion: detail.undoable.fromVersion });
  const doc: Json = await getJson(`/api/inspections/${encodeURIComponent(detail.undoable.inspectionId)}`);
  t.match(doc.reviews, [{ action: 'review', undone: true }, { action: 'undo' }]);
  const r2 = await post('/api/recipes/sim-part/undo', {});
  t.equal(r2.status, 200);
  const first: Json = (await r2.json()).recipe.version;
  const r3 = await post('/api/recipes/sim-part/undo', {});
  t.equal(r3.status, 422);
  t.match(await r3.json(), { error: { code: 'E_REVIEW_INVALID', message: /no review-made version/ } });
  t.equal(version(), first, 'two undos: the version the daemon started with');
  t.equal((await post('/api/recipes/no-such/undo', {})).status, 422, 'a recipe never reviewed has nothing to undo');
});

t.test('defect on a pass: labelled evidence; wrong labels, unknown ids, lost frames are refused', async (t) => {
  const passes = await inspections(true, 8);
  const pass = passes[0];
  const res = await review(pass.id, 'defect');
  const body: Json = await res.json();
  t.equal(res.status, 200, JSON.stringify(body));
  t.match(body.review, { label: 'defect', toVersion: null, evidence: /^evidence\/sim-part\/test\/missed\// });
  t.ok(existsSync(join(d.stateDirectory, body.review.evidence)), 'the frame is kept as defect evidence');
  t.notOk(body.recipe, 'the recipe is not changed by a missed defect');
  t.match((await getJson('/api/recipes/sim-part')).evidence, { missedDefects: 1 });

  t.match(await (await review(passes[1].id, 'good')).json(), { error: { code: 'E_REVIEW_INVALID', message: /passed/ } });
  const unknown = await review('cam1-0-0', 'good');
  t.equal(unknown.status, 404);
  t.match(await unknown.json(), { error: { code: 'E_INSPECTION_UNKNOWN' } });
  t.equal((await review(passes[1].id, 'maybe')).status, 400);
  // An old pass (out of the live cache) whose saved frame is gone: nothing to learn from.
  const old = passes[passes.length - 1];
  const rec: Json = await getJson(`/api/inspections/${encodeURIComponent(old.id)}`);
  rmSync(join(d.stateDirectory, 'archive', rec.files.frame), { force: true });
  const gone = await review(old.id, 'defect');
  t.equal(gone.status, 422);
  t.match(await gone.json(), { error: { code: 'E_REVIEW_INVALID', message: /saved frame is gone/ } });
});

t.test('recipes: list, details, reference images; made from uploads and from captured frames; bad uploads refused', async (t) => {
  const list: Json = await getJson('/api/recipes');
  t.match(list, [{ id: 'sim-part', cameras: ['cam1'], references: Number, versions: Number, bundle: { id: String } }]);
  const detail: Json = await getJson('/api/recipes/sim-part');
  t.ok(detail.references.length >= 8 && detail.references.every((r: Json) => r.kept), `${detail.references.length} references, all kept`);
  const img = await fetch(`${d.base}/api/recipes/sim-part/references/${encodeURIComponent(detail.references[0].name)}`);
  t.equal(img.status, 200);
  t.equal(img.headers.get('content-type'), 'image/png');
  t.equal((await fetch(`${d.base}/api/recipes/sim-part/references/nope.png`)).status, 404);
  t.equal((await fetch(`${d.base}/api/recipes/nope`)).status, 404);

  const frames = await Promise.all((await inspections(true, 3)).map(async (p) => new Uint8Array(await (await fetch(`${d.base}/api/inspections/${encodeURIComponent(p.id)}/frame.jpg`)).arrayBuffer())));
  const form = (id: string, files: [string, Uint8Array, string][]) => {
    const f = new FormData();
    f.set('id', id);
    for (const [name, bytes, type] of files) f.append('images', new Blob([Buffer.from(bytes)], { type }), name);
    return f;
  };
  const upload = (f: FormData, q = '') => fetch(`${d.base}/api/recipes${q}`, { method: 'POST', body: f });
  const refuse = async (f: FormData, status: number, code: string) => {
    const r = await upload(f);
    t.equal(r.status, status, code);
    t.match(await r.json(), { error: { code } });
  };
  await refuse(form('up', [['a.jpg', frames[0], 'image/jpeg'], ['notes.txt', new TextEncoder().encode('not an image at all'), 'text/plain']]), 415, 'E_UNSUPPORTED_MEDIA_TYPE');
  await refuse(form('up', [['big.jpg', new Uint8Array(400_000).fill(0xff), 'image/jpeg']]), 413, 'E_PAYLOAD_TOO_LARGE');
  const cut = frames[0].subarray(0, frames[0].length - 200);
  await refuse(form('up', [['cut.jpg', cut, 'image/jpeg']]), 400, 'E_IMAGE_UNDECODABLE');
  await refuse(form('sim-part', [['a.jpg', frames[0], 'image/jpeg']]), 409, 'E_RECIPE_EXISTS');
  await refuse(form('Bad Id', [['a.jpg', frames[0], 'image/jpeg']]), 400, 'E_RECIPE_INVALID');
  t.notOk(existsSync(join(d.stateDirectory, 'recipes', 'up')), 'nothing written for refused uploads');

  const t0 = performance.now();
  const made = await upload(form('up', frames.map((b, i) => [`good-${i}.jpg`, b, 'image/jpeg'] as [string, Uint8Array, string])));
  const madeBody: Json = await made.json();
  t.equal(made.status, 201, JSON.stringify(madeBody).slice(0, 300));
  t.comment(`recipe from 3 uploaded images: ${(performance.now() - t0).toFixed(0)} ms`);
  t.match(madeBody, { id: 'up', version: /^[0-9a-f]{12}$/, references: [{ name: 'good-0.jpg', kept: true }, {}, {}], cameras: [] });

  const fromLine = await post('/api/recipes', { id: 'from-line', inspections: (await inspections(true, 2)).map((p) => p.id) });
  t.equal(fromLine.status, 201);
  t.match(await fromLine.json(), { id: 'from-line', references: [{ name: /^cam1-.*\.(png|jpg)$/ }, {}] });
  t.equal((await post('/api/recipes', { id: 'x', inspections: ['cam1-0-0'] })).status, 404, 'an unknown inspection');

  // Unlabelled frames of the line: good ones and two judged defective; the odd ones are left out.
  const goods = (await inspections(true, 8)).map((p) => p.id);
  // The two clearest defects among the recent fails (a simulated defect can be a few pixels).
  const recentFails: Json[] = (await getJson('/api/inspections?camera=cam1&pass=false&limit=50')).items;
  const fails = recentFails.sort((a, b) => b.score - a.score).slice(0, 2).map((p) => p.id as string);
  const auto = await post('/api/recipes?unlabelled=true', { id: 'line-auto', inspections: [...goods, ...fails] });
  const autoBody: Json = await auto.json();
  t.equal(auto.status, 201, JSON.stringify(autoBody).slice(0, 300));
  t.comment(`unlabelled: dropped ${JSON.stringify(autoBody.dropped)}`);
  t.equal(autoBody.references.length + autoBody.dropped.length, goods.length + fails.length, 'every frame is a reference or dropped');
  t.ok(autoBody.dropped.length >= 1, 'at least one odd frame left out');
  const dropped = new Set(autoBody.dropped.map((n: string) => n.replace(/\.(png|jpg)$/, '')));
  t.ok(fails.every((id) => dropped.has(id.replace(/[^\w.-]/g, '_'))), 'both defective frames are left out');
  t.ok(dropped.size <= fails.length, 'no more frames left out than there were defective ones');
  t.equal((await post('/api/recipes?unlabelled=true', { id: 'too-few', inspections: goods.slice(0, 2) })).status, 422, 'two frames cannot be scored against each other');

  // The new recipe can be selected (the same path as OPC UA SelectRecipe).
  const sel = await fetch(`${d.base}/api/cameras/cam1/recipe`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ recipe: 'up' }) });
  t.equal(sel.status, 200);
  t.equal(d.app.control.camera('cam1')!.snapshot().recipe.id, 'up');
  t.same((await getJson('/api/recipes')).map((r: Json) => r.id), ['from-line', 'line-auto', 'sim-part', 'up']);
  t.match(auditLines().filter((l) => l.action === 'recipe-create').map((l) => l.recipe), ['up', 'from-line', 'line-auto']);
});

t.test('relearn: passes of the line join the boundary evidence, a new version; fails, other recipes and bad bodies are refused', async (t) => {
  const passes = (await getJson('/api/inspections?camera=cam1&pass=true&recipe=sim-part&limit=6')).items.map((p: Json) => p.id as string);
  t.equal(passes.length, 6, 'six passes of sim-part');
  const before: Json = await getJson('/api/recipes/sim-part');
  const r = await post('/api/recipes/sim-part/relearn', { inspections: passes });
  const body: Json = await r.json();
  t.equal(r.status, 200, JSON.stringify(body).slice(0, 300));
  t.match(body, { recipe: { id: 'sim-part', previousVersion: before.version }, frames: 6, threshold: { before: before.boundary.threshold, after: Number } });
  t.not(body.recipe.version, before.version, 'a new version');
  t.equal(body.scores.length, 6);
  const after: Json = await getJson('/api/recipes/sim-part');
  t.equal(after.version, body.recipe.version, 'the new version is the active one');
  t.equal(after.boundary.threshold, body.threshold.after);
  t.match(auditLines().at(-1), { action: 'relearn', recipe: 'sim-part', fromVersion: before.version, toVersion: body.recipe.version, frames: 6 });

  const fail = (await getJson('/api/inspections?camera=cam1&pass=false&recipe=sim-part&limit=1')).items[0].id as string;
  const refused = await post('/api/recipes/sim-part/relearn', { inspections: [passes[0], fail] });
  t.equal(refused.status, 422, 'a fail is not line evidence of normal parts');
  t.match(await refused.json(), { error: { code: 'E_REVIEW_INVALID' } });
  t.equal((await getJson('/api/recipes/sim-part')).version, body.recipe.version, 'nothing changed on a refusal');
  t.equal((await post('/api/recipes/sim-part/relearn', { inspections: [] })).status, 400);
  t.equal((await post('/api/recipes/sim-part/relearn', {})).status, 400);
  t.equal((await post('/api/recipes/nope/relearn', { inspections: passes })).status, 404);
});
