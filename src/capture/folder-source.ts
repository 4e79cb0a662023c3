/**
 * Image replay from a folder: the way a line is commissioned and regression-tested before
 * a camera is mounted, and how the MVTec test sets are run through the real pipeline.
 * A bad file is a fact of life in a shared folder (half-copied, zero bytes, misnamed, a
 * 20 000 × 20 000 scan): it is counted by error code, logged once and skipped, never fatal.
 *
 * With a `positionFile` the replay survives restarts: the name of each file is saved before
 * it is read, and open() resumes after the saved name (natural order, so a deleted file
 * does not matter). A file that crashed the process is therefore not read again; the price
 * is that a frame in flight at a kill -9 is not inspected again either. At the end of the
 * folder, `loop: false` ends the stream — after a restart too, until files sorting after the
 * saved name appear — and `loop: true` starts again at the first file.
 */
import { basename } from 'node:path';
import { AppError, ErrorCodes, isAppError, toError } from '../errors.js';
import { readFolderPosition, writeFolderPosition } from './folder-position.js';
import type { Frame } from './frame.js';
import type { FrameSource, SourceContext, SourceCounters } from './frame-source.js';
import { listImageFiles, naturalCompare, truthLabelForPath } from './image-files.js';
import { matToFrame, readImageFile } from './image-io.js';
import { DEFAULT_IMAGE_LIMITS, type ImageLimits } from './image-limits.js';

export interface FolderSourceOptions {
  readonly kind: 'folder';
  /** Folder of png/jpg/jpeg/bmp/tif/tiff files (case-insensitive), not searched recursively. */
  readonly path: string;
  /** Start again from the first file after the last one instead of ending the stream. */
  readonly loop: boolean;
  /** Where the replay position is kept across restarts (JSON); none: every open starts at the first file. */
  readonly positionFile?: string;
  /** Files above the pixel limit are skipped before decoding. Default DEFAULT_IMAGE_LIMITS. */
  readonly limits?: ImageLimits;
}

export class FolderSource implements FrameSource {
  readonly live = false;
  readonly description: string;
  readonly counters: Required<SourceCounters> = { frames: 0, unreadable: 0, unreadableByCode: {} };
  private files: string[] = [];
  private next = 0;
  /** Files already found bad: skipped on later loop passes without re-reading or re-counting. */
  private readonly bad = new Set<string>();
  private opened = false;
  private positionFailing = false;
  private readonly now: () => number;

  constructor(
    private readonly options: FolderSourceOptions,
    private readonly ctx: SourceContext,
  ) {
    this.description = `folder:${options.path}${options.loop ? ' (loop)' : ''}`;
    this.now = ctx.now ?? Date.now;
  }

  async open(): Promise<void> {
    try {
      this.files = await listImageFiles(this.options.path);
    } catch (e) {
      throw new AppError(ErrorCodes.CAMERA_OPEN, `cannot open ${this.description}: ${toError(e).message}`, {
        cause: e,
      });
    }
    if (this.files.length === 0) {
      throw new AppError(ErrorCodes.CAMERA_OPEN, `cannot open ${this.description}: no image files in it`);
    }
    this.next = await this.resumeAt();
    this.opened = true;
    this.ctx.logger.info({ source: this.description, files: this.files.length, next: this.files[this.next] ?? null }, 'folder source opened');
  }

  /** Index of the first file after the saved position (files.length: none left). */
  private async resumeAt(): Promise<number> {
    const file = this.options.positionFile;
    if (file === undefined) return 0;
    const { position, problem } = await readFolderPosition(file, this.options.path);
    if (problem) this.ctx.logger.warn({ source: this.description, problem }, 'folder position unusable; starting at the first file');
    if (!position) return 0;
    const at = this.files.findIndex((f) => naturalCompare(basename(f), position.last) > 0);
    if (at >= 0) {
      this.ctx.logger.info({ source: this.description, after: position.last }, 'folder source resumes after the last file read');
      return at;
    }
    if (this.options.loop) return 0;
    this.ctx.logger.info(
      { source: this.description, last: position.last, positionFile: file },
      'folder already replayed to its last file; delete the position file to replay it again',
    );
    return this.files.length;
  }

  /** Saved before the file is decoded; a failure to save is logged (once per streak), not fatal. */
  private async savePosition(path: string): Promise<void> {
    const file = this.options.positionFile;
    if (file === undefined) return;
    try {
      await writeFolderPosition(file, { folder: this.options.path, last: basename(path) });
      this.positionFailing = false;
    } catch (e) {
      if (!this.positionFailing) this.ctx.logger.warn({ source: this.description, positionFile: file, err: toError(e).message }, 'cannot save the folder position');
      this.positionFailing = true;
    }
  }

  async read(): Promise<Frame | null> {
    if (!this.opened) throw new AppError(ErrorCodes.CAMERA_READ, `${this.description} is not open`);
    let visited = 0;
    for (;;) {
      if (this.next >= this.files.length) {
        if (!this.options.loop) return null;
        this.next = 0;
      }
      // One full pass without a readable file: a looping folder of bad files would spin for ever.
      if (visited >= this.files.length) {
        this.ctx.logger.warn({ source: this.description }, 'no readable image left in folder; ending');
        return null;
      }
      const path = this.files[this.next++];
      visited++;
      if (this.bad.has(path)) continue;
      await this.savePosition(path);
      try {
        const mat = await readImageFile(path, this.options.limits ?? DEFAULT_IMAGE_LIMITS);
        const truthLabel = truthLabelForPath(path);
        const frame = matToFrame(mat, {
          cameraId: this.ctx.cameraId,
          seq: this.counters.frames + 1,
          capturedAt: this.now(),
          origin: path,
          ...(truthLabel ? { truthLabel } : {}),
        });
        this.counters.frames++;
        return frame;
      } catch (e) {
        this.bad.add(path);
        this.counters.unreadable++;
        const code = isAppError(e) ? e.code : ErrorCodes.UNEXPECTED;
        const byCode = this.counters.unreadableByCode;
        byCode[code] = (byCode[code] ?? 0) + 1;
        // One line per bad file (the bad set keeps it from repeating on later loop passes).
        this.ctx.logger.warn({ source: this.description, file: path, code, err: toError(e).message }, 'skipping unreadable image');
      }
    }
  }

  async close(): Promise<void> {
    this.opened = false;
  }
}
