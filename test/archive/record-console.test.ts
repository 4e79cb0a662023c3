/**
 * What the technician's page needs of the inspection record: the anomaly map saved with the
 * frame (and removed with it), the crop it covers, a schema-1 file upgraded in place, yield per
 * hour as one aggregate, the judge's recent pass scores, and history paging over 10 000 rows.
 */
import t from 'tap';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { InspectionRecord } from '../../src/archive/inspection-record.js';
import { loadOpenCv } from '../../src/capture/opencv.js';
import type { Verdict } from '../../src/judge/verdict.js';
import { silentLogger } from '../support/logger.js';
import { DAY0, frame, imageFiles, recordConfig, verdict } from './fixtures.js';

/** A verdict with a 4×3 anomaly map over a crop, and the judge's figures. */
function withMap(seq: number, pass: boolean, over: { capturedAt?: number; score?: number; version?: string } = {}): Verdict {
  const v = verdict(seq, pass, { ...(over.capturedAt !== undefined ? { capturedAt: over.capturedAt } : {}), ...(pass ? {} : { mask: 20 }) });
  const score = over.score ?? v.score;
  return {
    ...v,
    score,
    recipe: { id: 'bottle', version: over.version ?? '1' },
    judge: { pass, score, threshold: 0.4, confidence: 0.9, model: { id: 'm', version: '2' } },
    map: { width: 4, height: 3, data: new Float32Array([0, 0.1, 0.2, 0.4, 0.8, 0.3, 0, 0, 0.4, 0.4, 0.4, 0.4]), crop: { x: 4, y: 0, width: 24, height: 24 } },
  };
}

t.test('the map is saved as 8-bit PNG with the frame, the crop in the JSON, and both go with retention', async (t) => {
  const dir = t.testdir();
  const r = new InspectionRecord(recordConfig(dir, { saveFrames: 'fails', maxRecords: 2 }), silentLogger());
  await r.start();
  t.teardown(() => r.stop());
  await r.append(withMap(1, true), frame(1));
  await r.append(withMap(2, false), frame(2));
  const pass = r.get(withMap(1, true).id)!;
  t.same(pass.files, { frame: null, mask: null, map: null }, 'no frame saved → no map either');
  const fail = r.get(withMap(2, false).id)!;
  t.match(fail.files.map, /\.map\.png$/);
  t.same(fail.verdict.crop, { x: 4, y: 0, width: 24, height: 24 }, 'the crop is kept');
  t.notOk('map' in fail.verdict, 'the map data is not in the JSON');
  const row = new Database(join(dir, 'inspections.db'), { readonly: true }).prepare('SELECT verdict FROM inspections WHERE seq = 2').get() as { verdict: string };
  t.notMatch(row.verdict, /"data"/, 'no map values in the stored row');
  const cv = loadOpenCv();
  const png = cv.imdecode(await readFile(r.filePath(fail.files.map!)), cv.IMREAD_UNCHANGED);
  t.same([png.cols, png.rows, png.channels], [4, 3, 1]);
  t.same([...png.getData()].slice(0, 5), [0, 32, 64, 128, 255], '128 = the judge\'s boundary 0.4, 255 = twice it');
  // Two more fails push both older rows out: their files go, map included.
  await r.append(withMap(3, false), frame(3));
  await r.append(withMap(4, false), frame(4));
  const files = await imageFiles(dir);
  t.equal(files.filter((f) => f.endsWith('.map.png')).length, 2, 'only the two kept rows have maps');
  t.notOk(files.some((f) => f.includes('-2.')), 'the evicted row\'s frame, mask and map are gone');
});

t.test('a schema-1 record file gets the map column in place; its old rows read with map null', async (t) => {
  const dir = t.testdir();
  const db = new Database(join(dir, 'inspections.db'));
  db.exec(`CREATE TABLE inspections (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, camera TEXT NOT NULL, captured_at INTEGER NOT NULL,
    decided_at INTEGER NOT NULL, recorded_at INTEGER NOT NULL, pass INTEGER NOT NULL, score REAL NOT NULL, threshold REAL NOT NULL, confidence REAL NOT NULL,
    decided_by TEXT NOT NULL, recipe_id TEXT NOT NULL, recipe_version TEXT NOT NULL, verdict TEXT NOT NULL, frame_file TEXT, mask_file TEXT, bytes INTEGER NOT NULL);
    CREATE TABLE cursors (name TEXT PRIMARY KEY, seq INTEGER NOT NULL); CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);`);
  const old = verdict(1, true);
  db.prepare(`INSERT INTO inspections (id, camera, captured_at, decided_at, recorded_at, pass, score, threshold, confidence, decided_by, recipe_id, recipe_version, verdict, frame_file, mask_file, bytes)
    VALUES (?, ?, ?, ?, ?, 1, 0.1, 0.4, 0.9, 'judge', 'bottle', '1', ?, NULL, NULL, 10)`).run(old.id, old.cameraId, old.capturedAt, old.decidedAt, old.capturedAt, JSON.stringify(old));
  db.pragma('user_version = 1');
  db.close();
  const r = new InspectionRecord(recordConfig(dir), silentLogger());
  await r.start();
  t.teardown(() => r.stop());
  t.same(r.get(old.id)?.files, { frame: null, mask: null, map: null });
  await r.append(withMap(2, false), frame(2));
  t.match(r.get(withMap(2, false).id)?.files.map, /\.map\.png$/);
  t.equal(r.history().total, 2);
  // Schema 3: the reviews table, added to the old file in place.
  const rid = await r.addReview({ inspectionId: old.id, at: 5, user: 'ann', action: 'review', label: 'good', recipeId: 'bottle', fromVersion: '1', toVersion: '2', undoes: null, note: 'ok part', evidence: null });
  t.same(r.reviews(old.id), [{ id: rid, inspectionId: old.id, at: 5, user: 'ann', action: 'review', label: 'good', recipeId: 'bottle', fromVersion: '1', toVersion: '2', undoes: null, note: 'ok part', evidence: null }]);
});

t.test('reviews: stored with their inspection and per recipe, newest first; appends in the same commit are unaffected', async (t) => {
  const dir = t.testdir();
  const r = new InspectionRecord(recordConfig(dir, { saveFrames: 'none' }), silentLogger());
  await r.start();
  const v = withMap(1, false);
  const row = (action: 'review' | 'undo', undoes: number | null) => ({ inspectionId: v.id, at: Date.now(), user: 'bob', action, label: 'good' as const, recipeId: 'bottle', fromVersion: 'a', toVersion: 'b', undoes, note: null, evidence: null });
  // Queued together: one transaction holds the append and the review.
  const [seq, first] = await Promise.all([r.append(v, frame(1)), r.addReview(row('review', null))]);
  const undo = await r.addReview(row('undo', first));
  t.equal(seq, 1);
  t.same(r.reviews(v.id).map((x) => [x.id, x.action, x.undoes]), [[first, 'review', null], [undo, 'undo', first]]);
  t.same(r.recipeReviews('bottle').map((x) => x.id), [undo, first], 'newest first');
  t.same(r.recipeReviews('other'), []);
  await r.stop();
  // Durable: read back after a restart.
  const again = new InspectionRecord(recordConfig(dir, { saveFrames: 'none' }), silentLogger());
  await again.start();
  t.teardown(() => again.stop());
  t.equal(again.reviews(v.id).length, 2);
});

t.test('yield per hour is one aggregate over capture time; pass scores are the judge\'s, per version', async (t) => {
  const dir = t.testdir();
  const r = new InspectionRecord(recordConfig(dir, { saveFrames: 'none' }), silentLogger());
  await r.start();
  t.teardown(() => r.stop());
  const H = 3_600_000;
  const hour0 = Math.floor(DAY0 / H) * H;
  let seq = 0;
  const at = (hour: number, k: number) => hour0 + hour * H + k * 1000;
  for (let k = 0; k < 6; k++) await r.append(withMap(++seq, k < 4, { capturedAt: at(0, k), score: 0.1 + k / 100 }), frame(seq));
  for (let k = 0; k < 3; k++) await r.append(withMap(++seq, true, { capturedAt: at(2, k), score: 0.2, version: '2' }), frame(seq));
  const buckets = r.yieldPerHour({ from: hour0, to: hour0 + 3 * H });
  t.same(buckets, [
    { hour: hour0, inspected: 6, passed: 4, failed: 2 },
    { hour: hour0 + 2 * H, inspected: 3, passed: 3, failed: 0 },
  ], 'hours without inspections are absent');
  t.same(r.yieldPerHour({ from: hour0 + H, to: hour0 + 3 * H }).map((b) => b.inspected), [3], 'the range is respected');
  t.same(r.yieldPerHour({ from: hour0, to: hour0 + 3 * H, camera: 'nope' }), []);
  const v1 = r.passScores('bottle', 10, '1');
  t.same(v1.scores.map((x) => Math.round(x * 100) / 100), [0.13, 0.12, 0.11, 0.1], 'version 1 passes, newest first');
  t.equal(v1.threshold, 0.4);
  t.equal(r.passScores('bottle', 10, '2').scores.length, 3);
  t.equal(r.passScores('bottle', 2).scores.length, 2, 'limit');
  t.same(r.passScores('other', 10).scores, []);
});

t.test('history pages through 10 000 rows by seq without loading them', async (t) => {
  const dir = t.testdir();
  const r = new InspectionRecord(recordConfig(dir, { saveFrames: 'none', maxRecords: 20_000 }), silentLogger());
  await r.start();
  t.teardown(() => r.stop());
  const N = 10_000;
  const pending: Promise<number>[] = [];
  for (let i = 1; i <= N; i++) pending.push(r.append(verdict(i, i % 7 !== 0, { camera: i % 2 ? 'a' : 'b' })));
  await Promise.all(pending);
  let before: number | undefined;
  let pages = 0;
  let seen = 0;
  let last = Infinity;
  let slowest = 0;
  do {
    const t0 = performance.now();
    const page = r.history({ pass: false, limit: 100, ...(before !== undefined ? { before } : {}) });
    slowest = Math.max(slowest, performance.now() - t0);
    t.ok(page.items.every((x) => !x.verdict.pass && x.seq < last), 'fails only, strictly older than the last page');
    last = page.items[page.items.length - 1]?.seq ?? last;
    seen += page.items.length;
    pages++;
    if (pages === 1) t.equal(page.total, Math.floor(N / 7), 'total counts every match');
    before = page.next ?? undefined;
  } while (before !== undefined);
  t.equal(seen, Math.floor(N / 7), 'every fail, once');
  t.equal(pages, Math.ceil(Math.floor(N / 7) / 100));
  const deep = r.history({ camera: 'b', before: 200, limit: 50 });
  t.same(deep.items.map((x) => x.seq), Array.from({ length: 50 }, (_, i) => 198 - 2 * i), 'a page deep in the table');
  t.comment(`slowest page of 100 over ${N} rows: ${slowest.toFixed(1)} ms`);
  t.ok(slowest < 500, 'a page is an index walk, not a table scan');
});
