/**
 * Server-Sent Events on a fastify reply (WHATWG HTML §9.2): `event: NAME\ndata: JSON\n\n`.
 * The stream takes over the raw response (reply.hijack), so it is opened only once the
 * request has been accepted — refusals before that keep their HTTP status and error body.
 * A comment line every `heartbeatMs` keeps proxies and idle timeouts from closing a quiet
 * stream; `signal` aborts when the client goes away.
 */
import type { FastifyReply } from 'fastify';

export class EventStream {
  readonly #reply: FastifyReply;
  readonly #abort = new AbortController();
  #open = false;
  #heartbeat: NodeJS.Timeout | undefined;

  constructor(reply: FastifyReply, private readonly heartbeatMs = 15_000) {
    this.#reply = reply;
    reply.raw.on('close', () => this.#closed());
  }

  /** Aborted when the client disconnects (or end() was called). */
  get signal(): AbortSignal {
    return this.#abort.signal;
  }

  get opened(): boolean {
    return this.#open;
  }

  /** Bytes written but not yet taken by the client (a slow client's backlog). */
  get buffered(): number {
    return this.#reply.raw.writableLength;
  }

  /** Writes the 200 head; idempotent. */
  open(): void {
    if (this.#open) return;
    this.#open = true;
    this.#reply.hijack();
    this.#reply.raw.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
    });
    this.#heartbeat = setInterval(() => this.#reply.raw.write(': keep-alive\n\n'), this.heartbeatMs);
    this.#heartbeat.unref();
  }

  send(event: string, data: unknown): void {
    this.open();
    if (!this.#abort.signal.aborted) this.#reply.raw.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  }

  /** Sends a last event (if given) and closes the stream. */
  end(event?: string, data?: unknown): void {
    if (event !== undefined) this.send(event, data);
    this.open();
    this.#reply.raw.end();
    this.#closed();
  }

  #closed(): void {
    clearInterval(this.#heartbeat);
    if (!this.#abort.signal.aborted) this.#abort.abort();
  }
}
