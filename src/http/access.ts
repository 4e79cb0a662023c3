/**
 * Who may use the HTTP server, and how (issue 10 item 8; docs/http-api.md "Access"):
 *
 * - Bound to loopback (127.0.0.1, ::1, localhost): no sign-in; every request acts as the local
 *   user with the engineer role. The Host header must then be a loopback name too, so a web
 *   page that rebinds its own DNS name to 127.0.0.1 cannot talk to the daemon.
 * - Bound to anything else: the API (`/api/…`, `/status`) needs a session, opened with the
 *   OPC UA users (`opcua.users`, ../publish/user-directory.ts). Only the static page,
 *   `/healthz` and `/api/session` answer without one. Sessions live in memory; the cookie is
 *   HttpOnly, SameSite=Strict, Path=/, Secure under TLS.
 * - State changes (POST, PUT, DELETE, PATCH) must come from this origin: an `Origin` header,
 *   when sent, must be this server; `Sec-Fetch-Site: cross-site` is refused; and a request
 *   that carries a session cookie must carry its CSRF token in `X-CSRF-Token`. A client with
 *   neither cookie nor Origin (curl, a script — browsers always send Origin on these methods)
 *   needs no token on loopback; off loopback it has no session and is refused anyway.
 * - Rate limits: failed sign-ins per client address, questions per session.
 * - Roles: a route declares `config: { role: 'engineer' }` to be for engineers only.
 *   Handlers read the caller from `req.principal` (who did it, for audit logs).
 * - Every response carries a Content-Security-Policy that lets the page load nothing but its
 *   own files (no CDN, no inline script), and the usual no-sniff / no-framing headers.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, ErrorCodes } from '../errors.js';
import type { Logger } from '../log.js';
import { allowOnly, type HttpRoutes } from './http-server.js';
import { RateLimiter } from './rate-limit.js';
import { SessionStore, sameToken, type Role, type Session } from './session-store.js';

export type { Role } from './session-store.js';

export interface Principal {
  readonly user: string;
  readonly role: Role;
  /** The signed-in session; null for the implicit local user of a loopback server. */
  readonly session: Session | null;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The caller (access.ts); null only on the routes that need no sign-in. */
    principal: Principal | null;
  }
  interface FastifyContextConfig {
    /** The least role a route needs (access.ts); absent = any signed-in user. */
    role?: Role;
  }
}

/** What access needs of the users (../publish/user-directory.ts). */
export interface UserCheck {
  readonly size: number;
  isValidUser(username: string, password: string): boolean;
  roleOf(username: string): Role | undefined;
}

export interface AccessOptions {
  /** The address the server binds (config http.host). */
  readonly host: string;
  readonly tls: boolean;
  readonly users: UserCheck;
  readonly sessionIdleMs: number;
  readonly signInAttemptsPerMinute: number;
  readonly questionsPerMinute: number;
  readonly logger: Logger;
  readonly now?: () => number;
}

export const SESSION_COOKIE = 'agpt_session';
export const LOCAL_USER = 'local';
/** The routes whose POST is a question (rate-limited per session). */
const QUESTION_ROUTES = new Set(['/api/conversations/:id/messages']);
const UNSAFE = new Set(['POST', 'PUT', 'DELETE', 'PATCH']);

export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' blob:",
  "connect-src 'self'",
  "font-src 'self'",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** A loopback address or name (what `http.host` and a Host header are checked against). */
export function isLoopbackHost(host: string): boolean {
  const h = host.trim().toLowerCase().replace(/^\[(.*)\]$/, '$1');
  return h === 'localhost' || h === '::1' || /^127(\.\d{1,3}){3}$/.test(h) || /^::ffff:127(\.\d{1,3}){3}$/.test(h);
}

/** The host name of a Host header value, without the port ("[::1]:8787" → "::1"). */
export function hostnameOf(hostHeader: string): string {
  const h = hostHeader.trim();
  if (h.startsWith('[')) return h.slice(1, Math.max(1, h.indexOf(']')));
  const colon = h.lastIndexOf(':');
  return colon > 0 && h.indexOf(':') === colon ? h.slice(0, colon) : h;
}

function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** Paths that hold data: everything but the static page and /healthz. */
function holdsData(path: string): boolean {
  return path === '/status' || path === '/api' || path.startsWith('/api/');
}

export class Access {
  readonly authRequired: boolean;
  readonly #o: AccessOptions;
  readonly #sessions: SessionStore;
  readonly #signIns: RateLimiter;
  readonly #questions: RateLimiter;

  constructor(options: AccessOptions) {
    this.#o = options;
    this.authRequired = !isLoopbackHost(options.host);
    if (this.authRequired && options.users.size === 0) {
      throw new AppError(
        ErrorCodes.CONFIG_INVALID,
        `http.host ${options.host} is not loopback, so the page requires sign-in, but opcua.users is empty: add users (README "Technician's console") or bind http.host to 127.0.0.1`,
      );
    }
    const now = options.now ?? Date.now;
    this.#sessions = new SessionStore(options.sessionIdleMs, now);
    this.#signIns = new RateLimiter(options.signInAttemptsPerMinute, 60_000, now);
    this.#questions = new RateLimiter(options.questionsPerMinute, 60_000, now);
  }

  /** Open sessions (for /status). */
  get sessions(): number {
    return this.#sessions.size;
  }

  routes(): HttpRoutes {
    return {
      name: 'access',
      register: (app: FastifyInstance) => {
        app.decorateRequest('principal', null);
        app.addHook('onRequest', async (req, reply) => this.#check(req, reply));
        app.get('/api/session', async (req, reply) => this.#current(req, reply));
        app.post('/api/session', async (req, reply) => this.#signIn(req, reply));
        app.delete('/api/session', async (req, reply) => {
          const s = req.principal?.session;
          if (s) {
            this.#sessions.delete(s.id);
            this.#o.logger.info({ user: s.user, ip: req.ip }, 'signed out');
          }
          return reply.header('Set-Cookie', this.#cookie('', 0)).code(204).send();
        });
        allowOnly(app, '/api/session', ['GET', 'POST', 'DELETE']);
      },
    };
  }

  async #check(req: FastifyRequest, reply: FastifyReply): Promise<void> {
    reply.header('Content-Security-Policy', CONTENT_SECURITY_POLICY);
    reply.header('X-Content-Type-Options', 'nosniff');
    reply.header('X-Frame-Options', 'DENY');
    reply.header('Referrer-Policy', 'no-referrer');
    reply.header('Cross-Origin-Opener-Policy', 'same-origin');
    reply.header('Cross-Origin-Resource-Policy', 'same-origin');
    const host = req.headers.host;
    if (!this.authRequired && host !== undefined && !isLoopbackHost(hostnameOf(host))) {
      throw new AppError(ErrorCodes.FORBIDDEN, `this server listens on loopback only; Host "${host}" is not a loopback name`);
    }
    const session = this.#sessions.get(cookieValue(req.headers.cookie, SESSION_COOKIE));
    req.principal = session
      ? { user: session.user, role: session.role, session }
      : this.authRequired ? null : { user: LOCAL_USER, role: 'engineer', session: null };
    const path = req.url.split('?')[0];
    const sessionRoute = path === '/api/session';
    if (!req.principal && holdsData(path) && !sessionRoute) {
      throw new AppError(ErrorCodes.UNAUTHORIZED, 'sign in first: POST /api/session { username, password }');
    }
    if (UNSAFE.has(req.method)) this.#checkOrigin(req, session, sessionRoute && req.method === 'POST');
    const role = req.routeOptions.config?.role;
    if (role === 'engineer' && req.principal?.role !== 'engineer') {
      throw new AppError(ErrorCodes.FORBIDDEN, `${req.method} ${path} needs the engineer role (you are ${req.principal?.role ?? 'not signed in'})`);
    }
    if (req.method === 'POST' && req.routeOptions.url !== undefined && QUESTION_ROUTES.has(req.routeOptions.url)) {
      const d = this.#questions.take(session ? `s:${session.id}` : `ip:${req.ip}`);
      if (!d.allowed) {
        reply.header('Retry-After', String(d.retryAfterS));
        throw new AppError(ErrorCodes.RATE_LIMITED, `more than ${this.#o.questionsPerMinute} questions in a minute; try again in ${d.retryAfterS} s`);
      }
    }
  }

  /** CSRF: same origin, and the session's token when a session cookie came along. */
  #checkOrigin(req: FastifyRequest, session: Session | undefined, signIn: boolean): void {
    const origin = req.headers.origin;
    const own = `${this.#o.tls ? 'https' : 'http'}://${req.headers.host ?? ''}`.toLowerCase();
    if (origin !== undefined && origin.toLowerCase() !== own) {
      throw new AppError(ErrorCodes.FORBIDDEN, `cross-origin ${req.method} refused (Origin ${origin} is not ${own})`);
    }
    if (req.headers['sec-fetch-site'] === 'cross-site') throw new AppError(ErrorCodes.FORBIDDEN, `cross-site ${req.method} refused`);
    if (signIn) return;
    if (session) {
      if (!sameToken(req.headers['x-csrf-token'], session.csrfToken)) {
        throw new AppError(ErrorCodes.FORBIDDEN, `${req.method} needs the session's X-CSRF-Token (GET /api/session)`);
      }
      return;
    }
    // No session: off loopback the request was refused already (or it is a sign-out of
    // nothing); on loopback a browser (Origin or a stale cookie) must fetch a token first.
    if (!this.authRequired && (origin !== undefined || req.headers.cookie !== undefined)) {
      throw new AppError(ErrorCodes.FORBIDDEN, `${req.method} from a browser needs the X-CSRF-Token of GET /api/session`);
    }
  }

  async #current(req: FastifyRequest, reply: FastifyReply): Promise<object> {
    let s = req.principal?.session ?? null;
    if (!s) {
      if (this.authRequired) throw new AppError(ErrorCodes.UNAUTHORIZED, 'not signed in');
      // Loopback: the local user gets a session of its own, so the page has a CSRF token.
      s = this.#sessions.create(LOCAL_USER, 'engineer');
      reply.header('Set-Cookie', this.#cookie(s.id));
    }
    reply.header('Cache-Control', 'no-store');
    return { user: s.user, role: s.role, authRequired: this.authRequired, csrfToken: s.csrfToken };
  }

  async #signIn(req: FastifyRequest, reply: FastifyReply): Promise<object> {
    const body = req.body as { username?: unknown; password?: unknown } | null | undefined;
    const username = body?.username;
    const password = body?.password;
    if (typeof username !== 'string' || typeof password !== 'string' || username.length > 128 || password.length > 1024) {
      throw new AppError(ErrorCodes.REQUEST_INVALID, 'body: { "username": string, "password": string }');
    }
    const key = req.ip;
    const d = this.#signIns.check(key);
    if (!d.allowed) {
      reply.header('Retry-After', String(d.retryAfterS));
      this.#o.logger.warn({ ip: req.ip, username }, 'sign-in refused: too many failed attempts');
      throw new AppError(ErrorCodes.RATE_LIMITED, `too many failed sign-ins from ${req.ip}; try again in ${d.retryAfterS} s`);
    }
    const role = this.#o.users.isValidUser(username, password) ? this.#o.users.roleOf(username) : undefined;
    if (!role) {
      this.#signIns.hit(key);
      this.#o.logger.warn({ ip: req.ip, username }, 'sign-in refused: unknown user or wrong password');
      throw new AppError(ErrorCodes.UNAUTHORIZED, 'unknown user or wrong password');
    }
    // A new session id at every sign-in (no fixation); the old one ends.
    const old = req.principal?.session;
    if (old) this.#sessions.delete(old.id);
    const s = this.#sessions.create(username, role);
    this.#o.logger.info({ user: username, role, ip: req.ip }, 'signed in');
    reply.header('Set-Cookie', this.#cookie(s.id)).header('Cache-Control', 'no-store');
    return { user: s.user, role: s.role, authRequired: this.authRequired, csrfToken: s.csrfToken };
  }

  #cookie(value: string, maxAgeS?: number): string {
    return `${SESSION_COOKIE}=${value}; Path=/; HttpOnly; SameSite=Strict${this.#o.tls ? '; Secure' : ''}${maxAgeS !== undefined ? `; Max-Age=${maxAgeS}` : ''}`;
  }
}
