/**
 * The contract every capture back end implements (OpenCV device/URL/file, folder replay,
 * simulator). The Camera supervisor (camera.ts) owns exactly one source at a time and
 * replaces it with a fresh one after a failure, so a source never needs to reconnect itself.
 */
import type { Frame } from './frame.js';

/** The subset of a pino logger that capture code uses (a pino child logger fits). */
export interface CaptureLogger {
  warn(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  debug(obj: object, msg?: string): void;
}

/** What every source is constructed with besides its own options. */
export interface SourceContext {
  /** Stamped into Frame.cameraId (the Camera re-stamps it with its own id anyway). */
  readonly cameraId: string;
  readonly logger: CaptureLogger;
  /** Wall clock for Frame.capturedAt; defaults to Date.now. */
  readonly now?: () => number;
}

export interface SourceCounters {
  /** Frames returned by read(). */
  frames: number;
  /** Inputs that could not be turned into a frame and were skipped (corrupt files...). */
  unreadable: number;
  /** `unreadable` by error code (E_IMAGE_TOO_LARGE, E_IMAGE_UNDECODABLE…), where the source tells. */
  unreadableByCode?: Record<string, number>;
}

export interface FrameSource {
  /** Human-readable and safe to log: URLs have their credentials redacted. */
  readonly description: string;
  /**
   * True for devices and network streams: frames arrive in real time whether or not we
   * read them, so they must be drained continuously or the driver hands out stale frames.
   * False for files, folders and the simulator: a frame exists only when read() asks.
   */
  readonly live: boolean;
  readonly counters: SourceCounters;
  /** Throws AppError E_CAMERA_OPEN when the source cannot be opened. */
  open(): Promise<void>;
  /**
   * The next frame, or null at the end of a finite, non-looping stream.
   * Throws AppError E_CAMERA_READ when a read fails (the Camera then reopens the source).
   * Never call read() again before the previous call settled.
   */
  read(): Promise<Frame | null>;
  /** Idempotent; waits for a read in flight before releasing native resources. */
  close(): Promise<void>;
}
