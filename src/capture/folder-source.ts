/**
 * Image replay from a folder: the way a line is commissioned and regression-tested before
 * a camera is mounted, and how the MVTec test sets are run through the real pipeline.
 * A bad file is a fact of life in a shared folder (half-copied, zero bytes, misnamed):
 * it is counted, logged and skipped, never fatal.
 */
import { AppError, ErrorCodes, isAppError, toError } from '../errors.js';
import type { Frame } from './frame.js';
import type { FrameSource, SourceContext, SourceCounters } from './frame-source.js';
import { listImageFiles, truthLabelForPath } from './image-files.js';
import { matToFrame, readImageFile } from './image-io.js';

export interface FolderSourceOptions {
  readonly kind: 'folder';
  /** Folder of png/jpg/jpeg/bmp/tif/tiff files (case-insensitive), not searched recursively. */
  readonly path: string;
  /** Start again from the first file after the last one instead of ending the stream. */
  readonly loop: boolean;
}

export class FolderSource implements FrameSource {
  readonly live = false;
  readonly description: string;
  readonly counters: SourceCounters = { frames: 0, unreadable: 0 };
  private files: string[] = [];
  private next = 0;
  /** Files already found bad: skipped on later loop passes without re-reading or re-counting. */
  private readonly bad = new Set<string>();
  private opened = false;
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
    this.next = 0;
    this.opened = true;
    this.ctx.logger.info({ source: this.description, files: this.files.length }, 'folder source opened');
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
      try {
        const mat = await readImageFile(path);
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
        const err = toError(e);
        this.ctx.logger.warn(
          { source: this.description, file: path, code: isAppError(e) ? e.code : undefined, err: err.message },
          'skipping unreadable image',
        );
      }
    }
  }

  async close(): Promise<void> {
    this.opened = false;
  }
}
