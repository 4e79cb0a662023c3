import t from 'tap';
import { chmod, readdir, readFile, stat, writeFile, mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import type { Frame } from '../../src/capture/frame.js';
import { loadOpenCv } from '../../src/capture/opencv.js';
import type { Verdict } from '../../src/judge/verdict.js';
import { InspectionArchive, type ArchiveOptions } from '../../src/archive/archive.js';

const DAY0 = Date.UTC(2025, 2, 14, 10, 0, 0);

function logger(): { log: pino.Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk, _enc, cb) { lines.push(JSON.parse(String(chunk))); cb(); },
  });
  return { log: pino({ level: 'debug' }, sink), lines };
}

function verdict(seq: number, pass: boolean, opts: { capturedAt?: number; mask?: number } = {}): Verdict {
  const capturedAt = opts.capturedAt ?? DAY0 + seq * 1000;
  return {
    id: `cam/1-${capturedAt}-${seq}`, cameraId: 'cam/1', seq, capturedAt, decidedAt: capturedAt + 30,
    pass, confidence: 0.9, score: pass ? 0.1 : 0.8, threshold: 0.4,
    locations: pass ? [] : [{ box: { x: 1, y: 2, width: 3, height: 4 }, centroid: { x: 2, y: 3 }, grid: 'top left', area: 12, peak: 0.8 }],
    ...(opts.mask ? { maskPng: new Uint8Array(opts.mask).fill(7) } : {}),
    recipe: { id: 'bottle', version: '1' }, model: { id: 'm', version: '2' },
    timings: { preprocessMs: 1, encoderMs: 2, mapMs: 3, judgeMs: 4, totalMs: 10 },
    frame: { width: 32, height: 24, origin: 'test' },
  };
}

function frame(seq: number): Frame {
  const data = new Uint8Array(32 * 24 * 3);
  for (let i = 0; i < data.length; i++) data[i] = (i * 7 + seq) & 255;
  return { cameraId: 'cam/1', seq, capturedAt: DAY0 + seq * 1000, width: 32, height: 24, channels: 3, data, origin: 'test' };
}

async function allFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) out.push(path.relative(dir, path.join(e.parentPath ?? (e as unknown as { path: string }).path, e.name)));
  }
  return out.sort();
}

function cfg(dir: string, over: Partial<ArchiveOptions> = {}): ArchiveOptions {
  return { directory: dir, maxRecords: 1000, maxBytes: 1e9, saveFrames: 'all', fsync: false, ...over };
}

t.test('records are complete files: JSON (no mask bytes) + JPEG frame + mask PNG', async (t) => {
  const dir = t.testdir();
  const { log } = logger();
  const a = new InspectionArchive(cfg(dir, { saveFrames: 'fails', fsync: true }), log);
  await a.open();
  await a.record(verdict(1, true), frame(1));
  await a.record(verdict(2, false, { mask: 100 }), frame(2));
  await a.close();
  const files = await allFiles(dir);
  t.same(files, [
    '2025-03-14/cam_1-1741946401000-1.json',
    '2025-03-14/cam_1-1741946402000-2.frame.jpg',
    '2025-03-14/cam_1-1741946402000-2.json',
    '2025-03-14/cam_1-1741946402000-2.mask.png',
  ], 'pass frame not saved under saveFrames=fails; no temp files left');
  const rec = JSON.parse(await readFile(path.join(dir, '2025-03-14/cam_1-1741946402000-2.json'), 'utf8'));
  t.equal(rec.verdict.id, 'cam/1-1741946402000-2');
  t.equal(rec.verdict.maskPng, undefined);
  t.same(rec.verdict.locations[0].grid, 'top left');
  t.same(rec.files, { frame: 'cam_1-1741946402000-2.frame.jpg', mask: 'cam_1-1741946402000-2.mask.png' });
  const jpg = loadOpenCv().imdecode(await readFile(path.join(dir, '2025-03-14', rec.files.frame)));
  t.equal(jpg.cols, 32);
  t.equal(jpg.rows, 24);
  t.same([...(await readFile(path.join(dir, '2025-03-14', rec.files.mask)))], [...new Uint8Array(100).fill(7)]);
  const total = (await Promise.all(files.map((f) => stat(path.join(dir, f))))).reduce((s, st) => s + st.size, 0);
  t.same(a.stats, { records: 2, bytes: total, writeErrors: 0, evicted: 0, dropped: 0, pending: 0 });

  const got = await a.get('cam/1-1741946402000-2');
  t.equal(got?.record.verdict.score, 0.8);
  t.equal(got?.paths.mask, path.join(dir, '2025-03-14', 'cam_1-1741946402000-2.mask.png'));
  t.equal((await a.get('cam/1-1741946401000-1'))?.paths.frame, undefined);
  t.equal(await a.get('nope'), undefined);
});

t.test('retention by count evicts the oldest whole records', async (t) => {
  const dir = t.testdir();
  const a = new InspectionArchive(cfg(dir, { maxRecords: 3 }), logger().log);
  await a.open();
  for (let i = 1; i <= 5; i++) await a.record(verdict(i, false, { mask: 50 }), frame(i));
  t.equal(a.stats.records, 3);
  t.equal(a.stats.evicted, 2);
  const files = await allFiles(dir);
  t.equal(files.length, 9, '3 records × 3 files');
  t.notOk(files.some((f) => f.includes('-1.') || f.includes('-2.')), 'records 1 and 2 are gone with all their files');
  const listed = await a.list();
  t.same(listed.map((r) => r.record.verdict.seq), [5, 4, 3], 'newest first');
  t.same((await a.list({ limit: 1, before: listed[0].id })).map((r) => r.record.verdict.seq), [4]);
  t.same(await a.list({ before: 'unknown' }), []);
  await a.close();
});

t.test('retention by bytes evicts oldest until under the limit; empty day folders go', async (t) => {
  const dir = t.testdir();
  const a = new InspectionArchive(cfg(dir, { maxBytes: 30_000, saveFrames: 'none' }), logger().log);
  await a.open();
  // Day 1 gets two records, day 2 the rest; each record ≈ 10 kB of mask + ~0.6 kB JSON.
  await a.record(verdict(1, false, { mask: 10_000 }));
  await a.record(verdict(2, false, { mask: 10_000 }));
  for (let i = 3; i <= 6; i++) await a.record(verdict(i, false, { mask: 10_000, capturedAt: DAY0 + 86_400_000 + i }));
  t.ok(a.stats.bytes <= 30_000, `bytes ${a.stats.bytes}`);
  t.equal(a.stats.records, 2);
  t.equal(a.stats.evicted, 4);
  t.same((await a.list()).map((r) => r.record.verdict.seq), [6, 5]);
  t.same(await readdir(dir), ['2025-03-15'], 'the emptied day folder was removed');
  await a.close();
});

t.test('reopen rebuilds the index, drops leftovers, applies new limits', async (t) => {
  const dir = t.testdir();
  const a = new InspectionArchive(cfg(dir), logger().log);
  await a.open();
  for (let i = 1; i <= 4; i++) await a.record(verdict(i, false, { mask: 20 }), frame(i));
  const before = a.stats;
  await a.close();
  // Leftovers of a crash: a temp file and an image whose JSON never got written.
  await writeFile(path.join(dir, '2025-03-14', '.x.json.abc.tmp'), 'half');
  await writeFile(path.join(dir, '2025-03-14', 'cam_1-9-9.frame.jpg'), 'orphan');

  const { log, lines } = logger();
  const b = new InspectionArchive(cfg(dir), log);
  await b.open();
  t.same(b.stats, { ...before, evicted: 0 });
  t.ok(lines.some((l) => l.removedLeftovers === 2));
  t.same((await b.list()).map((r) => r.record.verdict.seq), [4, 3, 2, 1], 'order survives a restart');
  t.equal((await b.get(verdict(3, false).id))?.record.verdict.seq, 3);
  await b.record(verdict(5, true), frame(5));
  t.equal((await b.list({ limit: 1 }))[0].record.verdict.seq, 5);
  await b.close();

  const c = new InspectionArchive(cfg(dir, { maxRecords: 2 }), logger().log);
  await c.open();
  t.equal(c.stats.records, 2);
  t.equal(c.stats.evicted, 3);
  t.same((await c.list()).map((r) => r.record.verdict.seq), [5, 4]);
  t.equal((await allFiles(dir)).length, 5, 'record 4 has json+jpg+png, record 5 json+jpg');
  await c.close();
});

t.test('a write that cannot happen is counted and logged, never thrown', async (t) => {
  const dir = t.testdir();
  const { log, lines } = logger();
  const a = new InspectionArchive(cfg(dir), log);
  await a.open();
  // Block the day folder with a plain file: mkdir/write fail even for root (chmod would not).
  await writeFile(path.join(dir, '2025-03-14'), 'not a folder');
  await t.resolves(a.record(verdict(1, false, { mask: 10 }), frame(1)));
  await a.record(verdict(2, false), frame(2));
  t.equal(a.stats.writeErrors, 2);
  t.equal(a.stats.records, 0);
  const errs = lines.filter((l) => l.code === 'E_ARCHIVE_IO');
  t.equal(errs.length, 1, 'second error within 10 s is not logged again');
  t.equal(errs[0].level, 50);
  await rm(path.join(dir, '2025-03-14'));

  // A real read-only folder, where permissions apply (not as root).
  if (process.getuid?.() !== 0) {
    await mkdir(path.join(dir, '2025-03-14'));
    await chmod(path.join(dir, '2025-03-14'), 0o555);
    await a.record(verdict(3, false), frame(3));
    t.equal(a.stats.writeErrors, 3);
    await chmod(path.join(dir, '2025-03-14'), 0o755);
  }
  // It recovers once the disk is writable again.
  await a.record(verdict(4, false), frame(4));
  t.equal(a.stats.records, 1);
  t.same(await allFiles(dir), ['2025-03-14/cam_1-1741946404000-4.frame.jpg', '2025-03-14/cam_1-1741946404000-4.json']);
  await a.close();
});

t.test('record before open / after close is dropped; a full queue drops; close drains', async (t) => {
  const dir = t.testdir();
  const a = new InspectionArchive(cfg(dir, { maxPending: 2 }), logger().log);
  await a.record(verdict(1, true));
  t.equal(a.stats.dropped, 1);
  await a.open();
  const jobs = [1, 2, 3, 4].map((i) => a.record(verdict(10 + i, true), frame(i)));
  t.equal(a.stats.pending, 2);
  t.equal(a.stats.dropped, 3);
  await a.close();
  await Promise.all(jobs);
  t.equal(a.stats.records, 2, 'close waited for both queued records');
  t.equal(a.stats.pending, 0);
  await a.record(verdict(20, true));
  t.equal(a.stats.dropped, 4);
  t.equal((await allFiles(dir)).length, 4);
});

t.test('the same id recorded twice replaces the record whole', async (t) => {
  const dir = t.testdir();
  const a = new InspectionArchive(cfg(dir), logger().log);
  await a.open();
  await a.record(verdict(1, false, { mask: 30 }), frame(1));
  await a.record({ ...verdict(1, true), score: 0.05 }, frame(1));
  t.equal(a.stats.records, 1);
  t.equal((await a.get(verdict(1, true).id))?.record.verdict.score, 0.05);
  t.notOk((await allFiles(dir)).some((f) => f.endsWith('.mask.png')), 'stale mask removed');
  await a.close();
});

t.test('open fails with E_ARCHIVE_IO when the folder cannot exist', async (t) => {
  const dir = t.testdir({ file: 'x' });
  const a = new InspectionArchive(cfg(path.join(dir, 'file', 'sub')), logger().log);
  await t.rejects(a.open(), { code: 'E_ARCHIVE_IO' });
});
