/**
 * The types around a camera pipeline: what it needs (an inspector, a camera, a publisher)
 * and what it reports (counters, status, the watchdog's activity view).
 */
import type { CameraState, CameraStats, CameraTrigger } from '../capture/camera.js';
import type { Frame } from '../capture/frame.js';
import type { GridWord, Verdict } from '../judge/verdict.js';
import type { TriggerMode } from '../config/index.js';

/** What the pipeline needs of an Inspector (src/fewshot/inspector.ts satisfies it). */
export interface FrameInspector {
  inspect(frame: Frame): Promise<Verdict>;
}

/** What the pipeline needs of a Camera (src/capture/camera.ts satisfies it). */
export interface PipelineCamera {
  readonly state: CameraState;
  readonly stats: CameraStats;
  start(): Promise<void>;
  stop(): Promise<void>;
  trigger(): Promise<Frame>;
}

/**
 * The inspection record (src/archive/inspection-record.ts): append() resolves once the verdict
 * is durable, and rejects (E_ARCHIVE_IO) when it cannot be made so.
 */
export interface VerdictRecord {
  append(verdict: Verdict, frame: Frame): Promise<number>;
}

/** Where recorded verdicts go (a SinkFanout). Must never reject. */
export interface VerdictPublisher {
  publish(verdict: Verdict, frame: Frame): Promise<void>;
}

export interface LastVerdict {
  readonly id: string;
  readonly seq: number;
  readonly pass: boolean;
  readonly score: number;
  readonly threshold: number;
  readonly confidence: number;
  readonly locations: readonly GridWord[];
  readonly decidedAt: number;
  readonly totalMs: number;
}

export interface PipelineCounters {
  /** Frames the camera delivered to the pipeline. */
  frames: number;
  /** Verdicts produced. */
  inspected: number;
  passed: number;
  failed: number;
  /** Frames replaced in the slot by a newer one, or still waiting at stop. */
  dropped: number;
  /** Frames whose inspection threw, or whose verdict could not be recorded (counted and skipped). */
  errors: number;
  /** `errors` by error code (E_IMAGE_TOO_SMALL, E_IMAGE_TOO_LARGE, E_FRAME_INVALID…; E_UNEXPECTED without one). */
  errorsByCode: Record<string, number>;
}

export interface PipelineStatus {
  readonly cameraId: string;
  readonly trigger: CameraTrigger;
  readonly camera: { readonly state: CameraState; readonly stats: CameraStats };
  readonly counters: PipelineCounters;
  readonly inFlight: boolean;
  readonly timings: { readonly window: number; readonly p50TotalMs: number | null; readonly p99TotalMs: number | null };
  readonly lastVerdict: LastVerdict | null;
  readonly lastError: { readonly code?: string; readonly message: string; readonly at: number } | null;
}

/** Inputs of the watchdog's liveness rule (src/daemon/liveness.ts). */
export interface PipelineActivity {
  /** Frames whose inspection completed (verdict or error), ever. */
  readonly completed: number;
  readonly inFlight: boolean;
  /** trigger() calls not answered yet. */
  readonly triggersPending: number;
  readonly cameraState: CameraState;
  readonly mode: TriggerMode;
  readonly fps: number;
}
