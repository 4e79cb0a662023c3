/**
 * systemd notify protocol (sd_notify(3)): newline-separated KEY=VALUE datagrams to the unix
 * socket in $NOTIFY_SOCKET. Without NOTIFY_SOCKET (not under systemd, tests) it does nothing.
 *
 * Abstract sockets (`@name`, sd_notify(3): a leading '@' stands for a NUL byte) cannot be
 * reached through unix-dgram 2: it copies the path with strncpy (stopping at the NUL) and
 * always passes sizeof(sockaddr_un) as the address length. We say so in the log and stay
 * disabled rather than send into the void. systemd hands system services a filesystem path
 * (/run/systemd/notify), which works.
 */
import { createRequire } from 'node:module';
import type { Logger } from '../log.js';

interface DgramSocket {
  send(buf: Buffer, offset: number, length: number, path: string, cb: (err?: Error) => void): void;
  close(): void;
  on(event: 'error', fn: (err: Error) => void): void;
}

/** NOTIFY_SOCKET → socket address; `@` → leading NUL (abstract namespace). */
export function notifySocketAddress(value: string): string {
  return value.startsWith('@') ? `\0${value.slice(1)}` : value;
}

/** Half of WATCHDOG_USEC in ms (sd_watchdog_enabled(3) advice), or null when not for us. */
export function watchdogIntervalMs(env: NodeJS.ProcessEnv = process.env, pid: number = process.pid): number | null {
  const usec = Number(env.WATCHDOG_USEC);
  if (!Number.isSafeInteger(usec) || usec <= 0) return null;
  if (env.WATCHDOG_PID !== undefined && env.WATCHDOG_PID !== '' && Number(env.WATCHDOG_PID) !== pid) return null;
  return Math.max(1, Math.floor(usec / 2000));
}

export class SdNotifier {
  readonly #path: string | undefined;
  readonly #log: Logger | undefined;
  #socket: DgramSocket | undefined;
  #warned = false;

  constructor(options: { env?: NodeJS.ProcessEnv; logger?: Logger } = {}) {
    const value = (options.env ?? process.env).NOTIFY_SOCKET;
    this.#log = options.logger;
    if (!value) return;
    if (value.startsWith('@')) {
      this.#log?.warn({ notifySocket: value }, 'abstract NOTIFY_SOCKET is not supported by unix-dgram; systemd notifications disabled');
      return;
    }
    this.#path = notifySocketAddress(value);
  }

  get enabled(): boolean {
    return this.#path !== undefined;
  }

  /** Sends one datagram; false when disabled or the send failed (logged once at warn). */
  notify(state: string): boolean {
    if (this.#path === undefined) return false;
    try {
      if (!this.#socket) {
        // Loaded lazily: the native module is only needed under systemd.
        const unix = createRequire(import.meta.url)('unix-dgram') as { createSocket(type: 'unix_dgram'): DgramSocket };
        this.#socket = unix.createSocket('unix_dgram');
        this.#socket.on('error', (err) => this.#sendFailed(err));
      }
      const buf = Buffer.from(state, 'utf8');
      let error: Error | undefined;
      this.#socket.send(buf, 0, buf.length, this.#path, (err) => (error = err)); // callback is synchronous
      if (error) this.#sendFailed(error);
      return error === undefined;
    } catch (e) {
      this.#sendFailed(e instanceof Error ? e : new Error(String(e)));
      return false;
    }
  }

  ready(status?: string): boolean {
    return this.notify(status === undefined ? 'READY=1' : `READY=1\nSTATUS=${oneLine(status)}`);
  }

  status(text: string): boolean {
    return this.notify(`STATUS=${oneLine(text)}`);
  }

  stopping(status?: string): boolean {
    return this.notify(status === undefined ? 'STOPPING=1' : `STOPPING=1\nSTATUS=${oneLine(status)}`);
  }

  watchdog(): boolean {
    return this.notify('WATCHDOG=1');
  }

  close(): void {
    this.#socket?.close();
    this.#socket = undefined;
  }

  #sendFailed(err: Error): void {
    if (this.#warned) this.#log?.debug({ err }, 'sd_notify send failed');
    else this.#log?.warn({ err, notifySocket: this.#path }, 'sd_notify send failed');
    this.#warned = true;
  }
}

function oneLine(s: string): string {
  return s.replace(/[\r\n]+/g, ' ');
}

export interface IntervalTimers {
  setInterval(fn: () => void, ms: number): unknown;
  clearInterval(handle: unknown): void;
}

const realIntervals: IntervalTimers = {
  setInterval: (fn, ms) => setInterval(fn, ms).unref(),
  clearInterval: (h) => clearInterval(h as NodeJS.Timeout),
};

/**
 * Liveness means progress (DESIGN principle 6): WATCHDOG=1 is sent on a tick only when
 * progress() was called since the previous ping, so a pipeline stuck inside a frame lets
 * systemd's WatchdogSec= expire and restart the service. An idle on-demand camera must still
 * call progress() from its idle loop, or the service is restarted for being idle.
 */
export class Watchdog {
  readonly #notifier: { watchdog(): boolean | void };
  readonly #intervalMs: number;
  readonly #timers: IntervalTimers;
  readonly #log: Logger | undefined;
  #handle: unknown;
  #progress = 0;
  #pingedAt = 0;
  #stalled = false;
  #pings = 0;

  constructor(options: { notifier: { watchdog(): boolean | void }; intervalMs: number; logger?: Logger; timers?: IntervalTimers }) {
    this.#notifier = options.notifier;
    this.#intervalMs = options.intervalMs;
    this.#timers = options.timers ?? realIntervals;
    this.#log = options.logger;
  }

  /** Record that work completed (a frame judged, an idle loop turned). Cheap: a counter. */
  progress(): void {
    this.#progress++;
  }

  get pings(): number {
    return this.#pings;
  }

  start(): void {
    if (this.#handle === undefined) this.#handle = this.#timers.setInterval(() => this.tick(), this.#intervalMs);
  }

  stop(): void {
    if (this.#handle !== undefined) this.#timers.clearInterval(this.#handle);
    this.#handle = undefined;
  }

  /** One interval: ping if progress advanced. Returns whether it pinged. */
  tick(): boolean {
    if (this.#progress === this.#pingedAt) {
      if (!this.#stalled) this.#log?.warn({ intervalMs: this.#intervalMs }, 'no progress since the last watchdog ping; withholding WATCHDOG=1');
      this.#stalled = true;
      return false;
    }
    if (this.#stalled) this.#log?.info('progress resumed; watchdog pings resume');
    this.#stalled = false;
    this.#pingedAt = this.#progress;
    this.#notifier.watchdog();
    this.#pings++;
    return true;
  }
}
