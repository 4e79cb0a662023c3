/**
 * Ordered start, exact-reverse stop (zigbee2mqtt's controller, fastify's close sequence).
 *
 * - Components are given in dependency order and started one at a time. A component counts as
 *   started once its start() resolves; a start() that rejects must release what it took itself.
 * - stop() may come at any time. During start it aborts the AbortSignal passed to the running
 *   start(), waits for that step (bounded by stepTimeoutMs), starts nothing more, and stops
 *   what started, in reverse.
 * - Every stop step runs under stepTimeoutMs. A step that times out is recorded as
 *   E_STOP_TIMEOUT and the next step still runs: one stuck camera must not keep the model
 *   session, the archive or the MQTT "offline" message from being closed cleanly.
 * - Failures (start or stop) are collected; the caller turns `ok === false` into exit code 1.
 */
import { AppError, ErrorCodes, toError } from '../errors.js';
import type { Component } from '../component.js';
import type { Logger } from '../log.js';

export interface LifecycleFailure {
  component: string;
  phase: 'start' | 'stop';
  error: Error;
}

export interface LifecycleResult {
  ok: boolean;
  failures: LifecycleFailure[];
}

export type LifecycleState = 'idle' | 'starting' | 'running' | 'stopping' | 'stopped';

export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const realTimers: Timers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

export interface LifecycleOptions {
  logger: Logger;
  stepTimeoutMs: number;
  timers?: Timers;
}

const TIMED_OUT = Symbol('timed out');

export class Lifecycle {
  readonly #components: readonly Component[];
  readonly #log: Logger;
  readonly #stepTimeoutMs: number;
  readonly #timers: Timers;
  readonly #abort = new AbortController();
  readonly #started: Component[] = [];
  readonly #failures: LifecycleFailure[] = [];
  #state: LifecycleState = 'idle';
  #starting: Promise<void> | undefined;
  #stopping: Promise<LifecycleResult> | undefined;
  #startAbandoned = false;

  constructor(components: readonly Component[], options: LifecycleOptions) {
    const names = new Set<string>();
    for (const c of components) {
      if (names.has(c.name)) throw new Error(`duplicate component name: ${c.name}`);
      names.add(c.name);
    }
    this.#components = [...components];
    this.#log = options.logger;
    this.#stepTimeoutMs = options.stepTimeoutMs;
    this.#timers = options.timers ?? realTimers;
  }

  get state(): LifecycleState {
    return this.#state;
  }

  /** Names of the components that are started now, in start order. */
  get started(): string[] {
    return this.#started.map((c) => c.name);
  }

  /**
   * Starts every component in order. On a start failure, or when stop() is requested
   * meanwhile, it stops what started (reverse order) and resolves with ok: false / the stop
   * result. Call once.
   */
  async start(): Promise<LifecycleResult> {
    if (this.#state !== 'idle') throw new Error(`start() called in state ${this.#state}`);
    this.#state = 'starting';
    this.#starting = this.#startAll();
    await this.#starting;
    if (this.#stopping) return this.#stopping;
    if (this.#failures.length > 0) return this.stop();
    this.#state = 'running';
    return this.result();
  }

  async #startAll(): Promise<void> {
    const signal = this.#abort.signal;
    for (const component of this.#components) {
      if (signal.aborted) return;
      const t0 = performance.now();
      this.#log.debug({ step: component.name }, 'starting');
      try {
        await component.start(signal);
      } catch (e) {
        if (signal.aborted) {
          this.#log.info({ step: component.name, err: toError(e) }, 'start abandoned: stop requested');
        } else {
          this.#fail(component.name, 'start', toError(e));
        }
        return;
      }
      if (this.#startAbandoned) {
        // stop() gave up waiting for this start and has moved on: release it on our own.
        this.#log.warn({ step: component.name }, 'abandoned start finished late; stopping it');
        component.stop().catch((e: unknown) => this.#log.error({ step: component.name, err: toError(e) }, 'late stop failed'));
        return;
      }
      this.#started.push(component);
      this.#log.info({ step: component.name, ms: Math.round(performance.now() - t0) }, 'started');
    }
  }

  /** Stops everything that started, in reverse order. Idempotent: later calls get the same result. */
  stop(reason = 'requested'): Promise<LifecycleResult> {
    this.#stopping ??= this.#stopAll(reason);
    return this.#stopping;
  }

  async #stopAll(reason: string): Promise<LifecycleResult> {
    const wasStarting = this.#state === 'starting';
    this.#state = 'stopping';
    this.#log.info({ reason }, 'stopping');
    this.#abort.abort();
    if (wasStarting && this.#starting) {
      // The running start() saw the abort; give it one step's time to return.
      const outcome = await this.#withTimeout(this.#starting);
      if (outcome === TIMED_OUT) {
        this.#startAbandoned = true;
        const inFlight = this.#components[this.#started.length];
        this.#fail(inFlight?.name ?? '?', 'start', new AppError(ErrorCodes.STOP_TIMEOUT, `start did not return within ${this.#stepTimeoutMs} ms of the stop request`));
      }
    }
    for (const component of [...this.#started].reverse()) {
      const t0 = performance.now();
      try {
        const outcome = await this.#withTimeout(component.stop());
        if (outcome === TIMED_OUT) {
          const error = new AppError(ErrorCodes.STOP_TIMEOUT, `${component.name}: stop did not finish within ${this.#stepTimeoutMs} ms`);
          this.#fail(component.name, 'stop', error);
        } else {
          this.#log.info({ step: component.name, ms: Math.round(performance.now() - t0) }, 'stopped');
        }
      } catch (e) {
        this.#fail(component.name, 'stop', toError(e));
      }
      this.#started.splice(this.#started.indexOf(component), 1);
    }
    this.#state = 'stopped';
    const result = this.result();
    this.#log[result.ok ? 'info' : 'warn']({ failures: result.failures.length }, 'stopped all');
    return result;
  }

  /** Failures so far. */
  result(): LifecycleResult {
    return { ok: this.#failures.length === 0, failures: [...this.#failures] };
  }

  #fail(component: string, phase: 'start' | 'stop', error: Error): void {
    this.#failures.push({ component, phase, error });
    const code = (error as { code?: unknown }).code;
    this.#log.error({ step: component, phase, code, err: error }, `${phase} failed`);
  }

  #withTimeout<T>(p: Promise<T>): Promise<T | typeof TIMED_OUT> {
    let handle: unknown;
    const timeout = new Promise<typeof TIMED_OUT>((resolve) => {
      handle = this.#timers.setTimeout(() => resolve(TIMED_OUT), this.#stepTimeoutMs);
    });
    return Promise.race([p, timeout]).finally(() => this.#timers.clearTimeout(handle));
  }
}

export interface StopSignalOptions {
  logger: Logger;
  /** Called once, on the first SIGTERM or SIGINT. */
  onSignal: (signal: NodeJS.Signals) => void;
  /** Default: process.exit. */
  exit?: (code: number) => void;
  /** Default: process. Tests pass an EventEmitter. */
  target?: Pick<NodeJS.EventEmitter, 'on' | 'off'>;
}

/**
 * SIGTERM/SIGINT trigger the stop once. A repeated SIGTERM is logged and ignored: systemd
 * escalates to SIGKILL itself after TimeoutStopSec, and a half-finished shutdown should
 * not be cut short by a duplicate signal. A repeated SIGINT (Ctrl-C pressed again by someone
 * at a terminal) forces exit 130 (128 + SIGINT). Returns a function removing the handlers.
 */
export function handleStopSignals(options: StopSignalOptions): () => void {
  const target = options.target ?? process;
  const exit = options.exit ?? ((code: number) => process.exit(code));
  let received: NodeJS.Signals | undefined;
  const handler = (signal: NodeJS.Signals) => {
    if (received === undefined) {
      received = signal;
      options.logger.info({ signal }, 'signal received; stopping');
      options.onSignal(signal);
    } else if (signal === 'SIGINT') {
      options.logger.warn({ signal }, 'second SIGINT while stopping; exiting now');
      exit(130);
    } else {
      options.logger.warn({ signal, first: received }, 'already stopping; signal ignored');
    }
  };
  const onTerm = () => handler('SIGTERM');
  const onInt = () => handler('SIGINT');
  target.on('SIGTERM', onTerm);
  target.on('SIGINT', onInt);
  return () => {
    target.off('SIGTERM', onTerm);
    target.off('SIGINT', onInt);
  };
}
