/**
 * GET /healthz → 200 {"ready":true} when ready, 503 {"ready":false} otherwise (a health check
 * or load balancer); GET /status → the daemon's status document (AppStatus). HEAD works like
 * GET without a body. Neither is ever cached.
 */
import type { FastifyInstance } from 'fastify';
import { allowOnly, type HttpRoutes } from './http-server.js';

export interface StatusRoutesOptions {
  readonly isReady: () => boolean;
  readonly status: () => object;
}

export function statusRoutes(o: StatusRoutesOptions): HttpRoutes {
  return {
    name: 'status',
    register(app: FastifyInstance) {
      app.get('/healthz', async (_req, reply) => {
        let ready = false;
        try {
          ready = o.isReady() === true;
        } catch {
          // A readiness check that throws is not ready.
        }
        return reply.code(ready ? 200 : 503).header('Cache-Control', 'no-store').send({ ready });
      });
      // Serialised here, not by fastify, so a status that cannot be serialised is a 500 from
      // the error handler and never a half-written body.
      app.get('/status', async (_req, reply) =>
        reply.header('Cache-Control', 'no-store').type('application/json; charset=utf-8').send(`${JSON.stringify(o.status())}\n`),
      );
      allowOnly(app, '/healthz', ['GET']);
      allowOnly(app, '/status', ['GET']);
    },
  };
}
