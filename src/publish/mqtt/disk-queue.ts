/**
 * The MQTT outbox: a bounded FIFO of messages on disk, one file per message
 * (`<seq>.msg`, queue-record.ts format), so a verdict survives a broker outage *and* a daemon
 * restart or crash until the broker has acknowledged it.
 *
 * - Write-ahead: every message is appended here before it goes to the MQTT client and is
 *   deleted only after its PUBACK (ack()): a crash in between re-sends it (at-least-once).
 * - Crash safety: written to `<seq>.tmp`, then renamed, so a `<seq>.msg` is whole after a
 *   process crash; with `fsync` file and directory are flushed before append() resolves (power
 *   cut). A torn record (CRC/length) is discarded and counted as corrupt. A lost unlink
 *   (power cut after PUBACK) means a duplicate, which QoS 1 allows.
 * - Bounded: beyond maxMessages or maxBytes the oldest messages not in flight are deleted and
 *   counted in `dropped` (persisted in queue-state.json, so the count survives restarts).
 * - One append at a time (a promise chain): seq order = call order = file = send order.
 * - Recently appended payloads are kept in memory (bounded) so the live path does not read
 *   back what it just wrote; after a restart records are read from disk.
 */
import { mkdir, open, readdir, readFile, rename, stat, unlink, writeFile, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../../log.js';
import { CorruptRecordError, decodeRecord, encodeRecord, type OutboxMessage } from './queue-record.js';

export interface DiskQueueOptions {
  readonly directory: string;
  readonly maxMessages: number;
  readonly maxBytes: number;
  readonly fsync: boolean;
  readonly logger: Logger;
  /** Payload bytes kept in memory for the live path. Default 16 MiB. */
  readonly cacheBytes?: number;
}

export interface QueueStats {
  /** Messages on disk, in flight included. */
  readonly length: number;
  readonly bytes: number;
  readonly inFlight: number;
  /** Oldest messages deleted because the queue was full (since the directory was created). */
  readonly dropped: number;
  /** Torn or unreadable records discarded. */
  readonly corrupt: number;
}

interface Entry {
  readonly seq: number;
  readonly bytes: number;
  inFlight: boolean;
}

const SUFFIX = '.msg';
const TMP = '.tmp';
const STATE_FILE = 'queue-state.json';
const name = (seq: number) => String(seq).padStart(12, '0');

export class DiskQueue {
  readonly #o: DiskQueueOptions;
  readonly #entries = new Map<number, Entry>();
  readonly #cache = new Map<number, OutboxMessage>();
  #cacheBytes = 0;
  #bytes = 0;
  #inFlight = 0;
  #nextSeq = 1;
  #dropped = 0;
  #corrupt = 0;
  #chain: Promise<void> = Promise.resolve();
  #dir: FileHandle | undefined;
  #open = false;
  #stateTimer: NodeJS.Timeout | undefined;
  /** Called after messages were dropped because the queue was full. */
  onDrop: ((count: number) => void) | undefined;

  constructor(options: DiskQueueOptions) {
    this.#o = options;
  }

  async open(): Promise<void> {
    const dir = this.#o.directory;
    await mkdir(dir, { recursive: true });
    try {
      const s = JSON.parse(await readFile(path.join(dir, STATE_FILE), 'utf8')) as { dropped?: unknown; corrupt?: unknown };
      if (typeof s.dropped === 'number') this.#dropped = s.dropped;
      if (typeof s.corrupt === 'number') this.#corrupt = s.corrupt;
    } catch {
      // first start, or a torn state file: counters restart at 0
    }
    const seqs: number[] = [];
    for (const f of await readdir(dir)) {
      if (f.endsWith(TMP)) await unlink(path.join(dir, f)).catch(() => undefined); // interrupted append
      else if (/^\d+\.msg$/.test(f)) seqs.push(Number(f.slice(0, -SUFFIX.length)));
    }
    seqs.sort((a, b) => a - b);
    for (const seq of seqs) {
      const { size } = await stat(this.#file(seq));
      this.#entries.set(seq, { seq, bytes: size, inFlight: false });
      this.#bytes += size;
    }
    this.#nextSeq = (seqs.at(-1) ?? 0) + 1;
    if (this.#o.fsync) this.#dir = await open(dir, 'r');
    this.#open = true;
    if (seqs.length > 0) this.#o.logger.info({ messages: seqs.length, bytes: this.#bytes }, 'MQTT queue holds messages from before; they are sent first');
  }

  /** Resolves once the message is on disk (flushed when fsync is on). */
  append(msg: OutboxMessage): Promise<void> {
    if (!this.#open) return Promise.reject(new Error('MQTT queue is not open'));
    const seq = this.#nextSeq++;
    const done = this.#chain.then(() => this.#write(seq, msg));
    this.#chain = done.catch(() => undefined);
    return done;
  }

  async #write(seq: number, msg: OutboxMessage): Promise<void> {
    const chunks = encodeRecord(msg);
    const bytes = chunks[0].length + chunks[1].byteLength;
    const tmp = path.join(this.#o.directory, name(seq) + TMP);
    const fh = await open(tmp, 'w');
    try {
      await fh.writev(chunks);
      if (this.#o.fsync) await fh.datasync();
    } finally {
      await fh.close();
    }
    await rename(tmp, this.#file(seq));
    if (this.#dir) await this.#dir.sync();
    this.#entries.set(seq, { seq, bytes, inFlight: false });
    this.#bytes += bytes;
    const cacheLimit = this.#o.cacheBytes ?? 16 * 1024 * 1024;
    if (this.#cacheBytes + msg.payload.byteLength <= cacheLimit) {
      this.#cache.set(seq, msg);
      this.#cacheBytes += msg.payload.byteLength;
    }
    await this.#enforceBounds();
  }

  async #enforceBounds(): Promise<void> {
    let dropped = 0;
    while (this.#entries.size > this.#o.maxMessages || this.#bytes > this.#o.maxBytes) {
      const oldest = this.#firstWaiting();
      if (!oldest) break; // everything left is in flight; it leaves on PUBACK
      await this.#remove(oldest.seq);
      dropped++;
    }
    if (dropped > 0) {
      this.#dropped += dropped;
      this.#saveStateSoon();
      this.onDrop?.(dropped);
    }
  }

  #firstWaiting(): Entry | undefined {
    for (const e of this.#entries.values()) if (!e.inFlight) return e;
    return undefined;
  }

  /**
   * The oldest message not in flight, marked in flight, or undefined when none waits.
   * Corrupt records are discarded (counted) and skipped.
   */
  async take(): Promise<{ seq: number; message: OutboxMessage } | undefined> {
    for (;;) {
      const e = this.#firstWaiting();
      if (!e) return undefined;
      e.inFlight = true;
      this.#inFlight++;
      const cached = this.#cache.get(e.seq);
      if (cached) return { seq: e.seq, message: cached };
      try {
        const message = decodeRecord(await readFile(this.#file(e.seq)));
        if (this.#entries.get(e.seq) === e) return { seq: e.seq, message };
      } catch (err) {
        if (this.#entries.get(e.seq) !== e) continue; // dropped while we read it
        this.#corrupt++;
        this.#saveStateSoon();
        const reason = err instanceof CorruptRecordError ? err.message : String(err);
        this.#o.logger.warn({ seq: e.seq, reason }, 'MQTT queue record unreadable; discarded');
        await this.#remove(e.seq);
      }
    }
  }

  /** The broker acknowledged it: delete the file. */
  async ack(seq: number): Promise<void> {
    if (this.#entries.has(seq)) await this.#remove(seq);
  }

  /** Not delivered after all (client gave up): it waits again, ahead of newer messages. */
  release(seq: number): void {
    const e = this.#entries.get(seq);
    if (e?.inFlight) {
      e.inFlight = false;
      this.#inFlight--;
    }
  }

  async #remove(seq: number): Promise<void> {
    const e = this.#entries.get(seq);
    if (!e) return;
    this.#entries.delete(seq);
    this.#bytes -= e.bytes;
    if (e.inFlight) this.#inFlight--;
    const c = this.#cache.get(seq);
    if (c) {
      this.#cache.delete(seq);
      this.#cacheBytes -= c.payload.byteLength;
    }
    await unlink(this.#file(seq)).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') this.#o.logger.warn({ seq, err }, 'MQTT queue file could not be deleted');
    });
  }

  stats(): QueueStats {
    return { length: this.#entries.size, bytes: this.#bytes, inFlight: this.#inFlight, dropped: this.#dropped, corrupt: this.#corrupt };
  }

  /** Waits for pending appends, saves the counters and closes the directory handle. */
  async close(): Promise<void> {
    if (!this.#open) return;
    await this.#chain;
    this.#open = false;
    clearTimeout(this.#stateTimer);
    this.#stateTimer = undefined;
    await this.#saveState();
    await this.#dir?.close();
    this.#dir = undefined;
    this.#entries.clear();
    this.#cache.clear();
    this.#cacheBytes = this.#bytes = this.#inFlight = 0;
  }

  #file(seq: number): string {
    return path.join(this.#o.directory, name(seq) + SUFFIX);
  }

  #saveStateSoon(): void {
    this.#stateTimer ??= setTimeout(() => {
      this.#stateTimer = undefined;
      void this.#saveState();
    }, 1000).unref();
  }

  async #saveState(): Promise<void> {
    const file = path.join(this.#o.directory, STATE_FILE);
    try {
      await writeFile(file + '.new', JSON.stringify({ dropped: this.#dropped, corrupt: this.#corrupt }));
      await rename(file + '.new', file);
    } catch (err) {
      this.#o.logger.warn({ err }, 'MQTT queue counters could not be saved');
    }
  }
}
