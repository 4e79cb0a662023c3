/**
 * The daemon's one HTTP server (fastify, sharing the daemon's pino logger): status, the API
 * and the technician's page (HTTPS when http.tls is set). Routes come in as small plugins (HttpRoutes) built by
 * the composition root, so this file knows no domain.
 *
 * - One error shape for every route: `{ error: { code, message } }`, status from
 *   error-status.ts; unknown paths 404 E_NOT_FOUND; a known path with another method 405
 *   E_METHOD_NOT_ALLOWED with `Allow` (routes declare them with `allowOnly`).
 * - Slow clients cannot hold sockets: the request head must arrive within headersTimeoutMs and
 *   the whole request within requestTimeoutMs (a slowloris client is cut off after a few
 *   seconds, not after Node's 60 s / 300 s defaults); Node checks these every second.
 * - stop(): stops accepting, then closes idle and active connections (open event streams
 *   included), so the lifecycle's reverse stop is prompt.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import Fastify, { LogController, type FastifyInstance } from 'fastify';
import type { Component } from '../component.js';
import { AppError, ErrorCodes } from '../errors.js';
import type { Logger } from '../log.js';
import { errorBody, httpError } from './error-status.js';

/** A group of routes (a fastify plugin without encapsulation). */
export interface HttpRoutes {
  readonly name: string;
  register(app: FastifyInstance): void | Promise<void>;
}

export interface HttpServerOptions {
  readonly host: string;
  /** 0 = any free port (see address()). */
  readonly port: number;
  readonly logger: Logger;
  readonly routes: readonly HttpRoutes[];
  /** Default 5000 ms. */
  readonly headersTimeoutMs?: number;
  /** Default 10 000 ms (receiving the request; a streamed response may last longer). */
  readonly requestTimeoutMs?: number;
  /** Largest request body any route accepts unless it sets its own. Default 64 KiB. */
  readonly bodyLimit?: number;
  /** Serve HTTPS with these PEM files (config http.tls, absolute paths). */
  readonly tls?: { readonly cert: string; readonly key: string };
}

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH'] as const;

/** Answers every method of `url` that is not in `allowed` with 405 and the Allow header. */
export function allowOnly(app: FastifyInstance, url: string, allowed: readonly (typeof METHODS)[number][]): void {
  const others = METHODS.filter((m) => !allowed.includes(m) && !(m === 'HEAD' && allowed.includes('GET')));
  const allow = [...new Set([...allowed, ...(allowed.includes('GET') ? ['HEAD'] : [])])].join(', ');
  app.route({
    method: others,
    url,
    handler: async (req, reply) => {
      reply.header('Allow', allow);
      throw new AppError(ErrorCodes.METHOD_NOT_ALLOWED, `${req.method} is not allowed on ${url} (allowed: ${allow})`);
    },
  });
}

export class HttpServer implements Component {
  readonly name = 'http';
  readonly #opts: HttpServerOptions;
  #app: FastifyInstance | undefined;

  constructor(options: HttpServerOptions) {
    this.#opts = options;
  }

  /** Bound address; valid after start(). */
  address(): { host: string; port: number } {
    const a = this.#app?.server.address() as AddressInfo | null | undefined;
    if (!a) throw new Error('http server is not listening');
    return { host: a.address, port: a.port };
  }

  async start(signal?: AbortSignal): Promise<void> {
    if (this.#app) return;
    // The signal only matters before we listen: the lifecycle aborts it on every stop, and
    // closing here would break the reverse stop order. stop() closes the server.
    signal?.throwIfAborted();
    const o = this.#opts;
    let tls: { cert: Buffer; key: Buffer } | undefined;
    if (o.tls) {
      try {
        tls = { cert: readFileSync(o.tls.cert), key: readFileSync(o.tls.key) };
      } catch (e) {
        throw new AppError(ErrorCodes.CONFIG_INVALID, `http.tls: cannot read ${(e as { path?: string }).path ?? 'the certificate or key'}: ${(e as Error).message}`, { cause: e });
      }
    }
    const timeouts = {
      headersTimeout: o.headersTimeoutMs ?? 5000,
      requestTimeout: o.requestTimeoutMs ?? 10_000,
      keepAliveTimeout: 5000,
      connectionsCheckingInterval: 1000,
    };
    const app = Fastify({
      loggerInstance: o.logger,
      // One line per /status poll would drown the journal; failures are logged below.
      logController: new LogController({ disableRequestLogging: true }),
      bodyLimit: o.bodyLimit ?? 64 * 1024,
      forceCloseConnections: true,
      serverFactory: (handler) => (tls ? createTlsServer({ ...timeouts, ...tls }, handler) : createServer(timeouts, handler)) as Server,
      // The routes see a plain FastifyInstance: the logger's pino type parameter is not theirs to know.
    }) as unknown as FastifyInstance;
    // JSON bodies: an empty body is no body (a bare POST with the JSON content type, as curl
    // and fetch send it), malformed JSON is E_REQUEST_INVALID.
    app.removeContentTypeParser('application/json');
    app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
      if (body === '') return done(null, undefined);
      try {
        done(null, JSON.parse(body as string));
      } catch {
        done(new AppError(ErrorCodes.REQUEST_INVALID, 'body: not valid JSON'), undefined);
      }
    });
    app.setErrorHandler((err, req, reply) => {
      const e = httpError(err);
      if (e.status >= 500) req.log.error({ err, url: req.url, method: req.method }, 'http request failed');
      if (e.code === ErrorCodes.LLM_BUSY) reply.header('Retry-After', '1');
      void reply.code(e.status).header('Cache-Control', 'no-store').send(errorBody(e));
    });
    app.setNotFoundHandler((req, reply) => {
      void reply.code(404).header('Cache-Control', 'no-store').send(errorBody({ status: 404, code: ErrorCodes.NOT_FOUND, message: `no route ${req.method} ${req.url.split('?')[0]}` }));
    });
    for (const r of o.routes) await r.register(app);
    try {
      await app.listen({ host: o.host, port: o.port });
    } catch (e) {
      await app.close().catch(() => undefined);
      throw e;
    }
    this.#app = app;
    o.logger.info(this.address(), 'http server listening');
  }

  async stop(): Promise<void> {
    const app = this.#app;
    this.#app = undefined;
    await app?.close();
  }
}
