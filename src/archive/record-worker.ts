/**
 * The inspection record's writer thread. better-sqlite3 is synchronous, and a commit with
 * `synchronous = FULL` fsyncs the WAL (≈ 5 ms here, tens of ms on an SD card): on the main
 * thread that would stall OPC UA, MQTT and HTTP. So one worker owns the only write connection.
 *
 * Group commit: requests that arrive while a commit runs pile up in the port; they are all
 * written in the next transaction (one fsync for the batch). Retention runs in the same
 * transaction (oldest rows first, until maxRecords and maxBytes hold); the evicted rows' files
 * are deleted after the commit. A row evicted before a cursor reached it (the MQTT outbox
 * during a long outage) is counted under `lost:<cursor>` and the cursor moves past it.
 * At open, files that no row references (written before a crash, never committed) are deleted.
 */
import { readdirSync, rmSync, unlinkSync } from 'node:fs';
import path from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { RECORD_ADDED_COLUMNS, RECORD_DDL, RECORD_SCHEMA_VERSION, type Eviction, type WriterInit, type WriterReply, type WriterRequest, type WriterState } from './record-schema.js';

const init = workerData as WriterInit;
const port = parentPort!;
const reply = (r: WriterReply) => port.postMessage(r);

let db: Database.Database;
try {
  db = new Database(init.path);
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${init.synchronous}`);
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > RECORD_SCHEMA_VERSION) throw new Error(`${init.path} was written by a newer version (schema ${version} > ${RECORD_SCHEMA_VERSION})`);
  db.exec(RECORD_DDL);
  // A file from an older version: add the columns it lacks (NULL in its old rows).
  const have = new Set((db.pragma('table_info(inspections)') as { name: string }[]).map((c) => c.name));
  for (const [name, type] of RECORD_ADDED_COLUMNS) if (!have.has(name)) db.exec(`ALTER TABLE inspections ADD COLUMN ${name} ${type}`);
  db.pragma(`user_version = ${RECORD_SCHEMA_VERSION}`);
} catch (e) {
  reply({ op: 'fatal', message: (e as Error).message });
  process.exit(1);
}

const insert = db.prepare(`INSERT INTO inspections
  (id, camera, captured_at, decided_at, recorded_at, pass, score, threshold, confidence, decided_by, recipe_id, recipe_version, verdict, frame_file, mask_file, map_file, bytes)
  VALUES (@id, @camera, @capturedAt, @decidedAt, @recordedAt, @pass, @score, @threshold, @confidence, @decidedBy, @recipeId, @recipeVersion, @verdict, @frameFile, @maskFile, @mapFile, @bytes)`);
const oldest = db.prepare('SELECT seq, frame_file, mask_file, map_file, bytes FROM inspections ORDER BY seq LIMIT ?');
const removeUpTo = db.prepare('DELETE FROM inspections WHERE seq <= ?');
const setCursor = db.prepare('INSERT INTO cursors (name, seq) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET seq = excluded.seq');
const insertReview = db.prepare(`INSERT INTO reviews
  (inspection_id, at, user, action, label, recipe_id, from_version, to_version, undoes, note, evidence)
  VALUES (@inspectionId, @at, @user, @action, @label, @recipeId, @fromVersion, @toVersion, @undoes, @note, @evidence)`);
const addCounter = db.prepare('INSERT INTO counters (name, value) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value = value + excluded.value');

const totals = db.prepare('SELECT count(*) AS n, coalesce(sum(bytes), 0) AS b, coalesce(max(seq), 0) AS head FROM inspections').get() as { n: number; b: number; head: number };
let records = totals.n;
let bytes = totals.b;
// AUTOINCREMENT never reuses a seq, even after the newest rows were evicted.
let head = Math.max(totals.head, (db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'inspections'").get() as { seq: number } | undefined)?.seq ?? 0);
const cursors = new Map((db.prepare('SELECT name, seq FROM cursors').all() as { name: string; seq: number }[]).map((r) => [r.name, r.seq]));
const counters = new Map((db.prepare('SELECT name, value FROM counters').all() as { name: string; value: number }[]).map((r) => [r.name, r.value]));

function state(): WriterState {
  return { head, records, bytes, cursors: Object.fromEntries(cursors), counters: Object.fromEntries(counters) };
}

/** Files under the record folder that no row references: leftovers of appends a crash cut off. */
function removeOrphans(): number {
  const referenced = new Set<string>();
  for (const r of db.prepare('SELECT frame_file, mask_file, map_file FROM inspections').iterate() as Iterable<{ frame_file: string | null; mask_file: string | null; map_file: string | null }>) {
    if (r.frame_file) referenced.add(r.frame_file);
    if (r.mask_file) referenced.add(r.mask_file);
    if (r.map_file) referenced.add(r.map_file);
  }
  let removed = 0;
  const files = path.join(init.folder, 'files');
  let days: string[] = [];
  try {
    days = readdirSync(files);
  } catch {
    return 0;
  }
  for (const day of days) {
    const dir = path.join(files, day);
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      continue;
    }
    let kept = 0;
    for (const name of names) {
      if (referenced.has(`files/${day}/${name}`)) kept++;
      else {
        rmSync(path.join(dir, name), { force: true });
        removed++;
      }
    }
    if (kept === 0) rmSync(dir, { recursive: true, force: true });
  }
  return removed;
}

/** Oldest rows out until both bounds hold; returns the files to delete after the commit. */
function enforceRetention(doomed: string[]): Eviction | null {
  let evicted = 0;
  let evictedBytes = 0;
  let upTo = 0;
  while (records > init.maxRecords || bytes > init.maxBytes) {
    const batch = oldest.all(records > init.maxRecords ? Math.min(512, records - init.maxRecords) : 64) as { seq: number; frame_file: string | null; mask_file: string | null; map_file: string | null; bytes: number }[];
    if (batch.length === 0) break;
    for (const r of batch) {
      if (records <= init.maxRecords && bytes <= init.maxBytes) break;
      upTo = r.seq;
      records--;
      bytes -= r.bytes;
      evicted++;
      evictedBytes += r.bytes;
      if (r.frame_file) doomed.push(r.frame_file);
      if (r.mask_file) doomed.push(r.mask_file);
      if (r.map_file) doomed.push(r.map_file);
    }
    removeUpTo.run(upTo);
  }
  if (evicted === 0) return null;
  const unconsumed: Record<string, number> = {};
  for (const [name, seq] of cursors) {
    if (seq >= upTo) continue;
    // Rows after the cursor that retention removed: they never reached that consumer.
    const lost = upTo - seq;
    unconsumed[name] = lost;
    cursors.set(name, upTo);
    setCursor.run(name, upTo);
    addCount(`lost:${name}`, lost);
  }
  return { records: evicted, bytes: evictedBytes, unconsumed };
}

function addCount(name: string, delta: number): void {
  addCounter.run(name, delta);
  counters.set(name, (counters.get(name) ?? 0) + delta);
}

let queue: WriterRequest[] = [];
let scheduled = false;

function flush(): void {
  scheduled = false;
  const batch = queue;
  queue = [];
  if (batch.length === 0) return;
  const ids = batch.map((r) => r.id);
  const seqs: (number | null)[] = [];
  const doomed: string[] = [];
  let eviction: Eviction | null = null;
  const saved = { records, bytes, head, cursors: new Map(cursors), counters: new Map(counters) };
  try {
    db.transaction(() => {
      for (const r of batch) {
        if (r.op === 'append') {
          const seq = Number(insert.run({ ...r.row, pass: r.row.pass ? 1 : 0 }).lastInsertRowid);
          seqs.push(seq);
          head = seq;
          records++;
          bytes += r.row.bytes;
        } else {
          seqs.push(null);
          if (r.op === 'cursor') {
            // Cursors only move forward (a late acknowledgement must not rewind one).
            const at = cursors.get(r.name);
            if (at === undefined || r.seq > at) {
              cursors.set(r.name, r.seq);
              setCursor.run(r.name, r.seq);
            }
          } else if (r.op === 'count') {
            addCount(r.name, r.delta);
          } else if (r.op === 'review') {
            seqs[seqs.length - 1] = Number(insertReview.run(r.review).lastInsertRowid);
          }
        }
      }
      eviction = enforceRetention(doomed);
    })();
  } catch (e) {
    ({ records, bytes, head } = saved);
    cursors.clear();
    for (const [k, v] of saved.cursors) cursors.set(k, v);
    counters.clear();
    for (const [k, v] of saved.counters) counters.set(k, v);
    reply({ op: 'failed', ids, message: (e as Error).message });
    return;
  }
  for (const f of doomed) {
    try {
      unlinkSync(path.join(init.folder, f));
    } catch {
      // already gone
    }
  }
  reply({ op: 'committed', ids, seqs, state: state(), eviction });
  if (batch.some((r) => r.op === 'close')) {
    db.close();
    process.exit(0);
  }
}

port.on('message', (r: WriterRequest) => {
  queue.push(r);
  if (!scheduled) {
    scheduled = true;
    setImmediate(flush);
  }
});

const removedOrphans = removeOrphans();
reply({ op: 'opened', state: state(), removedOrphans });
