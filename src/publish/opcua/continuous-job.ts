/**
 * StartContinuous on an on-demand camera (OPC 40100-1 §8.3, ContinuousExecution): CameraControl
 * has no "run freely" switch, so the server keeps the camera busy itself — one trigger after
 * the other, each verdict shown and announced — until Stop/Abort/Halt/Reset or the camera
 * leaves Operational. A busy camera (another client's trigger) is retried shortly; any other
 * failure is reported and retried after a pause, so a loose cable does not spin the CPU.
 */
import { isAppError, ErrorCodes, toError } from '../../errors.js';
import type { Verdict } from '../../judge/verdict.js';
import type { Logger } from '../../log.js';
import type { CameraControl } from '../control.js';
import type { JobRequest } from './vision-system.js';

export interface ContinuousJobOptions {
  readonly logger: Logger;
  readonly onVerdict: (verdict: Verdict, jobId: string, request: JobRequest) => void;
  readonly onFailure: (message: string, jobId: string) => void;
  /** Pause after a busy camera / after a failure. Defaults 10 ms / 500 ms. */
  readonly busyRetryMs?: number;
  readonly failureRetryMs?: number;
}

interface Run {
  readonly jobId: string;
  readonly request: JobRequest;
  stopped: boolean;
  wake?: () => void;
}

export class ContinuousJob {
  readonly #camera: CameraControl;
  readonly #opts: ContinuousJobOptions;
  #run: Run | null = null;

  constructor(camera: CameraControl, options: ContinuousJobOptions) {
    this.#camera = camera;
    this.#opts = options;
  }

  /** The JobId of the running loop, if any. */
  get jobId(): string | undefined {
    return this.#run?.jobId;
  }

  start(jobId: string, request: JobRequest): void {
    this.stop();
    const run: Run = { jobId, request, stopped: false };
    this.#run = run;
    void this.#loop(run);
  }

  /** Ends the loop after the inspection in flight (which cannot be cancelled). */
  stop(): void {
    const run = this.#run;
    if (!run) return;
    run.stopped = true;
    run.wake?.();
    this.#run = null;
  }

  async #loop(run: Run): Promise<void> {
    while (!run.stopped) {
      let pause = 0;
      try {
        const verdict = await this.#camera.trigger();
        if (!run.stopped) this.#opts.onVerdict(verdict, run.jobId, run.request);
      } catch (e) {
        const err = toError(e);
        if (isAppError(err, ErrorCodes.CAMERA_BUSY)) {
          pause = this.#opts.busyRetryMs ?? 10;
        } else {
          pause = this.#opts.failureRetryMs ?? 500;
          if (!run.stopped) this.#opts.onFailure(`${isAppError(err) ? err.code : ErrorCodes.UNEXPECTED}: ${err.message}`, run.jobId);
        }
      }
      if (pause > 0 && !run.stopped) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, pause);
          run.wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
    }
    this.#opts.logger.debug({ camera: this.#camera.id, jobId: run.jobId }, 'continuous job ended');
  }
}
