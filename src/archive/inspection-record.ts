/**
 * The inspection record: the daemon's one system of record (DESIGN principle 10). Every
 * verdict is written here — with its frame, mask and anomaly map as files — and is durable before anyone
 * else hears of it: the camera pipeline awaits append() before it publishes, and while the
 * record is behind the pipeline waits (frames are dropped before inspection, counted), never
 * the other way round.
 *
 * - SQLite in WAL mode, one writer thread with group commit (record-worker.ts); `fsync: true`
 *   (default) commits with synchronous=FULL and flushes the image files first (survives power
 *   loss), `false` survives process crashes (kill -9) only.
 * - Retention by count and bytes (maxRecords, maxBytes), oldest first. Durable consumers keep
 *   a named cursor here (the MQTT outbox): a row evicted before its consumer reached it is a
 *   loss, counted (`lost:<name>`, persisted), logged at warn and shown in status.
 * - Reads (history, one inspection, the rows after a cursor) use a second, read-only
 *   connection on the main thread: indexed queries over a bounded table, < 1 ms.
 */
import path from 'node:path';
import { mkdir } from 'node:fs/promises';
import Database from 'better-sqlite3';
import type { Frame } from '../capture/frame.js';
import { readImageFile } from '../capture/image-io.js';
import { DEFAULT_IMAGE_LIMITS, type ImageLimits } from '../capture/image-limits.js';
import type { Component } from '../component.js';
import type { ArchiveConfig } from '../config/index.js';
import { AppError, ErrorCodes, toError } from '../errors.js';
import { mapPng } from '../judge/map-image.js';
import type { Verdict } from '../judge/verdict.js';
import type { Logger } from '../log.js';
import { RateLimitedLog } from '../util/rate-limited-log.js';
import { RecordFiles, encodeJpeg } from './record-files.js';
import { countsQuery, historyQuery, judgeScoresQuery, oldestCaptureQuery, passScoresQuery, yieldQuery, type CameraCounts, type HistoryFilter, type HistoryPage, type JudgeScore, type PassScores, type YieldBucket, type YieldFilter } from './record-queries.js';
import { REVIEW_COLUMNS, SELECT_COLUMNS, inspectionOf, rowOf, type Eviction, type RecordedInspection, type ReviewRow, type StoredReview, type StoredRow, type WriterState } from './record-schema.js';
import { RecordWriter } from './record-writer.js';

export interface RecordStats {
  readonly records: number;
  readonly bytes: number;
  /** The newest seq (0 when empty). */
  readonly head: number;
  /** Appends waiting for their commit (the pipelines wait on these). */
  readonly pending: number;
  readonly writeErrors: number;
  /** Rows removed by retention since start. */
  readonly evicted: number;
  /** Per durable consumer: rows evicted before it had them (persisted across restarts). */
  readonly lost: Readonly<Record<string, number>>;
}

export type AppendListener = (seq: number, verdict: Verdict) => void;

export class InspectionRecord implements Component {
  readonly name = 'record';
  readonly #o: ArchiveConfig;
  readonly #log: Logger;
  readonly #errorLog: RateLimitedLog;
  readonly #lossLog: RateLimitedLog;
  readonly #files: RecordFiles;
  readonly #listeners = new Set<AppendListener>();
  #writer: RecordWriter | undefined;
  /** The writer's last state, kept after stop() so the final figures stay readable. */
  #lastState: WriterState | undefined;
  #reader: Database.Database | undefined;
  #appending = 0;
  #writeErrors = 0;
  #evicted = 0;

  constructor(options: ArchiveConfig, logger: Logger) {
    if (!(options.maxRecords >= 1) || !(options.maxBytes >= 1)) throw new AppError(ErrorCodes.CONFIG_INVALID, 'archive: maxRecords and maxBytes must be ≥ 1');
    this.#o = { ...options, directory: path.resolve(options.directory) };
    this.#log = logger;
    this.#errorLog = new RateLimitedLog(logger);
    this.#lossLog = new RateLimitedLog(logger);
    this.#files = new RecordFiles(this.#o.directory, options.fsync);
  }

  get directory(): string {
    return this.#o.directory;
  }

  async start(): Promise<void> {
    if (this.#writer) return;
    const dir = this.#o.directory;
    const file = path.join(dir, 'inspections.db');
    try {
      await mkdir(dir, { recursive: true });
    } catch (e) {
      throw new AppError(ErrorCodes.ARCHIVE_IO, `archive: cannot create ${dir}: ${toError(e).message}`, { cause: e });
    }
    const { writer, removedOrphans } = await RecordWriter.open({
      path: file, folder: dir, synchronous: this.#o.fsync ? 'FULL' : 'NORMAL', maxRecords: this.#o.maxRecords, maxBytes: this.#o.maxBytes,
    });
    writer.onEviction = (e) => this.#evicted$(e);
    this.#writer = writer;
    this.#reader = new Database(file, { readonly: true, fileMustExist: true });
    const s = writer.state;
    if (removedOrphans > 0) this.#log.warn({ removedOrphans }, 'archive: removed image files of appends a crash cut off');
    this.#log.info({ file, records: s.records, bytes: s.bytes, head: s.head, lost: this.stats().lost }, 'inspection record open');
  }

  /** Commits what is queued, then closes. Appends after this reject with E_ARCHIVE_IO. */
  async stop(): Promise<void> {
    const writer = this.#writer;
    if (!writer) return;
    this.#writer = undefined;
    await writer.close();
    this.#lastState = writer.state;
    this.#reader?.close();
    this.#reader = undefined;
  }

  /**
   * Makes one verdict durable: image files, then the row (group commit). Resolves with its
   * seq; rejects with E_ARCHIVE_IO (nothing half-written is left referenced).
   */
  async append(verdict: Verdict, frame?: Frame): Promise<number> {
    const writer = this.#writer;
    if (!writer) throw new AppError(ErrorCodes.ARCHIVE_IO, 'the inspection record is not open');
    this.#appending++;
    const written: string[] = [];
    try {
      let bytes = 0;
      const put = async (name: string, data: Uint8Array) => {
        await this.#files.write(name, data);
        written.push(name);
        bytes += data.byteLength;
      };
      const save = this.#o.saveFrames;
      let frameFile: string | null = null;
      if (frame && (save === 'all' || (save === 'fails' && !verdict.pass))) {
        frameFile = this.#files.name(verdict.id, verdict.capturedAt, '.frame.jpg');
        await put(frameFile, await encodeJpeg(frame));
      }
      // The anomaly map (8-bit, 128 = the judge's boundary) goes with the frame: an overlay
      // needs both, and on its own the map says little.
      let mapFile: string | null = null;
      if (frameFile && verdict.map) {
        mapFile = this.#files.name(verdict.id, verdict.capturedAt, '.map.png');
        await put(mapFile, mapPng(verdict.map, verdict.judge?.threshold ?? verdict.threshold));
      }
      let maskFile: string | null = null;
      if (verdict.maskPng && verdict.maskPng.byteLength > 0) {
        maskFile = this.#files.name(verdict.id, verdict.capturedAt, '.mask.png');
        await put(maskFile, verdict.maskPng);
      }
      const seq = await writer.append(rowOf(verdict, { frame: frameFile, mask: maskFile, map: mapFile }, bytes, Date.now()));
      for (const l of this.#listeners) {
        try {
          l(seq, verdict);
        } catch (e) {
          this.#log.warn({ err: toError(e) }, 'record listener threw');
        }
      }
      return seq;
    } catch (e) {
      await Promise.all(written.map((n) => this.#files.remove(n)));
      this.#writeErrors++;
      const err = e instanceof AppError ? e : new AppError(ErrorCodes.ARCHIVE_IO, `archive: write failed: ${toError(e).message}`, { cause: e });
      this.#errorLog.log('error', { err, code: err.code, id: verdict.id, writeErrors: this.#writeErrors }, 'inspection not recorded');
      throw err;
    } finally {
      this.#appending--;
    }
  }

  /** Called after each committed append (seq order per camera). Returns the unsubscribe. */
  onAppend(listener: AppendListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  get(id: string): RecordedInspection | undefined {
    const r = this.#read().prepare(`SELECT ${SELECT_COLUMNS} FROM inspections WHERE id = ?`).get(id) as StoredRow | undefined;
    return r ? inspectionOf(r) : undefined;
  }

  /** Rows after `seq`, oldest first (a durable consumer's next batch). */
  after(seq: number, limit: number): RecordedInspection[] {
    const rows = this.#read().prepare(`SELECT ${SELECT_COLUMNS} FROM inspections WHERE seq > ? ORDER BY seq LIMIT ?`).all(seq, limit) as StoredRow[];
    return rows.map(inspectionOf);
  }

  /** Newest first, filtered, paged by seq (`before`): never loads more than `limit` rows. */
  history(filter: HistoryFilter = {}): HistoryPage {
    return historyQuery(this.#read(), filter);
  }

  /** Inspected / passed / failed per camera over a filter (an aggregate query: no rows loaded). */
  counts(filter: HistoryFilter = {}): CameraCounts[] {
    return countsQuery(this.#read(), filter);
  }

  /** The judge's score and boundary of the newest matching rows (newest first, ≤ 500). */
  judgeScores(filter: HistoryFilter = {}): JudgeScore[] {
    return judgeScoresQuery(this.#read(), filter);
  }

  /** The oldest capture time still kept (retention removes the oldest), null when empty. */
  oldestCapturedAt(): number | null {
    return oldestCaptureQuery(this.#read());
  }

  /** Inspections per hour of capture time (an aggregate query; never loads the rows). */
  yieldPerHour(filter: YieldFilter): YieldBucket[] {
    return yieldQuery(this.#read(), filter);
  }

  /** The judge's scores of a recipe's newest passes (the drift watch, the score histogram). */
  passScores(recipe: string, limit: number, version?: string): PassScores {
    return passScoresQuery(this.#read(), recipe, limit, version);
  }

  /** Absolute path of a file a row references. */
  filePath(relative: string): string {
    return this.#files.path(relative);
  }

  /**
   * The frame saved with an inspection, decoded (8-bit BGR or grey); undefined when none.
   * Its header is checked against `limits` (images.maxPixels) before decoding.
   */
  async readFrame(id: string, limits: ImageLimits = DEFAULT_IMAGE_LIMITS): Promise<{ data: Uint8Array; width: number; height: number; channels: 1 | 3 } | undefined> {
    const rec = this.get(id);
    if (!rec?.files.frame) return undefined;
    const mat = await readImageFile(this.filePath(rec.files.frame), limits);
    try {
      return { data: mat.getData(), width: mat.cols, height: mat.rows, channels: mat.channels === 1 ? 1 : 3 };
    } finally {
      mat.release();
    }
  }

  /** Stores a review action (durable when this resolves); its id. */
  async addReview(review: ReviewRow): Promise<number> {
    if (!this.#writer) throw new AppError(ErrorCodes.ARCHIVE_IO, 'the inspection record is not open');
    return this.#writer.review(review);
  }

  /** The review actions of an inspection, oldest first. */
  reviews(inspectionId: string): StoredReview[] {
    return this.#read().prepare(`SELECT ${REVIEW_COLUMNS} FROM reviews WHERE inspection_id = ? ORDER BY id`).all(inspectionId) as StoredReview[];
  }

  /** A recipe's review actions, newest first (at most `limit`). */
  recipeReviews(recipeId: string, limit = 50): StoredReview[] {
    return this.#read().prepare(`SELECT ${REVIEW_COLUMNS} FROM reviews WHERE recipe_id = ? ORDER BY id DESC LIMIT ?`).all(recipeId, limit) as StoredReview[];
  }

  /** A durable consumer's position: every row ≤ it is done. Undefined for a new consumer. */
  cursor(name: string): number | undefined {
    return this.#writer?.state.cursors[name];
  }

  async setCursor(name: string, seq: number): Promise<void> {
    if (!this.#writer) throw new AppError(ErrorCodes.ARCHIVE_IO, 'the inspection record is not open');
    await this.#writer.setCursor(name, seq);
  }

  /** Adds to a persisted counter (a consumer's own losses, e.g. messages a broker refused). */
  async count(name: string, delta: number): Promise<void> {
    await this.#writer?.count(name, delta);
  }

  stats(): RecordStats {
    const s = this.#writer?.state ?? this.#lastState;
    const lost: Record<string, number> = {};
    for (const [k, v] of Object.entries(s?.counters ?? {})) if (k.startsWith('lost:')) lost[k.slice(5)] = v;
    return {
      records: s?.records ?? 0, bytes: s?.bytes ?? 0, head: s?.head ?? 0, pending: this.#appending,
      writeErrors: this.#writeErrors, evicted: this.#evicted, lost,
    };
  }

  #read(): Database.Database {
    if (!this.#reader) throw new AppError(ErrorCodes.ARCHIVE_IO, 'the inspection record is not open');
    return this.#reader;
  }

  #evicted$(e: Eviction): void {
    this.#evicted += e.records;
    for (const [consumer, count] of Object.entries(e.unconsumed)) {
      this.#lossLog.log('warn', { consumer, count, lost: this.stats().lost[consumer] }, `retention removed ${count} inspection(s) that ${consumer} had not delivered yet`);
    }
  }
}
