/**
 * The MQTT outbox drains from the inspection record itself, the daemon's durable state: there
 * is no second copy of a verdict to lose. A persisted cursor (`mqtt`) says how far the broker
 * has acknowledged; after a restart or a crash everything after it is sent again (QoS 1's
 * at-least-once), in record order. A new outbox starts at the record's head (history is not
 * replayed into SCADA).
 *
 * Messages: each recorded verdict gives its inspection JSON and — for a failed frame with a
 * mask — the mask PNG (verdict-messages.ts), keyed `seq·2 + part`. The cursor advances over a
 * record only when all of its messages are acknowledged (or refused for good).
 *
 * Bounded: when more than `maxWaiting` verdicts wait (a long outage), the oldest are skipped,
 * counted in `dropped` (persisted, published in the state), and logged at warn. Retention of
 * the record can also remove rows the broker never got: counted by the record (`lost:mqtt`)
 * and included in `dropped`.
 */
import { readFile } from 'node:fs/promises';
import type { Verdict } from '../../judge/verdict.js';
import type { Logger } from '../../log.js';
import { RateLimitedLog } from '../../util/rate-limited-log.js';
import type { OutboxMessage } from './outbox-message.js';

/** What the outbox needs of the inspection record (src/archive/inspection-record.ts). */
export interface VerdictLog {
  after(seq: number, limit: number): readonly { readonly seq: number; readonly id: string; readonly verdict: Omit<Verdict, 'maskPng'>; readonly files: { readonly mask: string | null } }[];
  cursor(name: string): number | undefined;
  setCursor(name: string, seq: number): Promise<void>;
  count(name: string, delta: number): Promise<void>;
  stats(): { readonly head: number; readonly lost: Readonly<Record<string, number>> };
  filePath(relative: string): string;
}

export interface OutboxStats {
  /** Verdicts recorded and not yet acknowledged by the broker. */
  readonly length: number;
  readonly inFlight: number;
  /** Verdicts the broker will never get: skipped when too many waited, or removed by retention first. */
  readonly dropped: number;
}

export interface RecordOutboxOptions {
  readonly log: VerdictLog;
  /** Builds a verdict's messages (inspection JSON, mask PNG). */
  readonly messages: (verdict: Verdict) => readonly OutboxMessage[];
  readonly maxWaiting: number;
  readonly logger: Logger;
  /** Cursor name in the record. Default 'mqtt'. */
  readonly name?: string;
  /** Verdicts kept in memory with their mask bytes, so the live path reads no files. Default 256. */
  readonly liveCache?: number;
}

const BATCH = 64;

export class RecordOutbox {
  readonly #o: RecordOutboxOptions;
  readonly #name: string;
  readonly #warn: RateLimitedLog;
  /** Verdicts as published live (with maskPng), by id. */
  readonly #live = new Map<string, Verdict>();
  /** Messages loaded and not handed out, oldest first; released ones go back in key order. */
  #ready: { key: number; message: OutboxMessage }[] = [];
  /** Every loaded message not yet past the cursor, by key (a released one is sent again from here). */
  readonly #messages = new Map<number, OutboxMessage>();
  /** Record seq → its messages not yet acknowledged. */
  readonly #open = new Map<number, number>();
  #loadedUpTo = 0;
  #cursor = 0;
  #saved = 0;
  #inFlight = 0;
  /** Skipped verdicts whose count is not committed to the record's `lost:<name>` yet. */
  #skipping = 0;
  #saving: Promise<void> | undefined;

  constructor(options: RecordOutboxOptions) {
    this.#o = options;
    this.#name = options.name ?? 'mqtt';
    this.#warn = new RateLimitedLog(options.logger);
  }

  /** Positions at the persisted cursor (or the record's head for a new outbox). */
  async open(): Promise<void> {
    const log = this.#o.log;
    let cursor = log.cursor(this.#name);
    if (cursor === undefined) {
      cursor = log.stats().head;
      await log.setCursor(this.#name, cursor);
    }
    this.#cursor = this.#saved = this.#loadedUpTo = cursor;
    this.#ready = [];
    this.#open.clear();
    this.#inFlight = 0;
  }

  /**
   * A verdict was just recorded: keep it (with its mask bytes, so the live path reads no file)
   * and apply the bound now, so the backlog never shows more than maxWaiting.
   */
  noteLive(verdict: Verdict): void {
    this.#live.set(verdict.id, verdict);
    const limit = this.#o.liveCache ?? 256;
    while (this.#live.size > limit) this.#live.delete(this.#live.keys().next().value as string);
    this.#skipOverflow();
  }

  /** The oldest message not handed out, marked in flight; undefined when none waits. */
  async take(): Promise<{ seq: number; message: OutboxMessage } | undefined> {
    if (this.#ready.length === 0) await this.#load();
    const next = this.#ready.shift();
    if (!next) return undefined;
    this.#inFlight++;
    return { seq: next.key, message: next.message };
  }

  /** The broker acknowledged it (or refused it for good): the record may move past it. */
  async ack(key: number): Promise<void> {
    this.#inFlight--;
    const seq = Math.floor(key / 2);
    const left = (this.#open.get(seq) ?? 1) - 1;
    if (left > 0) this.#open.set(seq, left);
    else this.#open.delete(seq);
    this.#advance();
  }

  /** Not delivered after all: it goes out again before newer messages. */
  release(key: number): void {
    const seq = Math.floor(key / 2);
    if (!this.#open.has(seq)) return; // skipped meanwhile
    this.#inFlight--;
    this.#requeue(key);
  }

  stats(): OutboxStats {
    const lost = this.#o.log.stats().lost[this.#name] ?? 0;
    return { length: Math.max(0, this.#o.log.stats().head - this.#cursor), inFlight: this.#inFlight, dropped: lost + this.#skipping };
  }

  /** Saves the cursor (waits for a save already running). */
  async close(): Promise<void> {
    await this.#saving;
    await this.#save();
  }

  #requeue(key: number): void {
    const message = this.#messages.get(key);
    if (!message) return;
    const i = this.#ready.findIndex((r) => r.key > key);
    this.#ready.splice(i < 0 ? this.#ready.length : i, 0, { key, message });
  }

  async #load(): Promise<void> {
    const log = this.#o.log;
    this.#skipOverflow();
    const rows = log.after(this.#loadedUpTo, BATCH);
    for (const row of rows) {
      this.#loadedUpTo = row.seq;
      const verdict = this.#live.get(row.id) ?? (await this.#withMask(row));
      const messages = this.#o.messages(verdict);
      this.#open.set(row.seq, messages.length);
      messages.forEach((message, part) => {
        const key = row.seq * 2 + part;
        this.#messages.set(key, message);
        this.#ready.push({ key, message });
      });
    }
  }

  async #withMask(row: { verdict: Omit<Verdict, 'maskPng'>; files: { mask: string | null } }): Promise<Verdict> {
    if (!row.files.mask) return row.verdict;
    try {
      return { ...row.verdict, maskPng: await readFile(this.#o.log.filePath(row.files.mask)) };
    } catch {
      return row.verdict; // evicted meanwhile: the inspection still goes, without its mask
    }
  }

  /** Too many waiting: skip the oldest not yet handed out, count them. */
  #skipOverflow(): void {
    const head = this.#o.log.stats().head;
    const waiting = head - this.#cursor;
    if (waiting <= this.#o.maxWaiting) return;
    const skipTo = head - this.#o.maxWaiting;
    let skipped = 0;
    for (let seq = this.#cursor + 1; seq <= skipTo; seq++) {
      if (seq <= this.#loadedUpTo && !this.#open.has(seq)) continue; // delivered already
      if (this.#open.has(seq)) {
        // loaded but not in flight: drop its ready messages too
        const before = this.#ready.length;
        this.#ready = this.#ready.filter((r) => Math.floor(r.key / 2) !== seq);
        if (this.#ready.length === before) continue; // in flight: it leaves on its PUBACK
        this.#open.delete(seq);
      }
      skipped++;
    }
    this.#loadedUpTo = Math.max(this.#loadedUpTo, skipTo);
    if (skipped > 0) {
      // Persisted with the record's own losses of this consumer (retention): one count.
      this.#skipping += skipped;
      void this.#o.log.count(`lost:${this.#name}`, skipped).finally(() => (this.#skipping -= skipped));
      this.#warn.log('warn', { skipped, dropped: this.stats().dropped, maxWaiting: this.#o.maxWaiting }, 'MQTT backlog over its bound: oldest verdicts skipped');
    }
    this.#advance();
  }

  /** The cursor is the newest seq with nothing open at or below it. */
  #advance(): void {
    let lowestOpen = Infinity;
    for (const seq of this.#open.keys()) if (seq < lowestOpen) lowestOpen = seq;
    const cursor = lowestOpen === Infinity ? this.#loadedUpTo : lowestOpen - 1;
    if (cursor <= this.#cursor) return;
    for (const key of this.#messages.keys()) if (Math.floor(key / 2) <= cursor) this.#messages.delete(key);
    this.#cursor = cursor;
    this.#saveSoon();
  }

  #saveSoon(): void {
    this.#saving ??= new Promise<void>((resolve) => setTimeout(resolve, 100).unref()).then(() => {
      this.#saving = undefined;
      return this.#save();
    });
  }

  async #save(): Promise<void> {
    if (this.#cursor <= this.#saved) return;
    const cursor = this.#cursor;
    try {
      await this.#o.log.setCursor(this.#name, cursor);
      this.#saved = cursor;
    } catch (err) {
      this.#warn.log('warn', { err }, 'MQTT outbox position not saved; it is retried with the next acknowledgement');
    }
  }
}
