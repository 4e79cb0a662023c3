/**
 * The console's HTTP API inside the real daemon (simulated cameras, default bundle, the record
 * on disk): cameras, the live event stream, history and one inspection with its images, the
 * numbers, the recipe switch through CameraControl.selectRecipe, and the static page.
 */
import t from 'tap';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadOpenCv } from '../../src/capture/opencv.js';
import { copyRecipe, readEvents, SIM_CAMERA, startConsoleDaemon, type ConsoleDaemon, daemonTestdir } from '../support/console-daemon.js';
import { until } from '../support/wait.js';

// Bodies are checked field by field.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const json = async (res: Response): Promise<any> => res.json();

let d: ConsoleDaemon;
const root = daemonTestdir(t);

t.before(async () => {
  d = await startConsoleDaemon(t, root, { cameras: [SIM_CAMERA('cam1', 11), SIM_CAMERA('cam2', 12, { trigger: { mode: 'free-run', fps: 2 } })] });
  await until(() => (d.app.pipeline('cam1')?.counters.failed ?? 0) >= 2 && (d.app.pipeline('cam1')?.counters.passed ?? 0) >= 2, 30_000, 'a pass and a fail on cam1', 50);
});

t.test('GET /api/cameras: both cameras with state, recipe, counters, rate and the last verdict', async (t) => {
  const cams = await json(await fetch(`${d.base}/api/cameras`));
  t.same(cams.map((c: { id: string }) => c.id), ['cam1', 'cam2']);
  const c = cams[0];
  t.match(c, { state: 'streaming', trigger: { mode: 'free-run', fps: 4 }, recipe: { id: 'sim-part', version: /^[0-9a-f]{12}$/ }, counters: { inspected: Number } });
  t.ok(c.fps > 0, `inspections/s ${c.fps}`);
  t.match(c.lastVerdict, { camera: 'cam1', files: { frame: true, map: true }, crop: { width: Number } });
  t.ok(c.drift && typeof c.drift.state === 'string', `drift ${c.drift.state}`);
});

t.test('GET /api/events: the current state first, then each recorded verdict as it happens', async (t) => {
  const t0 = Date.now();
  const events = await readEvents(`${d.base}/api/events`, (ev) => ev.filter((e) => e.event === 'verdict' && e.data.inspection.decidedAt > t0).length >= 4 && ev.some((e) => e.event === 'cameras' && e.at > t0 + 1000));
  t.equal(events[0].event, 'cameras', 'the cameras come first');
  const fresh = events.filter((e) => e.event === 'verdict' && e.data.inspection.decidedAt > t0);
  t.ok(fresh.length >= 4, `${fresh.length} new verdicts pushed`);
  for (const e of fresh) t.match(e.data, { camera: /^cam[12]$/, inspection: { id: String, seq: Number, pass: Boolean, timings: { totalMs: Number } } });
  const lags = fresh.map((e) => e.at - e.data.inspection.decidedAt).sort((a, b) => a - b);
  t.comment(`decided → event received (Node client): p50 ${lags[Math.floor((lags.length - 1) / 2)]} ms, max ${lags[lags.length - 1]} ms`);
  t.ok(events.filter((e) => e.event === 'cameras').length >= 2, 'cameras every second');
});

t.test('history, one inspection, its images and record', async (t) => {
  const page = await json(await fetch(`${d.base}/api/inspections?camera=cam1&pass=false&limit=1`));
  t.equal(page.items.length, 1);
  t.ok(page.total >= 2);
  t.type(page.next, 'number', 'there is an older page');
  const older = await json(await fetch(`${d.base}/api/inspections?camera=cam1&pass=false&limit=1&before=${page.next}`));
  t.ok(older.items[0].seq < page.items[0].seq, 'the next page is older');
  const id = page.items[0].id as string;
  t.equal((await fetch(`${d.base}/api/inspections?pass=maybe`)).status, 400, 'a bad filter is E_REQUEST_INVALID');

  const doc = await json(await fetch(`${d.base}/api/inspections/${encodeURIComponent(id)}`));
  t.match(doc.inspection, { id, camera: 'cam1', pass: false, files: { frame: true, mask: true, map: true } });
  t.ok(doc.inspection.locations.length >= 1, 'a fail has regions');
  t.notOk('map' in doc.verdict, 'the record JSON has no map data');
  t.match(doc.verdict.crop, { x: Number, y: Number, width: Number, height: Number });

  const cv = loadOpenCv();
  const img = async (kind: string) => {
    const res = await fetch(`${d.base}/api/inspections/${encodeURIComponent(id)}/${kind}`);
    t.equal(res.status, 200, kind);
    t.match(res.headers.get('cache-control'), /immutable/);
    return { type: res.headers.get('content-type'), mat: cv.imdecode(Buffer.from(await res.arrayBuffer()), cv.IMREAD_UNCHANGED) };
  };
  const frame = await img('frame.jpg');
  t.same([frame.type, frame.mat.cols, frame.mat.rows], ['image/jpeg', 320, 240]);
  const map = await img('map.png');
  t.equal(map.type, 'image/png');
  t.equal(map.mat.channels, 1, 'the map is 8-bit grey');
  t.ok(map.mat.cols < 320, `at the map's resolution (${map.mat.cols}×${map.mat.rows})`);
  const levels = map.mat.getData();
  t.ok(Math.max(...levels) > 128, 'a fail has map values above the boundary (128)');
  const mask = await img('mask.png');
  t.same([mask.mat.cols, mask.mat.rows], [320, 240]);

  const rec = await fetch(`${d.base}/api/inspections/${encodeURIComponent(id)}/record.json`);
  t.match(rec.headers.get('content-disposition'), /^attachment; filename=".*\.json"$/);
  t.match(await json(rec), { id, verdict: { pass: false }, files: { frame: /\.frame\.jpg$/, map: /\.map\.png$/ } });

  const unknown = await fetch(`${d.base}/api/inspections/nope-1-1`);
  t.equal(unknown.status, 404);
  t.equal((await json(unknown)).error.code, 'E_INSPECTION_UNKNOWN');
  t.equal((await fetch(`${d.base}/api/inspections/nope-1-1/frame.jpg`)).status, 404);
  t.equal((await fetch(`${d.base}/api/inspections/${encodeURIComponent(id)}`, { method: 'DELETE' })).status, 405);
});

t.test('numbers: yield per hour, recent pass scores with the drift state, the last eval report', async (t) => {
  const buckets = await json(await fetch(`${d.base}/api/stats/yield?hours=6`));
  t.equal(buckets.length, 6, 'one bucket per hour, gaps filled');
  const total = buckets.reduce((a: number, b: { inspected: number }) => a + b.inspected, 0);
  t.ok(total >= 4, `${total} inspections in the last hours`);
  t.ok(buckets.every((b: { inspected: number; passed: number; failed: number }) => b.inspected === b.passed + b.failed));
  const cam1Only = await json(await fetch(`${d.base}/api/stats/yield?hours=6&camera=cam1`));
  t.ok(cam1Only.reduce((a: number, b: { inspected: number }) => a + b.inspected, 0) < total, 'filtered by camera');

  const scores = await json(await fetch(`${d.base}/api/stats/scores?recipe=sim-part`));
  t.match(scores, { recipe: 'sim-part', version: /^[0-9a-f]{12}$/, threshold: Number, drift: { state: String, window: 200 } });
  t.ok(scores.passes.length >= 2 && scores.passes.every((s: number) => s <= scores.threshold), 'pass scores are at or below the boundary');
  t.ok(scores.references.length >= 2, 'the calibration normal scores');
  t.equal((await fetch(`${d.base}/api/stats/scores?recipe=nope`)).status, 404);

  let r = await fetch(`${d.base}/api/eval/latest`);
  t.equal(r.status, 404);
  t.match((await json(r)).error.message, /eval DIR .*--json .*eval\/latest\.json/);
  mkdirSync(join(d.stateDirectory, 'eval'), { recursive: true });
  writeFileSync(join(d.stateDirectory, 'eval', 'latest.json'), JSON.stringify({ schema: 'anomalygpt-edge/eval@1', categories: [{ name: 'x', roc: [{ auroc: 1, fpr: [0, 1], tpr: [1, 1] }] }] }));
  r = await fetch(`${d.base}/api/eval/latest`);
  t.equal(r.status, 200);
  t.equal((await json(r)).categories[0].name, 'x');
});

t.test('PUT /api/cameras/{id}/recipe switches through the same control path as OPC UA SelectRecipe', async (t) => {
  copyRecipe(d.stateDirectory, 'sim-part', 'sim-part-b');
  const put = (cam: string, body: unknown) => fetch(`${d.base}/api/cameras/${cam}/recipe`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  let r = await put('cam2', { recipe: 'nope' });
  t.equal(r.status, 404);
  t.equal((await json(r)).error.code, 'E_RECIPE_NOT_FOUND');
  r = await put('cam2', { recipe: '../etc' });
  t.equal(r.status, 400, 'a malformed id is E_RECIPE_INVALID');
  t.equal((await put('cam9', { recipe: 'sim-part' })).status, 404, 'unknown camera');
  t.equal((await put('cam2', {})).status, 400);
  const seen = readEvents(`${d.base}/api/events`, (ev) => ev.some((e) => e.event === 'recipe'), 15_000);
  await new Promise((res) => setTimeout(res, 300));
  r = await put('cam2', { recipe: 'sim-part-b' });
  t.equal(r.status, 200);
  t.match(await json(r), { camera: 'cam2', recipe: { id: 'sim-part-b' }, previous: { id: 'sim-part' } });
  const ev = (await seen).find((e) => e.event === 'recipe');
  t.match(ev?.data, { camera: 'cam2', recipe: { id: 'sim-part-b' }, by: 'local' }, 'the switch is pushed, with who made it');
  await until(() => d.app.pipeline('cam2')!.status().lastVerdict !== null && d.app.status().cameras.cam2.recipe.id === 'sim-part-b', 5000, 'status shows it');
  const t0 = Date.now();
  await until(async () => {
    const p = await json(await fetch(`${d.base}/api/inspections?camera=cam2&limit=1`));
    return p.items[0]?.capturedAt > t0 && p.items[0].recipe.id === 'sim-part-b';
  }, 15_000, 'a verdict made with the new recipe', 200);
  t.equal(d.app.control.camera('cam1')!.snapshot().recipe.id, 'sim-part', 'the other camera keeps its recipe');
});

t.test('the page: index, modules and styles with the CSP; nothing outside web/', async (t) => {
  const index = await fetch(`${d.base}/`);
  t.equal(index.status, 200);
  t.match(index.headers.get('content-type'), /^text\/html/);
  t.match(index.headers.get('content-security-policy'), /default-src 'none'/);
  const html = await index.text();
  t.match(html, /<script type="module" src="\/js\/main\.js">/);
  t.notMatch(html, /https?:\/\//, 'no external URL in the page');
  const js = await fetch(`${d.base}/js/main.js`);
  t.match(js.headers.get('content-type'), /javascript/);
  t.equal((await fetch(`${d.base}/css/console.css`)).status, 200);
  t.equal((await fetch(`${d.base}/../package.json`)).status, 404);
  t.equal((await fetch(`${d.base}/js/%2e%2e/%2e%2e/package.json`)).status, 404);
  const st = await json(await fetch(`${d.base}/status`));
  t.match(st, { http: { authRequired: false }, disk: { freeBytes: Number }, drift: Array, sinks: { drift: Object, live: Object } });
});
