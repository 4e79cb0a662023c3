/**
 * The inspection archive: every verdict as `<dir>/<yyyy-mm-dd>/<id>.json`, with the frame as
 * `<id>.frame.jpg` (JPEG q90, per `saveFrames`) and the defect mask as `<id>.mask.png`.
 *
 * - Atomic: each file is written through temp + rename and the JSON goes last, so a crash
 *   never leaves a half record (open() deletes the leftovers of an interrupted write).
 * - Never throws into the pipeline: record() resolves even on I/O errors, which are logged
 *   with E_ARCHIVE_IO (rate-limited) and counted in `stats.writeErrors`.
 * - Bounded: after each write the oldest whole records are evicted until both `maxRecords`
 *   and `maxBytes` hold. The index is an insertion-ordered Map built by one directory scan at
 *   open(), so retention costs O(1) amortised per record, not a scan per frame.
 * - Writes are serialised (one queue) so the index order is the write order; at most
 *   `maxPending` records wait, beyond that records are dropped (counted) rather than letting a
 *   slow disk grow memory without bound.
 */
import { mkdir, readFile, rmdir } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import type { Frame } from '../capture/frame.js';
import type { ArchiveConfig } from '../config/index.js';
import { readImageFile } from '../capture/image-io.js';
import { loadOpenCv } from '../capture/opencv.js';
import { AppError, ErrorCodes, toError } from '../errors.js';
import { RateLimitedLog } from '../util/rate-limited-log.js';
import type { Verdict } from '../judge/verdict.js';
import {
  FRAME_SUFFIX, JSON_SUFFIX, MASK_SUFFIX, dayOf, fileKey, removeFile, scanArchive, writeFileAtomic,
} from './archive-files.js';

/** The config slice (directory resolved) plus the bounds tests and tools may tighten. */
export interface ArchiveOptions extends ArchiveConfig {
  /**
   * Records allowed to wait for the disk before new ones are dropped. Default 64: 16 dropped
   * records when fsync stalled for ~1 s on a loaded 2-core machine (measured in app.test.ts);
   * 64 VGA frames are ≈ 60 MB, still a bound.
   */
  readonly maxPending?: number;
  /** Flush file data before each rename (survives power cuts). Default true. */
  readonly fsync?: boolean;
}

export type ArchivedVerdict = Omit<Verdict, 'maskPng'>;

/** The JSON file's content. */
export interface ArchiveRecord {
  readonly version: 1;
  readonly archivedAt: number;
  readonly verdict: ArchivedVerdict;
  /** Image file names next to the JSON, or null when not saved. */
  readonly files: { readonly frame: string | null; readonly mask: string | null };
}

export interface ArchivedInspection {
  readonly id: string;
  readonly record: ArchiveRecord;
  /** Absolute paths. */
  readonly paths: { readonly json: string; readonly frame?: string; readonly mask?: string };
}

export interface ArchiveStats {
  readonly records: number;
  readonly bytes: number;
  readonly writeErrors: number;
  readonly evicted: number;
  /** Records not written because the queue was full or the archive was not open. */
  readonly dropped: number;
  readonly pending: number;
}

interface Entry {
  readonly key: string;
  readonly day: string;
  readonly files: string[];
  readonly bytes: number;
  readonly time: number;
}

export class InspectionArchive {
  private readonly cfg: Required<ArchiveOptions>;
  private readonly log: Logger;
  /** Oldest first (Map keeps insertion order). */
  private readonly index = new Map<string, Entry>();
  private readonly dayCounts = new Map<string, number>();
  private bytes = 0;
  private writeErrors = 0;
  private evicted = 0;
  private dropped = 0;
  private pending = 0;
  private tail: Promise<void> = Promise.resolve();
  private state: 'closed' | 'open' | 'closing' = 'closed';
  private readonly errorLog: RateLimitedLog;

  constructor(config: ArchiveOptions, logger: Logger) {
    if (!(config.maxRecords >= 1) || !(config.maxBytes >= 1)) {
      throw new AppError(ErrorCodes.CONFIG_INVALID, 'archive: maxRecords and maxBytes must be ≥ 1');
    }
    this.cfg = {
      ...config,
      directory: path.resolve(config.directory),
      maxPending: config.maxPending ?? 64,
      fsync: config.fsync ?? true,
    };
    this.log = logger;
    this.errorLog = new RateLimitedLog(logger);
  }

  get stats(): ArchiveStats {
    return {
      records: this.index.size, bytes: this.bytes, writeErrors: this.writeErrors,
      evicted: this.evicted, dropped: this.dropped, pending: this.pending,
    };
  }

  /** Create the folder, index what is there (one scan), and apply retention. */
  async open(): Promise<void> {
    if (this.state !== 'closed') return;
    const root = this.cfg.directory;
    try {
      await mkdir(root, { recursive: true });
      const { records, removedLeftovers } = await scanArchive(root);
      for (const r of records) this.add(r);
      if (removedLeftovers > 0) this.log.warn({ removedLeftovers }, 'archive: removed files of interrupted writes');
    } catch (e) {
      throw new AppError(ErrorCodes.ARCHIVE_IO, `archive: cannot open ${root}: ${toError(e).message}`, { cause: e });
    }
    this.state = 'open';
    await this.enforceRetention();
    this.log.info({ directory: root, records: this.index.size, bytes: this.bytes }, 'archive opened');
  }

  /** Stop accepting records and wait for the queued ones. */
  async close(): Promise<void> {
    if (this.state !== 'open') return;
    this.state = 'closing';
    await this.tail;
    this.state = 'closed';
  }

  /**
   * Queue one inspection. Resolves when it is on disk (or failed, or was dropped); never
   * rejects. The frame's pixels are read later, off the hot path: frames are immutable.
   */
  record(verdict: Verdict, frame?: Frame): Promise<void> {
    if (this.state !== 'open' || this.pending >= this.cfg.maxPending) {
      this.dropped++;
      this.log.debug({ id: verdict.id, state: this.state, pending: this.pending }, 'archive: record dropped');
      return Promise.resolve();
    }
    this.pending++;
    const job = this.tail.then(() => this.write(verdict, frame)).catch((e: unknown) => this.fail(verdict.id, e))
      .finally(() => { this.pending--; });
    this.tail = job;
    return job;
  }

  /** One record by inspection id, or undefined when unknown or unreadable. */
  async get(id: string): Promise<ArchivedInspection | undefined> {
    const entry = this.index.get(fileKey(id));
    return entry ? this.read(entry) : undefined;
  }

  /** The frame saved with an inspection, decoded (8-bit BGR or grey); undefined when none was saved. */
  async readFrame(id: string): Promise<{ data: Uint8Array; width: number; height: number; channels: 1 | 3 } | undefined> {
    const rec = await this.get(id).catch(() => undefined);
    if (!rec?.paths.frame) return undefined;
    const mat = await readImageFile(rec.paths.frame);
    return { data: mat.getData(), width: mat.cols, height: mat.rows, channels: mat.channels === 1 ? 1 : 3 };
  }

  /**
   * Records newest first. `before` pages backwards: an inspection id (records older than it;
   * none when the id is unknown) or an epoch-ms archive time.
   */
  async list(options: { limit?: number; before?: string | number } = {}): Promise<ArchivedInspection[]> {
    const limit = Math.max(0, Math.floor(options.limit ?? 50));
    const entries = [...this.index.values()];
    let end = entries.length;
    const before = options.before;
    if (typeof before === 'string') {
      const key = fileKey(before);
      end = entries.findIndex((e) => e.key === key);
      if (end < 0) return [];
    } else if (typeof before === 'number') {
      while (end > 0 && entries[end - 1].time >= before) end--;
    }
    const chosen = entries.slice(Math.max(0, end - limit), end).reverse();
    const read = await Promise.all(chosen.map((e) => this.read(e)));
    return read.filter((r): r is ArchivedInspection => r !== undefined);
  }

  private async write(verdict: Verdict, frame: Frame | undefined): Promise<void> {
    const key = fileKey(verdict.id);
    const day = dayOf(verdict.capturedAt);
    const dir = path.join(this.cfg.directory, day);
    const previous = this.index.get(key);
    if (previous) await this.remove(previous); // same id recorded again: replace it whole
    await mkdir(dir, { recursive: true });

    const written: string[] = [];
    let bytes = 0;
    const put = async (name: string, data: Uint8Array): Promise<void> => {
      await writeFileAtomic(path.join(dir, name), data, this.cfg.fsync);
      written.push(name);
      bytes += data.byteLength;
    };
    try {
      const save = this.cfg.saveFrames;
      let frameName: string | null = null;
      if (frame && (save === 'all' || (save === 'fails' && !verdict.pass))) {
        frameName = key + FRAME_SUFFIX;
        await put(frameName, await encodeJpeg(frame));
      }
      let maskName: string | null = null;
      if (verdict.maskPng && verdict.maskPng.byteLength > 0) {
        maskName = key + MASK_SUFFIX;
        await put(maskName, verdict.maskPng);
      }
      const { maskPng: _omit, ...rest } = verdict;
      const record: ArchiveRecord = { version: 1, archivedAt: Date.now(), verdict: rest, files: { frame: frameName, mask: maskName } };
      await put(key + JSON_SUFFIX, Buffer.from(JSON.stringify(record)));
    } catch (e) {
      // No JSON means no record: take back the images written so far.
      await Promise.all(written.map((n) => removeFile(path.join(dir, n)).catch(() => undefined)));
      throw e;
    }
    // JSON first in `files`, matching what a rescan produces.
    this.add({ key, day, files: [written[written.length - 1], ...written.slice(0, -1)], bytes, time: Date.now() });
    await this.enforceRetention();
  }

  private add(entry: Entry): void {
    this.index.set(entry.key, entry);
    this.bytes += entry.bytes;
    this.dayCounts.set(entry.day, (this.dayCounts.get(entry.day) ?? 0) + 1);
  }

  /** Delete a whole record: JSON first (the record is gone at once), then its images. */
  private async remove(entry: Entry): Promise<void> {
    this.index.delete(entry.key);
    this.bytes -= entry.bytes;
    const left = (this.dayCounts.get(entry.day) ?? 1) - 1;
    const dir = path.join(this.cfg.directory, entry.day);
    try {
      for (const f of entry.files) await removeFile(path.join(dir, f));
    } catch (e) {
      this.fail(entry.key, e, 'archive: cannot delete record');
    }
    if (left > 0) {
      this.dayCounts.set(entry.day, left);
    } else {
      this.dayCounts.delete(entry.day);
      // Empty day folders go too; a concurrent write for that day recreates it (mkdir -p).
      await rmdir(dir).catch(() => undefined);
    }
  }

  private async enforceRetention(): Promise<void> {
    const { maxRecords, maxBytes } = this.cfg;
    while (this.index.size > 0 && (this.index.size > maxRecords || this.bytes > maxBytes)) {
      const oldest = this.index.values().next().value as Entry;
      await this.remove(oldest);
      this.evicted++;
    }
  }

  private async read(entry: Entry): Promise<ArchivedInspection | undefined> {
    const dir = path.join(this.cfg.directory, entry.day);
    const json = path.join(dir, entry.key + JSON_SUFFIX);
    try {
      const record = JSON.parse(await readFile(json, 'utf8')) as ArchiveRecord;
      return {
        id: record.verdict.id,
        record,
        paths: {
          json,
          ...(record.files.frame ? { frame: path.join(dir, record.files.frame) } : {}),
          ...(record.files.mask ? { mask: path.join(dir, record.files.mask) } : {}),
        },
      };
    } catch (e) {
      this.log.warn({ err: toError(e), code: ErrorCodes.ARCHIVE_IO, key: entry.key }, 'archive: cannot read record');
      return undefined;
    }
  }

  /** Count an I/O failure and log it, at most once per 10 s (a full disk fails every frame). */
  private fail(id: string, e: unknown, message = 'archive: write failed'): void {
    this.writeErrors++;
    const err = new AppError(ErrorCodes.ARCHIVE_IO, `${message}: ${toError(e).message}`, { cause: e });
    this.errorLog.log('error', { err, code: err.code, id }, message);
  }
}

/** JPEG q90 of an 8-bit BGR or grey frame, encoded on libuv's thread pool. */
async function encodeJpeg(frame: Frame): Promise<Buffer> {
  if (frame.data.byteLength !== frame.width * frame.height * frame.channels) {
    throw new AppError(ErrorCodes.FRAME_INVALID,
      `frame has ${frame.data.byteLength} bytes, expected ${frame.width}×${frame.height}×${frame.channels}`);
  }
  const cv = loadOpenCv();
  try {
    const buf = Buffer.from(frame.data.buffer, frame.data.byteOffset, frame.data.byteLength);
    const mat = new cv.Mat(buf, frame.height, frame.width, frame.channels === 3 ? cv.CV_8UC3 : cv.CV_8UC1);
    return await cv.imencodeAsync('.jpg', mat, [cv.IMWRITE_JPEG_QUALITY, 90]);
  } catch (e) {
    throw toError(e);
  }
}
