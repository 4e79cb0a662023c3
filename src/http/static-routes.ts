/**
 * The technician's page (issue 10): plain static files from `<package>/web/` — HTML, CSS and
 * ES modules, no build step, nothing fetched from anywhere else (access.ts sends the
 * Content-Security-Policy that enforces it). `/` is web/index.html; the views route by the URL
 * fragment (#/live, #/history, …), so the server needs no fallback route.
 *
 * The files are listed once at start (no wildcard route): unknown paths get the API's 404, and
 * nothing outside the folder can be named. index.html is never cached, so a new daemon version
 * is picked up on reload; the modules revalidate (ETag) on every load.
 */
import { join } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import type { HttpRoutes } from './http-server.js';

export function staticRoutes(options: { readonly root: string }): HttpRoutes {
  return {
    name: 'page',
    async register(app: FastifyInstance) {
      await app.register(fastifyStatic, {
        root: options.root,
        prefix: '/',
        wildcard: false,
        index: ['index.html'],
        serveDotFiles: false,
        cacheControl: false,
        setHeaders: (res) => res.setHeader('Cache-Control', 'no-cache'),
      });
    },
  };
}

/** The page's folder in the installed package. */
export function webRoot(packageRoot: string): string {
  return join(packageRoot, 'web');
}
