/**
 * The image files a record row references: `files/<yyyy-mm-dd>/<key>.frame.jpg` (the frame,
 * JPEG q90, per `saveFrames`), `<key>.map.png` (the anomaly map, 8-bit, 128 = the boundary; saved
 * with the frame) and `<key>.mask.png` (the defect mask). They are written before
 * the row is committed and referenced only by it, so a crash in between leaves files no row
 * names — the writer deletes those at the next open (record-worker.ts).
 */
import { mkdir, open, unlink } from 'node:fs/promises';
import path from 'node:path';
import type { Frame } from '../capture/frame.js';
import { loadOpenCv } from '../capture/opencv.js';
import { AppError, ErrorCodes, toError } from '../errors.js';

/**
 * File stem for an inspection id: ids carry camera names, which may hold '/', spaces or dots,
 * so anything outside [A-Za-z0-9._-] becomes '_' and a leading '.' is replaced.
 */
export function fileKey(id: string): string {
  const safe = id.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\./, '_').slice(0, 200);
  return safe.length > 0 ? safe : '_';
}

/** Day folder, `yyyy-mm-dd` in UTC: stable across DST changes and plant time zones. */
export function dayOf(epochMs: number): string {
  return new Date(epochMs).toISOString().slice(0, 10);
}

/**
 * Writes new files under one record folder; remembers the day folders it made (retention
 * deletes files, never folders, while the record is open).
 */
export class RecordFiles {
  readonly #days = new Set<string>();

  constructor(
    readonly folder: string,
    private readonly fsync: boolean,
  ) {}

  /** Relative name for a file of an inspection. */
  name(id: string, capturedAt: number, suffix: '.frame.jpg' | '.mask.png' | '.map.png'): string {
    return `files/${dayOf(capturedAt)}/${fileKey(id)}${suffix}`;
  }

  path(relative: string): string {
    return path.join(this.folder, relative);
  }

  /** Creates the file (never overwrites one); flushed to disk first when fsync is on. */
  async write(relative: string, data: Uint8Array): Promise<void> {
    const dir = path.dirname(relative);
    if (!this.#days.has(dir)) {
      await mkdir(path.join(this.folder, dir), { recursive: true });
      this.#days.add(dir);
    }
    const fh = await open(this.path(relative), 'wx');
    try {
      await fh.writeFile(data);
      if (this.fsync) await fh.datasync();
    } finally {
      await fh.close();
    }
  }

  async remove(relative: string): Promise<void> {
    await unlink(this.path(relative)).catch(() => undefined);
  }
}

/** JPEG q90 of an 8-bit BGR or grey frame, encoded on libuv's thread pool. */
export async function encodeJpeg(frame: Frame): Promise<Buffer> {
  if (frame.data.byteLength !== frame.width * frame.height * frame.channels) {
    throw new AppError(ErrorCodes.FRAME_INVALID, `frame has ${frame.data.byteLength} bytes, expected ${frame.width}×${frame.height}×${frame.channels}`);
  }
  const cv = loadOpenCv();
  let mat;
  try {
    const buf = Buffer.from(frame.data.buffer, frame.data.byteOffset, frame.data.byteLength);
    mat = new cv.Mat(buf, frame.height, frame.width, frame.channels === 3 ? cv.CV_8UC3 : cv.CV_8UC1);
    return await cv.imencodeAsync('.jpg', mat, [cv.IMWRITE_JPEG_QUALITY, 90]);
  } catch (e) {
    throw toError(e);
  } finally {
    // The Mat wraps a copy of the frame: free it now, not whenever the GC runs.
    mat?.release();
  }
}
