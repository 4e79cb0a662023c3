/** The inspection record against real SQLite (WAL, writer thread) and real image files. */
import t from 'tap';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { InspectionRecord } from '../../src/archive/inspection-record.js';
import { loadOpenCv } from '../../src/capture/opencv.js';
import { capturingLogger, silentLogger } from '../support/logger.js';
import { DAY0, frame, imageFiles, recordConfig, verdict } from './fixtures.js';

t.test('a verdict is a row, its frame a JPEG and its mask a PNG; the mask bytes are not in the row', async (t) => {
  const dir = t.testdir();
  const r = new InspectionRecord(recordConfig(dir, { saveFrames: 'fails', fsync: true }), silentLogger());
  await r.start();
  t.teardown(() => r.stop());
  const s1 = await r.append(verdict(1, true), frame(1));
  const s2 = await r.append(verdict(2, false, { mask: 100 }), frame(2));
  t.same([s1, s2], [1, 2], 'seqs in commit order');
  t.same(await imageFiles(dir), [
    'files/2025-03-14/cam_1-1741946402000-2.frame.jpg',
    'files/2025-03-14/cam_1-1741946402000-2.mask.png',
  ], 'no frame for a pass under saveFrames=fails');
  const got = r.get('cam/1-1741946402000-2')!;
  t.equal(got.seq, 2);
  t.equal(got.verdict.score, 0.8);
  t.equal((got.verdict as { maskPng?: unknown }).maskPng, undefined);
  t.same(got.verdict.locations[0].grid, 'top left');
  const jpg = loadOpenCv().imdecode(await readFile(r.filePath(got.files.frame!)));
  t.same([jpg.cols, jpg.rows], [32, 24]);
  t.same([...(await readFile(r.filePath(got.files.mask!)))], [...new Uint8Array(100).fill(7)]);
  const decoded = await r.readFrame(got.id);
  t.same([decoded?.width, decoded?.height, decoded?.channels], [32, 24, 3]);
  t.equal(r.get('nope'), undefined);
  t.equal(await r.readFrame(verdict(1, true).id), undefined, 'no frame saved for the pass');
  t.match(r.stats(), { records: 2, head: 2, pending: 0, writeErrors: 0, evicted: 0, lost: {} });
});

t.test('group commit: 300 appends at once all land, each with its own seq', async (t) => {
  const dir = t.testdir();
  const r = new InspectionRecord(recordConfig(dir, { saveFrames: 'none', fsync: true }), silentLogger());
  await r.start();
  t.teardown(() => r.stop());
  const seqs = await Promise.all(Array.from({ length: 300 }, (_, i) => r.append(verdict(i + 1, i % 3 !== 0))));
  t.same([...seqs].sort((a, b) => a - b), Array.from({ length: 300 }, (_, i) => i + 1), 'no seq lost or reused');
  t.equal(r.stats().records, 300);
  t.same(r.after(295, 10).map((x) => x.seq), [296, 297, 298, 299, 300]);
});

t.test('retention by count and by bytes removes the oldest rows with their files', async (t) => {
  const dir = t.testdir();
  const r = new InspectionRecord(recordConfig(dir, { maxRecords: 3 }), silentLogger());
  await r.start();
  for (let i = 1; i <= 5; i++) await r.append(verdict(i, false, { mask: 50 }), frame(i));
  t.match(r.stats(), { records: 3, evicted: 2, head: 5 });
  const files = await imageFiles(dir);
  t.equal(files.length, 6, '3 rows × (frame + mask)');
  t.notOk(files.some((f) => /-[12]\./.test(f)), 'rows 1 and 2 went with their files');
  await r.stop();

  const b = new InspectionRecord(recordConfig(t.testdir(), { maxBytes: 30_000, saveFrames: 'none' }), silentLogger());
  await b.start();
  for (let i = 1; i <= 6; i++) await b.append(verdict(i, false, { mask: 10_000 }));
  t.ok(b.stats().bytes <= 30_000, `bytes ${b.stats().bytes} ≤ 30 000`);
  t.match(b.stats(), { records: 2, evicted: 4 });
  t.same(b.history().items.map((x) => x.verdict.seq), [6, 5]);
  await b.stop();
});

t.test('reopen: rows, seqs and cursors persist; files no row references are removed', async (t) => {
  const dir = t.testdir();
  const a = new InspectionRecord(recordConfig(dir, { maxRecords: 3 }), silentLogger());
  await a.start();
  for (let i = 1; i <= 4; i++) await a.append(verdict(i, false, { mask: 20 }), frame(i));
  await a.setCursor('mqtt', 3);
  await a.stop();
  await t.rejects(a.append(verdict(9, true)), { code: 'E_ARCHIVE_IO' }, 'no append after stop');
  // Leftovers of a crash between the image write and the commit.
  await writeFile(path.join(dir, 'files', '2025-03-14', 'cam_1-9-9.frame.jpg'), 'orphan');
  await mkdir(path.join(dir, 'files', '2025-01-01'));
  await writeFile(path.join(dir, 'files', '2025-01-01', 'x.mask.png'), 'orphan');

  const { logger, lines } = capturingLogger();
  const b = new InspectionRecord(recordConfig(dir, { maxRecords: 3 }), logger);
  await b.start();
  t.teardown(() => b.stop());
  t.ok(lines.some((l) => l.removedOrphans === 2), 'both orphans removed and said so');
  t.same(await imageFiles(dir), (await imageFiles(dir)).filter((f) => !f.includes('orphan')));
  t.equal(b.cursor('mqtt'), 3);
  t.equal(b.cursor('other'), undefined);
  t.same(b.history().items.map((x) => x.verdict.seq), [4, 3, 2]);
  t.equal(await b.append(verdict(5, true)), 5, 'seqs continue after a restart');
});

t.test('retention past a cursor is a counted, logged, persisted loss; the cursor moves on', async (t) => {
  const dir = t.testdir();
  const { logger, lines } = capturingLogger();
  const a = new InspectionRecord(recordConfig(dir, { maxRecords: 2, saveFrames: 'none' }), logger);
  await a.start();
  await a.setCursor('mqtt', 0);
  for (let i = 1; i <= 5; i++) await a.append(verdict(i, true));
  t.same(a.stats().lost, { mqtt: 3 }, 'rows 1–3 left before the consumer had them');
  t.equal(a.cursor('mqtt'), 3);
  t.ok(lines.some((l) => l.level === 40 && l.consumer === 'mqtt'), 'logged at warn');
  await a.stop();
  const b = new InspectionRecord(recordConfig(dir, { maxRecords: 2, saveFrames: 'none' }), silentLogger());
  await b.start();
  t.same(b.stats().lost, { mqtt: 3 }, 'the loss count survives a restart');
  await b.stop();
});

t.test('history: filters by camera, result, recipe and time, newest first, paged by seq', async (t) => {
  const r = new InspectionRecord(recordConfig(t.testdir(), { saveFrames: 'none' }), silentLogger());
  await r.start();
  t.teardown(() => r.stop());
  for (let i = 1; i <= 30; i++) {
    await r.append(verdict(i, i % 3 !== 0, { camera: i % 2 ? 'a' : 'b', recipe: i <= 15 ? 'r1' : 'r2' }));
  }
  const fails = r.history({ pass: false, limit: 4 });
  t.equal(fails.total, 10);
  t.same(fails.items.map((x) => x.verdict.seq), [30, 27, 24, 21]);
  t.same(r.history({ pass: false, limit: 4, before: fails.next! }).items.map((x) => x.verdict.seq), [18, 15, 12, 9]);
  const last = r.history({ pass: false, limit: 4, before: 9 });
  t.same(last.items.map((x) => x.verdict.seq), [6, 3]);
  t.equal(last.next, null, 'the last page says so');
  t.equal(r.history({ camera: 'a', recipe: 'r2' }).total, 7);
  t.same(r.history({ from: DAY0 + 5000, to: DAY0 + 8000 }).items.map((x) => x.verdict.seq), [7, 6, 5]);
  t.equal(r.history({ limit: 100_000 }).items.length, 30, 'a page is capped (500) but 30 fit');
});

t.test('a write that cannot happen rejects with E_ARCHIVE_IO, leaves no file, and the record recovers', async (t) => {
  const dir = t.testdir();
  const { logger, lines } = capturingLogger();
  const r = new InspectionRecord(recordConfig(dir), logger);
  await r.start();
  t.teardown(() => r.stop());
  // Block the day folder with a plain file: the image write fails even for root.
  await mkdir(path.join(dir, 'files'), { recursive: true });
  await writeFile(path.join(dir, 'files', '2025-03-14'), 'not a folder');
  await t.rejects(r.append(verdict(1, false, { mask: 10 }), frame(1)), { code: 'E_ARCHIVE_IO' });
  await t.rejects(r.append(verdict(2, false), frame(2)), { code: 'E_ARCHIVE_IO' });
  t.match(r.stats(), { records: 0, writeErrors: 2 });
  t.equal(lines.filter((l) => l.code === 'E_ARCHIVE_IO').length, 1, 'the second error within 10 s is not logged again');
  t.equal(r.get(verdict(1, false).id), undefined);
  // A duplicate id is refused by the database: nothing half-written stays referenced.
  await writeFile(path.join(dir, 'files', '2025-03-14'), '');
  const dayOther = verdict(3, true, { capturedAt: DAY0 + 86_400_000 });
  await r.append(dayOther, frame(3));
  await t.rejects(r.append(dayOther), { code: 'E_ARCHIVE_IO' }, 'the same id twice');
  t.equal(r.stats().records, 1, 'it recovered for writable days');
});

t.test('start fails with E_ARCHIVE_IO when the folder cannot exist', async (t) => {
  const dir = t.testdir({ file: 'x' });
  const r = new InspectionRecord(recordConfig(path.join(dir, 'file', 'sub')), silentLogger());
  await t.rejects(r.start(), { code: 'E_ARCHIVE_IO' });
});
