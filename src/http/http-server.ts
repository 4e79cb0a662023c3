/**
 * Minimal local status endpoint on node:http (no framework): enough for a load balancer,
 * a container health check or `curl` on the box.
 *   GET /healthz → 200 {"ready":true} when ready, 503 {"ready":false} otherwise
 *   GET /status  → 200 JSON from the injected provider (500 if the provider throws)
 * HEAD is answered like GET without a body. Implements the lifecycle Component contract.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../log.js';
import type { Component } from '../daemon/lifecycle.js';

export interface StatusServerOptions {
  host: string;
  /** 0 = any free port (see address()). */
  port: number;
  isReady: () => boolean;
  status: () => object;
  logger?: Logger;
  /** More routes (the assistant's /api/…): returns true when it handled the request. */
  routes?: (req: IncomingMessage, res: ServerResponse) => boolean;
}

export class StatusServer implements Component {
  readonly name = 'status-server';
  readonly #options: StatusServerOptions;
  #server: Server | undefined;

  constructor(options: StatusServerOptions) {
    this.#options = options;
  }

  /** Bound address; valid after start(). */
  address(): { host: string; port: number } {
    const a = this.#server?.address() as AddressInfo | null | undefined;
    if (!a) throw new Error('status server is not listening');
    return { host: a.address, port: a.port };
  }

  async start(signal?: AbortSignal): Promise<void> {
    if (this.#server) return;
    // The signal only matters before we listen: the lifecycle aborts it on every stop, and
    // closing here would break the reverse stop order. stop() closes the server.
    signal?.throwIfAborted();
    const server = createServer((req, res) => this.#handle(req, res));
    server.keepAliveTimeout = 5000;
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error) => reject(err);
      server.once('error', onError);
      server.listen({ host: this.#options.host, port: this.#options.port }, () => {
        server.off('error', onError);
        resolve();
      });
    });
    server.on('error', (err) => this.#options.logger?.error({ err }, 'status server error'));
    this.#server = server;
    this.#options.logger?.info(this.address(), 'status server listening');
  }

  /** Stops accepting, then closes idle and active keep-alive sockets so stop is prompt. */
  async stop(): Promise<void> {
    const server = this.#server;
    if (!server) return;
    this.#server = undefined;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    await closed;
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? '/').split('?')[0];
    if (this.#options.routes?.(req, res)) return;
    if (path !== '/healthz' && path !== '/status') return send(res, req, 404, { error: 'not found' });
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      return send(res, req, 405, { error: 'method not allowed' });
    }
    if (path === '/healthz') {
      const ready = safe(() => this.#options.isReady()) === true;
      return send(res, req, ready ? 200 : 503, { ready });
    }
    let text: string;
    try {
      text = `${JSON.stringify(this.#options.status())}\n`;
    } catch (err) {
      this.#options.logger?.error({ err }, 'status provider failed');
      return send(res, req, 500, { error: 'status unavailable' });
    }
    sendText(res, req, 200, text);
  }
}

function safe<T>(fn: () => T): T | undefined {
  try {
    return fn();
  } catch {
    return undefined;
  }
}

function send(res: ServerResponse, req: IncomingMessage, status: number, body: object): void {
  sendText(res, req, status, `${JSON.stringify(body)}\n`);
}

function sendText(res: ServerResponse, req: IncomingMessage, status: number, text: string): void {
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-store',
  });
  res.end(req.method === 'HEAD' ? undefined : text);
}
