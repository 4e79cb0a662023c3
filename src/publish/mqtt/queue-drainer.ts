/**
 * Moves messages from the outbox (record-outbox.ts) to the MQTT client, oldest first, with a
 * bounded number in flight, and lets the outbox move past each one only after its PUBACK.
 *
 * Why it never double-sends beyond QoS 1: a message is handed to mqtt.js exactly once per
 * process. If the connection drops before its PUBACK, mqtt.js keeps the packet in its own
 * outgoing store and re-sends it (DUP) on the next connection, then calls our callback; we
 * do not re-send it ourselves. Only after a process restart (mqtt.js's memory is gone) is an
 * un-acknowledged message sent again from the record, and that copy may duplicate one the broker
 * already had: QoS 1's at-least-once. Nothing is handed over while disconnected, so mqtt.js's
 * offline queue never holds more than the window.
 *
 * MQTT 5 negative PUBACKs (reason code ≥ 0x80): codes that no retry can cure (bad topic, too
 * large, bad payload format) drop the message (counted as rejected); others (not authorized,
 * quota exceeded, …) keep it in the outbox and pause sending with a backoff, since an ACL or quota
 * fix on the broker should let the backlog through. Either way the error is kept for status.
 * (MQTT 3.1.1 brokers acknowledge denied publishes as if delivered: nothing to detect there.)
 */
import type { Logger } from '../../log.js';
import { RateLimitedLog } from '../../util/rate-limited-log.js';
import type { OutboxMessage } from './outbox-message.js';

/** What the drainer needs of an outbox (RecordOutbox). */
export interface Outbox {
  take(): Promise<{ seq: number; message: OutboxMessage } | undefined>;
  ack(seq: number): Promise<void>;
  release(seq: number): void;
}

export type SendCallback = (err?: Error & { code?: unknown }) => void;
export type SendFn = (msg: OutboxMessage, done: SendCallback) => void;

/** MQTT 5 reason codes [MQTT 5 §3.4.2.1] after which the same message would be refused again. */
const PERMANENT = new Set([0x90 /* topic name invalid */, 0x95 /* packet too large */, 0x99 /* payload format invalid */]);

export interface DrainerStats {
  /** Messages acknowledged by the broker. */
  readonly published: number;
  /** Messages the broker refused for good (dropped). */
  readonly rejected: number;
  /** Negative acknowledgements that were retried. */
  readonly refusals: number;
  readonly inFlight: number;
  readonly lastRefusal?: { readonly reasonCode: number; readonly message: string; readonly topic: string; readonly at: number };
}

export interface DrainerOptions {
  readonly queue: Outbox;
  readonly send: SendFn;
  readonly logger: Logger;
  /** Most messages handed over and not acknowledged. Default 32. */
  readonly window?: number;
  readonly retryInitialMs?: number;
  readonly retryMaxMs?: number;
}

export class QueueDrainer {
  readonly #o: DrainerOptions;
  readonly #log: RateLimitedLog;
  #connected = false;
  #stopped = false;
  #running = false;
  #again = false;
  #window: number;
  #inFlight = 0;
  #published = 0;
  #rejected = 0;
  #refusals = 0;
  #lastRefusal: DrainerStats['lastRefusal'];
  #pausedUntil = 0;
  #retryMs: number;
  #retryTimer: NodeJS.Timeout | undefined;
  readonly #idleWaiters = new Set<() => void>();

  constructor(options: DrainerOptions) {
    this.#o = options;
    this.#window = options.window ?? 32;
    this.#retryMs = options.retryInitialMs ?? 1000;
    this.#log = new RateLimitedLog(options.logger, 10_000);
  }

  /** On connect (with the broker's Receive Maximum, MQTT 5) and on close. */
  setConnected(connected: boolean, receiveMaximum?: number): void {
    this.#connected = connected;
    if (receiveMaximum !== undefined) this.#window = Math.max(1, Math.min(this.#o.window ?? 32, receiveMaximum));
    if (connected) this.kick();
  }

  /** Something may be sendable: a new message, a connection, an acknowledgement. */
  kick(): void {
    if (this.#stopped) return;
    if (this.#running) {
      this.#again = true; // the running loop may be past its last check: make it look again
      return;
    }
    this.#running = true;
    void this.#loop();
  }

  async #loop(): Promise<void> {
    try {
      do {
        this.#again = false;
        await this.#run();
      } while (this.#again && !this.#stopped);
    } catch (err) {
      this.#log.log('error', { err }, 'MQTT queue could not be read; retrying on the next event');
    } finally {
      this.#running = false;
    }
  }

  async #run(): Promise<void> {
    while (this.#connected && !this.#stopped && this.#inFlight < this.#window && Date.now() >= this.#pausedUntil) {
      const item = await this.#o.queue.take();
      if (!item) return;
      if (!this.#connected || this.#stopped) {
        this.#o.queue.release(item.seq); // dropped while reading it: keep it for the next connection
        return;
      }
      this.#inFlight++;
      this.#o.send(item.message, (err) => void this.#settled(item.seq, item.message, err));
    }
  }

  async #settled(seq: number, msg: OutboxMessage, err: (Error & { code?: unknown }) | undefined): Promise<void> {
    this.#inFlight--;
    const code = typeof err?.code === 'number' ? err.code : undefined;
    if (!err) {
      this.#published++;
      this.#retryMs = this.#o.retryInitialMs ?? 1000;
      await this.#o.queue.ack(seq);
    } else if (code !== undefined && code >= 0x80) {
      this.#refusals++;
      this.#lastRefusal = { reasonCode: code, message: err.message, topic: msg.topic, at: Date.now() };
      if (PERMANENT.has(code)) {
        this.#rejected++;
        this.#log.log('error', { topic: msg.topic, reasonCode: code, err }, 'broker refused an MQTT message for good; dropped');
        await this.#o.queue.ack(seq);
      } else {
        this.#log.log('error', { topic: msg.topic, reasonCode: code, err, retryMs: this.#retryMs }, 'broker refused an MQTT message; kept, retrying later');
        this.#o.queue.release(seq);
        this.#pause();
      }
    } else {
      // The client gave up on it (closing): it stays in the outbox for the next connection/start.
      this.#o.queue.release(seq);
    }
    if (this.#inFlight === 0) for (const w of [...this.#idleWaiters]) w();
    this.kick();
  }

  #pause(): void {
    this.#pausedUntil = Date.now() + this.#retryMs;
    clearTimeout(this.#retryTimer);
    this.#retryTimer = setTimeout(() => this.kick(), this.#retryMs);
    this.#retryTimer.unref();
    this.#retryMs = Math.min(this.#retryMs * 2, this.#o.retryMaxMs ?? 30_000);
  }

  /** Resolves when nothing is in flight, or after timeoutMs. Returns whether it got idle. */
  idle(timeoutMs: number): Promise<boolean> {
    if (this.#inFlight === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (ok: boolean) => {
        clearTimeout(timer);
        this.#idleWaiters.delete(onIdle);
        resolve(ok);
      };
      const onIdle = () => done(true);
      const timer = setTimeout(() => done(false), timeoutMs);
      this.#idleWaiters.add(onIdle);
    });
  }

  /** Hands nothing more over. What is in flight stays in the outbox unless its PUBACK still comes. */
  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#retryTimer);
  }

  stats(): DrainerStats {
    return {
      published: this.#published,
      rejected: this.#rejected,
      refusals: this.#refusals,
      inFlight: this.#inFlight,
      ...(this.#lastRefusal ? { lastRefusal: this.#lastRefusal } : {}),
    };
  }
}
