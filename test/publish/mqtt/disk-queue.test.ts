import t from 'tap';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { DiskQueue } from '../../../src/publish/mqtt/disk-queue.js';
import { decodeRecord, encodeRecord, CorruptRecordError } from '../../../src/publish/mqtt/queue-record.js';
import { silentLogger } from './fixtures.js';

const msg = (i: number, size = 10) => ({ topic: `t/${i}`, payload: Buffer.alloc(size, i & 255) });
const queue = (dir: string, over: Partial<{ maxMessages: number; maxBytes: number; fsync: boolean; cacheBytes: number }> = {}) =>
  new DiskQueue({ directory: dir, maxMessages: 1000, maxBytes: 1e9, fsync: true, logger: silentLogger(), ...over });

async function drain(q: DiskQueue): Promise<string[]> {
  const out: string[] = [];
  for (let item = await q.take(); item; item = await q.take()) {
    out.push(item.message.topic);
    await q.ack(item.seq);
  }
  return out;
}

t.test('record format round-trips properties and detects torn files', async (t) => {
  const m = { topic: 'a/b', payload: Buffer.from('png'), retain: true, properties: { contentType: 'image/png', correlationData: Buffer.from('id-1'), userProperties: { inspectionId: 'id-1' } } };
  const [head, payload] = encodeRecord(m);
  const whole = Buffer.concat([head, payload]);
  const back = decodeRecord(whole);
  t.equal(back.topic, 'a/b');
  t.equal(back.retain, true);
  t.equal(Buffer.from(back.payload).toString(), 'png');
  t.equal(Buffer.from(back.properties!.correlationData!).toString(), 'id-1');
  t.same(back.properties!.userProperties, { inspectionId: 'id-1' });
  t.throws(() => decodeRecord(whole.subarray(0, whole.length - 1)), CorruptRecordError);
  const flipped = Buffer.from(whole);
  flipped[flipped.length - 1] ^= 1;
  t.throws(() => decodeRecord(flipped), CorruptRecordError);
});

t.test('FIFO, survives reopen, removes only acknowledged messages', async (t) => {
  const dir = t.testdir();
  const q = queue(dir);
  await q.open();
  for (let i = 1; i <= 5; i++) await q.append(msg(i));
  const first = await q.take();
  t.equal(first!.message.topic, 't/1');
  await q.ack(first!.seq);
  const second = await q.take(); // in flight, not acknowledged: must survive the restart
  t.equal(second!.message.topic, 't/2');
  t.equal(q.stats().inFlight, 1);
  await q.close();
  const files = (await readdir(dir)).filter((f) => f.endsWith('.msg'));
  t.equal(files.length, 4, 'acknowledged file deleted, the rest on disk');

  const q2 = queue(dir, { cacheBytes: 0 });
  await q2.open();
  t.equal(q2.stats().length, 4);
  t.same(await drain(q2), ['t/2', 't/3', 't/4', 't/5'], 'read back from disk in order');
  await q2.append(msg(6));
  t.same(await drain(q2), ['t/6'], 'sequence continues after the old files');
  await q2.close();
});

t.test('release puts a message back ahead of newer ones', async (t) => {
  const q = queue(t.testdir());
  await q.open();
  for (let i = 1; i <= 3; i++) await q.append(msg(i));
  const a = await q.take();
  const b = await q.take();
  q.release(a!.seq);
  t.equal((await q.take())!.message.topic, 't/1');
  await q.ack(b!.seq);
  t.same(await drain(q), ['t/3']);
  await q.close();
});

t.test('full: the oldest waiting messages are dropped, counted, and the count persists', async (t) => {
  const dir = t.testdir();
  const q = queue(dir, { maxMessages: 5, fsync: false });
  let reported = 0;
  q.onDrop = (n) => (reported += n);
  await q.open();
  await q.append(msg(0));
  const inFlight = await q.take(); // t/0 is being sent: never dropped under it
  for (let i = 1; i <= 12; i++) await q.append(msg(i));
  t.equal(q.stats().length, 5);
  t.equal(q.stats().dropped, 8);
  t.equal(reported, 8);
  await q.ack(inFlight!.seq);
  t.same(await drain(q), ['t/9', 't/10', 't/11', 't/12'], 'newest kept, oldest dropped');
  await q.close();
  t.same(JSON.parse(await readFile(path.join(dir, 'queue-state.json'), 'utf8')), { dropped: 8, corrupt: 0 });
  const again = queue(dir);
  await again.open();
  t.equal(again.stats().dropped, 8, 'dropped count survives a restart');
  await again.close();
});

t.test('byte bound, torn record and interrupted write after a crash', async (t) => {
  const dir = t.testdir();
  const q = queue(dir, { maxBytes: 2000, fsync: false });
  await q.open();
  for (let i = 1; i <= 10; i++) await q.append(msg(i, 300));
  t.ok(q.stats().bytes <= 2000, `bytes ${q.stats().bytes} within bound`);
  t.ok(q.stats().dropped >= 4);
  await q.close();
  const files = (await readdir(dir)).filter((f) => f.endsWith('.msg')).sort();
  // a torn record (power cut without fsync) and a leftover temp file (crash mid-append)
  const torn = path.join(dir, files[0]);
  await writeFile(torn, (await readFile(torn)).subarray(0, 50));
  await writeFile(path.join(dir, '000000000099.tmp'), 'half');
  const q2 = queue(dir, { maxBytes: 2000 });
  await q2.open();
  t.notOk((await readdir(dir)).some((f) => f.endsWith('.tmp')), 'temp file removed');
  const got = await drain(q2);
  t.equal(got.length, files.length - 1, 'the torn record is skipped, the others delivered');
  t.equal(q2.stats().corrupt, 1);
  await q2.close();
});
