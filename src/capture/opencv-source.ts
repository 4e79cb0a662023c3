/**
 * Frames through OpenCV's VideoCapture: a V4L2 device, a network stream (RTSP/HTTP) or a
 * GStreamer pipeline (the usual way to reach a CSI camera on a Jetson), or a video file.
 *
 * Caveat: the binding opens the capture synchronously in its constructor, so connecting to
 * an unreachable RTSP camera blocks the event loop until FFmpeg gives up (its own timeout,
 * tunable process-wide with OPENCV_FFMPEG_CAPTURE_OPTIONS). Reads use readAsync (libuv pool).
 */
import { access, constants } from 'node:fs/promises';
import { AppError, ErrorCodes, toError } from '../errors.js';
import type { Frame } from './frame.js';
import type { FrameSource, SourceContext, SourceCounters } from './frame-source.js';
import { matToFrame } from './image-io.js';
import { loadOpenCv, type Mat } from './opencv.js';

type VideoCapture = InstanceType<ReturnType<typeof loadOpenCv>['VideoCapture']>;

export interface DeviceSourceOptions {
  readonly kind: 'device';
  /** V4L2 index: 0 is /dev/video0. */
  readonly index: number;
  readonly width?: number;
  readonly height?: number;
  readonly fps?: number;
}

export interface UrlSourceOptions {
  readonly kind: 'url';
  /** rtsp://, http(s):// URL, or a GStreamer pipeline ending in appsink. */
  readonly url: string;
  /** Default: 'gstreamer' when the string contains '!', else 'ffmpeg' for scheme URLs, else 'any'. */
  readonly api?: 'any' | 'ffmpeg' | 'gstreamer';
}

export interface FileSourceOptions {
  readonly kind: 'file';
  readonly path: string;
  /** Rewind to the first frame at the end instead of ending the stream. */
  readonly loop: boolean;
}

export type OpenCvSourceOptions = DeviceSourceOptions | UrlSourceOptions | FileSourceOptions;

/** Hide credentials: `rtsp://user:pass@cam` → `rtsp://***@cam`, and rtspsrc's user-pw=…. */
export function redactUrl(text: string): string {
  return text
    .replace(/([a-z][a-z0-9+.-]*:\/\/)[^/\s]*@/gi, '$1***@')
    .replace(/\b(user-pw|user-id|password|passwd)=("[^"]*"|\S+)/gi, '$1=***');
}

/** Which VideoCapture back end a URL or pipeline string needs. */
export function resolveUrlApi(url: string, api?: UrlSourceOptions['api']): 'any' | 'ffmpeg' | 'gstreamer' {
  if (api) return api;
  if (url.includes('!')) return 'gstreamer';
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(url) ? 'ffmpeg' : 'any';
}

export class OpenCvSource implements FrameSource {
  readonly description: string;
  readonly live: boolean;
  readonly counters: SourceCounters = { frames: 0, unreadable: 0 };
  private cap: VideoCapture | undefined;
  private inFlight: Promise<unknown> | undefined;
  private readonly origin: string;
  private readonly now: () => number;

  constructor(
    private readonly options: OpenCvSourceOptions,
    private readonly ctx: SourceContext,
  ) {
    this.now = ctx.now ?? Date.now;
    switch (options.kind) {
      case 'device':
        this.live = true;
        this.origin = `device:${options.index}`;
        this.description = `device:${options.index}`;
        break;
      case 'url':
        this.live = true;
        this.origin = redactUrl(options.url);
        this.description = `url:${this.origin} (${resolveUrlApi(options.url, options.api)})`;
        break;
      case 'file':
        this.live = false;
        this.origin = options.path;
        this.description = `file:${options.path}${options.loop ? ' (loop)' : ''}`;
        break;
    }
  }

  async open(): Promise<void> {
    const cv = loadOpenCv();
    const o = this.options;
    if (o.kind === 'file') {
      // OpenCV would only say "failed to open capture" (after trying every back end).
      await access(o.path, constants.R_OK).catch((e: unknown) => {
        throw new AppError(ErrorCodes.CAMERA_OPEN, `cannot open ${this.description}: ${toError(e).message}`);
      });
    }
    try {
      if (o.kind === 'device') {
        // Name V4L2 on Linux so OpenCV does not try GStreamer first (slow, noisy warnings).
        this.cap = new cv.VideoCapture(o.index, process.platform === 'linux' ? cv.CAP_V4L2 : cv.CAP_ANY);
      } else if (o.kind === 'url') {
        const api = resolveUrlApi(o.url, o.api);
        const pref = api === 'gstreamer' ? cv.CAP_GSTREAMER : api === 'ffmpeg' ? cv.CAP_FFMPEG : cv.CAP_ANY;
        this.cap = new cv.VideoCapture(o.url, pref);
      } else {
        this.cap = new cv.VideoCapture(o.path);
      }
    } catch (e) {
      // OpenCV's message is generic ("failed to open capture") and never contains the URL.
      throw new AppError(ErrorCodes.CAMERA_OPEN, `cannot open ${this.description}: ${toError(e).message}`, {
        details: { source: this.description },
      });
    }
    if (o.kind === 'device') this.applyDeviceProps(o);
    this.ctx.logger.info({ source: this.description }, 'capture opened');
  }

  private applyDeviceProps(o: DeviceSourceOptions): void {
    const cv = loadOpenCv();
    const cap = this.cap!;
    const wanted: Array<[string, number, number | undefined]> = [
      ['width', cv.CAP_PROP_FRAME_WIDTH, o.width],
      ['height', cv.CAP_PROP_FRAME_HEIGHT, o.height],
      ['fps', cv.CAP_PROP_FPS, o.fps],
    ];
    for (const [name, prop, value] of wanted) {
      if (value === undefined) continue;
      cap.set(prop, value);
      const actual = cap.get(prop);
      // Drivers snap to the nearest supported mode; say so instead of failing.
      if (Math.abs(actual - value) > 0.5) {
        this.ctx.logger.warn({ source: this.description, property: name, wanted: value, actual }, 'device setting not applied as asked');
      }
    }
  }

  async read(): Promise<Frame | null> {
    const cap = this.cap;
    if (!cap) throw new AppError(ErrorCodes.CAMERA_READ, `${this.description} is not open`);
    let mat = await this.readMat(cap);
    if (mat.empty && this.options.kind === 'file' && this.options.loop && this.counters.frames > 0) {
      cap.set(loadOpenCv().CAP_PROP_POS_FRAMES, 0);
      mat = await this.readMat(cap);
    }
    if (mat.empty) {
      if (!this.live) return null;
      // A live stream never ends on its own: an empty read is a lost device or connection.
      throw new AppError(ErrorCodes.CAMERA_READ, `${this.description}: no frame (device or stream lost)`);
    }
    const frame = matToFrame(mat, {
      cameraId: this.ctx.cameraId,
      seq: this.counters.frames + 1,
      capturedAt: this.now(),
      origin: this.origin,
    });
    this.counters.frames++;
    return frame;
  }

  private async readMat(cap: VideoCapture): Promise<Mat> {
    const pending = cap.readAsync();
    this.inFlight = pending.catch(() => undefined);
    try {
      return await pending;
    } catch (e) {
      throw new AppError(ErrorCodes.CAMERA_READ, `${this.description}: ${toError(e).message}`, { cause: e });
    } finally {
      this.inFlight = undefined;
    }
  }

  async close(): Promise<void> {
    const cap = this.cap;
    if (!cap) return;
    this.cap = undefined;
    // The async read worker holds the same native capture: releasing it under that
    // worker's feet is undefined behaviour, so wait for the read first.
    await this.inFlight;
    cap.release();
  }
}
