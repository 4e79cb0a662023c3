/**
 * One camera on the OPC UA server: its flat tags, its VisionSystem and the jobs clients start.
 *
 * The PLC handshake (the pattern LandingEdge and MERLIC use):
 *   1. the PLC writes Trigger false → true (a rising edge; Trigger belongs to the PLC, the
 *      server never writes it, so a PLC rewriting its output image every cycle is harmless);
 *   2. the server sets Busy, clears ResultReady and Error, and asks the camera for a verdict;
 *   3. the result tags are written (source timestamp = capture time), then ResultReady = true,
 *      then Busy = false — in that order, so a PLC that sees ResultReady reads a whole result;
 *   4. the PLC writes Ack = true: ResultReady clears and Ack resets itself to false.
 * A rising edge while Busy is answered BadInvalidState (and LastError + a SystemEvent); so is
 * one while the vision system is not Operational (camera down, Halted). An inspection that
 * fails sets Error = true and LastError instead of ResultReady.
 * While ResultReady waits for Ack the result tags hold still: verdicts from other sources
 * (free-run frames, MQTT triggers) are held back and the newest is shown after the Ack.
 *
 * Inspect() and StartSingleJob use the same single-job path without the ResultReady flag.
 */
import { DataType, StatusCodes, VariantArrayType, type StatusCode } from 'node-opcua';
import { isAppError, toError, ErrorCodes } from '../../errors.js';
import type { Verdict } from '../../judge/verdict.js';
import type { Logger } from '../../log.js';
import type { CameraControl } from '../control.js';
import type { CameraTags } from './camera-tags.js';
import { ContinuousJob } from './continuous-job.js';
import { selectRecipe } from './recipe-command.js';
import { ResultDisplay } from './result-display.js';
import { raiseResultReady } from './result-event.js';
import type { JobRequest, VisionCommands, VisionSystem } from './vision-system.js';
import { mainStateFor } from './vision-states.js';
import { bindCall, handleWrites } from './write-hook.js';
import type { CameraState } from '../../capture/camera.js';

export interface CameraStationOptions {
  readonly camera: CameraControl;
  readonly tags: CameraTags;
  readonly vision: VisionSystem;
  readonly logger: Logger;
  readonly staleAfterMs: number;
}

type JobKind = 'handshake' | 'inspect' | 'single';
interface Job {
  readonly id: string;
  readonly kind: JobKind;
  readonly request?: JobRequest;
}

export class CameraStation implements VisionCommands {
  readonly id: string;
  readonly #camera: CameraControl;
  readonly #tags: CameraTags;
  readonly #vision: VisionSystem;
  readonly #log: Logger;
  readonly #display: ResultDisplay;
  readonly #freeRun: boolean;
  readonly #raised = new Set<string>();
  readonly #continuous: ContinuousJob;
  #health: CameraState;
  #job: Job | null = null;
  /** Sink verdicts that arrived while a single job ran: their events wait for the job's. */
  #parked: Verdict[] = [];
  #jobSeq = 0;
  #lastTrigger = false;
  #halted = false;
  #closed = false;

  constructor(options: CameraStationOptions) {
    const { camera, tags, vision } = options;
    this.id = camera.id;
    this.#camera = camera;
    this.#tags = tags;
    this.#vision = vision;
    this.#log = options.logger;
    const snap = camera.snapshot();
    this.#health = snap.health;
    this.#freeRun = snap.triggerMode === 'free-run';
    this.#display = new ResultDisplay(tags, camera, { freeRun: this.#freeRun, staleAfterMs: options.staleAfterMs, health: snap.health });
    // A free-running camera inspects continuously by itself: that is its automatic mode.
    vision.states.autoHome = this.#freeRun ? 'ContinuousExecution' : 'Ready';
    this.#continuous = new ContinuousJob(camera, {
      logger: this.#log,
      onVerdict: (v, jobId, request) => this.#completed(v, jobId, request),
      onFailure: (message, jobId) => this.#failed(message, jobId),
    });
    tags.setActive(snap);
    tags.recipeId.setValueFromSource({ dataType: DataType.String, value: snap.recipe.id });
    handleWrites(tags.trigger, (v) => this.#onTrigger(v.value === true), this.#log);
    handleWrites(tags.ack, (v) => this.#onAck(v.value === true), this.#log);
    const select = (id: string) => selectRecipe(camera, tags, id, (status, message) => this.#refuse(status, message), this.#log);
    handleWrites(tags.recipeId, (v) => select(String(v.value)), this.#log);
    bindCall(tags.inspect, () => this.#inspect());
    bindCall(tags.selectRecipe, async (input) => ({ statusCode: await select(String(input[0]?.value ?? '')) }));
    vision.bind(this);
    this.setHealth(snap.health);
  }

  setHealth(health: CameraState): void {
    if (this.#closed) return;
    this.#guard('following the camera health', () => {
      this.#health = health;
      this.#display.health = health;
      if (mainStateFor(health) !== 'Operational') this.#continuous.stop();
      this.#vision.states.goMain(this.#halted ? 'Halted' : mainStateFor(health), 'auto');
    });
  }

  /** Every second: the Heartbeat tag, and the result tags' StatusCode re-evaluated (tag-quality.ts). */
  tick(now: number, heartbeat: number): void {
    if (this.#closed) return;
    this.#guard('heartbeat', () => {
      this.#tags.setHeartbeat(heartbeat);
      // A recipe switched over MQTT or the page shows here within a second, and so does the
      // drift state (both are written only when they change).
      const snap = this.#camera.snapshot();
      this.#tags.setActive(snap);
      if (snap.drift) this.#tags.setDrift(snap.drift.state);
      this.#display.refresh(now);
    });
  }

  /** Every verdict of this camera (the sink path), whoever asked for it. */
  onVerdict(verdict: Verdict): void {
    if (this.#closed) return;
    this.#display.show(verdict);
    if (this.#job) this.#parked.push(verdict);
    else this.#raiseOnce(verdict, this.#continuous.jobId ?? `${this.id}-${this.#freeRun ? 'free-run' : 'external'}`);
  }

  close(): void {
    this.#closed = true;
    this.#continuous.stop();
  }

  #raiseOnce(v: Verdict, jobId: string, request?: JobRequest): void {
    if (this.#raised.has(v.id)) return;
    this.#raised.add(v.id);
    if (this.#raised.size > 64) this.#raised.delete(this.#raised.values().next().value as string);
    raiseResultReady(this.#vision, { verdict: v, jobId, request });
  }

  #refuse(status: StatusCode, message: string): StatusCode {
    this.#log.warn({ camera: this.id, status: status.name }, message);
    this.#tags.reportError(`${status.name}: ${message}`);
    return status;
  }

  // --- single jobs: Trigger handshake, Inspect(), StartSingleJob -----------------------------

  #startJob(kind: JobKind, request?: JobRequest): { job: Job; done: Promise<Verdict | Error> } | StatusCode {
    const main = this.#vision.states.main;
    if (this.#closed) return StatusCodes.BadShutdown;
    if (main !== 'Operational') return this.#refuse(StatusCodes.BadInvalidState, `camera ${this.id} is ${main}, not Operational`);
    if (this.#job || this.#camera.snapshot().busy) {
      return this.#refuse(StatusCodes.BadInvalidState, `E_CAMERA_BUSY: camera ${this.id} is busy; wait for ResultReady`);
    }
    const job: Job = { id: `${this.id}-job-${++this.#jobSeq}`, kind, request };
    this.#job = job;
    if (kind === 'handshake') this.#display.clearReady();
    this.#tags.setFlag('Error', false);
    this.#tags.setFlag('Busy', true);
    if (this.#vision.states.auto === 'Ready') this.#vision.states.goAuto('SingleExecution', kind === 'single' ? 'method' : 'auto');
    // Never rejects: a failure is a value, and whatever goes wrong while showing the result is
    // logged here — a handshake's promise has nobody awaiting it, and an unhandled rejection
    // would take the daemon down.
    const done = this.#camera.trigger().then(
      (v): Verdict | Error => v,
      (e: unknown) => toError(e),
    );
    void done.then((outcome) => this.#guard('finishing an OPC UA job', () => this.#finishJob(job, outcome)));
    return { job, done };
  }

  #guard(what: string, fn: () => void): void {
    try {
      fn();
    } catch (e) {
      this.#log.error({ camera: this.id, err: toError(e) }, `${what} failed`);
    }
  }

  #finishJob(job: Job, outcome: Verdict | Error): void {
    if (this.#closed) return;
    this.#job = null;
    const verdict = outcome instanceof Error ? undefined : outcome;
    if (verdict) {
      this.#display.show(verdict);
      if (job.kind === 'handshake') this.#display.markReady();
    } else {
      this.#tags.setFlag('Error', true);
    }
    this.#tags.setFlag('Busy', false);
    if (this.#vision.states.auto === 'SingleExecution') this.#vision.states.goAuto('Ready', 'auto');
    if (verdict) this.#raiseOnce(verdict, job.id, job.request);
    else this.#failed(`${isAppError(outcome) ? outcome.code : ErrorCodes.UNEXPECTED}: ${(outcome as Error).message}`, job.id, job.request);
    const parked = this.#parked;
    this.#parked = [];
    for (const p of parked) this.#raiseOnce(p, `${this.id}-${this.#freeRun ? 'free-run' : 'external'}`);
  }

  #completed(v: Verdict, jobId: string, request?: JobRequest): void {
    if (this.#closed) return;
    this.#display.show(v);
    this.#raiseOnce(v, jobId, request);
  }

  #failed(message: string, jobId: string, request?: JobRequest): void {
    if (this.#closed) return;
    this.#log.warn({ camera: this.id, jobId, reason: message }, 'OPC UA job failed');
    this.#tags.reportError(message);
    raiseResultReady(this.#vision, { failure: message, jobId, request, active: this.#camera.snapshot() });
  }

  #onTrigger(value: boolean): StatusCode {
    const rising = value && !this.#lastTrigger;
    if (rising) {
      const started = this.#startJob('handshake');
      if (!('job' in started)) return started;
    }
    this.#lastTrigger = value;
    this.#tags.trigger.setValueFromSource({ dataType: DataType.Boolean, value });
    return StatusCodes.Good;
  }

  #onAck(value: boolean): StatusCode {
    if (value) this.#display.clearReady();
    // Ack resets itself: the next Ack is again a write of true.
    this.#tags.ack.setValueFromSource({ dataType: DataType.Boolean, value: false });
    return StatusCodes.Good;
  }

  async #inspect() {
    const started = this.#startJob('inspect');
    if (!('job' in started)) return { statusCode: started };
    const v = await started.done;
    if (v instanceof Error) {
      // The reason is in LastError; the status says whether trying again can help.
      const camera = isAppError(v) && (v.code === 'E_CAMERA_READ' || v.code === 'E_CAMERA_OPEN');
      return { statusCode: isAppError(v, 'E_CAMERA_BUSY') ? StatusCodes.BadInvalidState : camera ? StatusCodes.BadNoCommunication : StatusCodes.BadInternalError };
    }
    return {
      statusCode: StatusCodes.Good,
      outputArguments: [
        { dataType: DataType.Boolean, value: v.pass },
        { dataType: DataType.Double, value: v.score },
        { dataType: DataType.String, arrayType: VariantArrayType.Array, value: v.locations.map((l) => l.grid) },
        { dataType: DataType.String, value: v.id },
      ],
    };
  }

  // --- OPC 40100-1 methods ---------------------------------------------------------------------

  #recipeMismatch(request: JobRequest): StatusCode | undefined {
    const active = this.#camera.snapshot().recipe.id;
    if (request.recipeId === undefined || request.recipeId === active) return undefined;
    return this.#refuse(StatusCodes.BadInvalidArgument, `RecipeId ${request.recipeId} is not the active recipe ${active}; select it first (RecipeId tag or SelectRecipe)`);
  }

  startSingleJob(request: JobRequest): string | StatusCode {
    if (this.#vision.states.auto !== 'Ready') return this.#refuse(StatusCodes.BadInvalidState, `StartSingleJob needs Ready, the camera is ${this.#vision.states.auto ?? this.#vision.states.main}`);
    const started = this.#recipeMismatch(request) ?? this.#startJob('single', request);
    return 'job' in started ? started.job.id : started;
  }

  startContinuous(request: JobRequest): string | StatusCode {
    if (this.#freeRun) return this.#refuse(StatusCodes.BadInvalidState, 'a free-running camera is always in ContinuousExecution');
    if (this.#vision.states.auto !== 'Ready' || this.#job) return this.#refuse(StatusCodes.BadInvalidState, `StartContinuous needs Ready, the camera is ${this.#vision.states.auto ?? this.#vision.states.main}`);
    const mismatch = this.#recipeMismatch(request);
    if (mismatch) return mismatch;
    const jobId = `${this.id}-job-${++this.#jobSeq}`;
    this.#vision.states.goAuto('ContinuousExecution', 'method');
    this.#continuous.start(jobId, request);
    return jobId;
  }

  stop(how: 'stop' | 'abort'): StatusCode {
    const auto = this.#vision.states.auto;
    if (this.#freeRun && auto === 'ContinuousExecution') {
      return this.#refuse(StatusCodes.BadNotSupported, 'a free-running camera cannot be stopped over OPC UA (CameraControl has no pause)');
    }
    if (auto !== 'ContinuousExecution' && auto !== 'SingleExecution') return this.#refuse(StatusCodes.BadInvalidState, `nothing to ${how}: the camera is ${auto ?? this.#vision.states.main}`);
    // The inspection in flight cannot be cancelled (CameraControl has no cancel); it finishes
    // and its verdict is still published. The state machine moves at once.
    this.#continuous.stop();
    this.#vision.states.goAuto('Ready', how);
    return StatusCodes.Good;
  }

  halt(): StatusCode {
    this.#halted = true;
    this.#continuous.stop();
    this.#vision.states.goMain('Halted', 'method');
    return StatusCodes.Good;
  }

  reset(): StatusCode {
    this.#halted = false;
    this.#continuous.stop();
    this.#display.clearReady();
    this.#tags.setFlag('Error', false);
    if (this.#vision.states.main !== 'Preoperational') this.#vision.states.goMain('Preoperational', 'method');
    this.#vision.states.goMain(mainStateFor(this.#health), 'auto');
    return StatusCodes.Good;
  }
}
