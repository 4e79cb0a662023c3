/**
 * Access to the HTTP server (src/http/access.ts) over real HTTP: loopback without sign-in but
 * with the Host and CSRF checks; beyond loopback (bound to this machine's own non-loopback
 * address) nothing but the page shell without a session; sign-in with the OPC UA users,
 * cookie flags, roles, CSRF tokens, rate limits on sign-in and on questions.
 */
import t, { type Test } from 'tap';
import { request } from 'node:http';
import { networkInterfaces } from 'node:os';
import type { FastifyInstance } from 'fastify';
import { Access, hostnameOf, isLoopbackHost } from '../../src/http/access.js';
import { HttpServer, type HttpRoutes } from '../../src/http/http-server.js';
import { statusRoutes } from '../../src/http/status-routes.js';
import { createLogger } from '../../src/log.js';
import { UserDirectory } from '../../src/publish/user-directory.js';

const logger = createLogger({ level: 'silent' });
const users = new UserDirectory(
  [
    { username: 'op', password: { env: 'OP_PW' }, role: 'operator' },
    { username: 'eng', password: { env: 'ENG_PW' }, role: 'engineer' },
  ],
  { env: { OP_PW: 'op-secret', ENG_PW: 'eng-secret' } },
);

/** Routes standing in for the console's: a read, a state change, an engineer-only change, a question. */
const probe: HttpRoutes = {
  name: 'probe',
  register(app: FastifyInstance) {
    app.get('/api/probe', async (req) => ({ user: req.principal?.user ?? null, role: req.principal?.role ?? null }));
    app.post('/api/probe', async (req) => ({ changedBy: req.principal?.user ?? null }));
    app.put('/api/probe/recipe', { config: { role: 'engineer' } }, async (req) => ({ by: req.principal?.user }));
    app.post('/api/conversations/:id/messages', async () => ({ answer: 'ok' }));
  },
};

async function server(t: Test, host: string, over: Partial<ConstructorParameters<typeof Access>[0]> = {}) {
  const access = new Access({ host, tls: false, users, sessionIdleMs: 60_000, signInAttemptsPerMinute: 5, questionsPerMinute: 3, logger, ...over });
  const s = new HttpServer({ host, port: 0, logger, routes: [access.routes(), statusRoutes({ isReady: () => true, status: () => ({ secret: 'status' }) }), probe] });
  await s.start();
  t.teardown(() => s.stop());
  const { port } = s.address();
  return { access, port };
}

// Response bodies are checked field by field.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
interface Res { status: number; body: any; headers: Record<string, string | string[] | undefined> }

function call(host: string, port: number, method: string, path: string, opts: { headers?: Record<string, string>; body?: unknown } = {}): Promise<Res> {
  return new Promise((resolve, reject) => {
    const body = opts.body === undefined ? undefined : JSON.stringify(opts.body);
    const req = request({ host, port, method, path, headers: { ...(body ? { 'content-type': 'application/json' } : {}), ...opts.headers } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (text += c));
      res.on('end', () => {
        let parsed: unknown = text;
        try {
          parsed = text ? JSON.parse(text) : null;
        } catch {
          // not JSON
        }
        resolve({ status: res.statusCode ?? 0, body: parsed, headers: res.headers });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

const cookieOf = (r: Res) => String((r.headers['set-cookie'] as string[] | undefined)?.[0] ?? '').split(';')[0];

t.test('loopback names', async (t) => {
  for (const h of ['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]', '::ffff:127.0.0.1']) t.ok(isLoopbackHost(h), h);
  for (const h of ['0.0.0.0', '192.0.2.2', '::', 'localhost.evil.com', '10.127.0.0.1']) t.notOk(isLoopbackHost(h), h);
  t.equal(hostnameOf('127.0.0.1:8787'), '127.0.0.1');
  t.equal(hostnameOf('[::1]:8787'), '::1');
  t.equal(hostnameOf('localhost'), 'localhost');
});

t.test('loopback: the local engineer without sign-in; Host, Origin and CSRF checks on state changes', async (t) => {
  const { port } = await server(t, '127.0.0.1');
  const H = '127.0.0.1';
  const own = `http://127.0.0.1:${port}`;
  let r = await call(H, port, 'GET', '/api/probe');
  t.equal(r.status, 200);
  t.same(r.body, { user: 'local', role: 'engineer' });
  t.match(r.headers['content-security-policy'], /default-src 'none'; script-src 'self'/, 'the CSP is on every response');
  t.equal(r.headers['x-frame-options'], 'DENY');
  t.equal((await call(H, port, 'GET', '/status')).status, 200);

  r = await call(H, port, 'GET', '/api/probe', { headers: { host: `attacker.example:${port}` } });
  t.equal(r.status, 403, 'a rebound DNS name is refused');
  t.equal(r.body.error.code, 'E_FORBIDDEN');

  t.equal((await call(H, port, 'POST', '/api/probe')).status, 200, 'a script (no Origin, no cookie) may change state on loopback');
  r = await call(H, port, 'POST', '/api/probe', { headers: { origin: 'http://evil.example' } });
  t.equal(r.status, 403, 'cross-origin POST refused');
  t.match(r.body.error.message, /cross-origin/);
  r = await call(H, port, 'POST', '/api/probe', { headers: { origin: own } });
  t.equal(r.status, 403, 'a same-origin browser POST without the token is refused');
  t.equal((await call(H, port, 'POST', '/api/probe', { headers: { 'sec-fetch-site': 'cross-site' } })).status, 403);

  const s = await call(H, port, 'GET', '/api/session');
  t.equal(s.status, 200);
  t.match(s.body, { user: 'local', role: 'engineer', authRequired: false, csrfToken: /^[\w-]{40,}$/ });
  const set = String((s.headers['set-cookie'] as string[])[0]);
  t.match(set, /^agpt_session=[\w-]{40,}; Path=\/; HttpOnly; SameSite=Strict$/, 'HttpOnly, SameSite=Strict, no Secure without TLS');
  const cookie = cookieOf(s);
  r = await call(H, port, 'POST', '/api/probe', { headers: { origin: own, cookie, 'x-csrf-token': s.body.csrfToken } });
  t.equal(r.status, 200, 'with the session\'s token');
  r = await call(H, port, 'POST', '/api/probe', { headers: { cookie } });
  t.equal(r.status, 403, 'a cookie without the token is refused (the cookie alone proves nothing)');
  r = await call(H, port, 'POST', '/api/probe', { headers: { cookie, 'x-csrf-token': `${s.body.csrfToken.slice(0, -1)}x` } });
  t.equal(r.status, 403, 'a wrong token is refused');
});

/** This machine's own non-loopback IPv4 address, if it has one. */
function ownAddress(): string | undefined {
  for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  return undefined;
}

t.test('beyond loopback: refused without a session; sign-in with the OPC UA users; roles; CSRF; rate limits', async (t) => {
  // Bound to the machine's own address and reached through it. Without one (a sandbox with
  // loopback only), 0.0.0.0 is bound and reached through 127.0.0.1: the policy follows the
  // bound host (http.host), so the same checks apply — the comment below says which ran.
  const own = ownAddress();
  const bind = own ?? '0.0.0.0';
  const H = own ?? '127.0.0.1';
  t.comment(own ? `bound to and reached through ${own}` : 'no non-loopback address: bound 0.0.0.0, reached through 127.0.0.1');
  const { access, port } = await server(t, bind);
  t.equal(access.authRequired, true);
  const origin = `http://${H}:${port}`;

  for (const path of ['/api/probe', '/status', '/api/nope']) {
    const r = await call(H, port, 'GET', path);
    t.equal(r.status, 401, `GET ${path} without a session`);
    t.equal(r.body.error.code, 'E_UNAUTHORIZED');
  }
  t.equal((await call(H, port, 'POST', '/api/probe')).status, 401, 'a script without a session cannot change state either');
  t.equal((await call(H, port, 'GET', '/healthz')).status, 200, '/healthz stays open (load balancers)');
  t.equal((await call(H, port, 'GET', '/api/session')).status, 401, 'no session yet');
  t.equal((await call(H, port, 'GET', '/api/probe', { headers: { cookie: 'agpt_session=forged' } })).status, 401, 'a forged cookie is no session');

  // Five wrong passwords from one address, then 429 even for the right one.
  for (let i = 0; i < 5; i++) {
    const r = await call(H, port, 'POST', '/api/session', { body: { username: 'op', password: `wrong${i}` }, headers: { origin } });
    t.equal(r.status, 401, `wrong password ${i + 1}`);
  }
  let r = await call(H, port, 'POST', '/api/session', { body: { username: 'op', password: 'op-secret' }, headers: { origin } });
  t.equal(r.status, 429, 'sign-in rate-limited after 5 failures a minute');
  t.equal(r.body.error.code, 'E_RATE_LIMITED');
  t.match(r.headers['retry-after'], /^\d+$/);

  // A fresh server (fresh limiter) for the rest.
  const second = await server(t, bind);
  const p2 = second.port;
  const o2 = `http://${H}:${p2}`;
  r = await call(H, p2, 'POST', '/api/session', { body: { username: 'op', password: 'op-secret' }, headers: { origin: 'http://evil.example' } });
  t.equal(r.status, 403, 'a sign-in posted from another origin is refused (login CSRF)');
  r = await call(H, p2, 'POST', '/api/session', { body: { username: 'op', password: 'op-secret' }, headers: { origin: o2 } });
  t.equal(r.status, 200);
  t.match(r.body, { user: 'op', role: 'operator', authRequired: true });
  const op = { cookie: cookieOf(r), token: r.body.csrfToken as string };
  t.equal((await call(H, p2, 'GET', '/api/probe', { headers: { cookie: op.cookie } })).body.user, 'op');
  t.equal((await call(H, p2, 'GET', '/api/session', { headers: { cookie: op.cookie } })).body.csrfToken, op.token, 'the session tells its token again');
  r = await call(H, p2, 'POST', '/api/probe', { headers: { cookie: op.cookie, origin: o2 } });
  t.equal(r.status, 403, 'CSRF: the cookie without the token is refused');
  r = await call(H, p2, 'POST', '/api/probe', { headers: { cookie: op.cookie, origin: o2, 'x-csrf-token': op.token } });
  t.same([r.status, r.body], [200, { changedBy: 'op' }]);
  r = await call(H, p2, 'PUT', '/api/probe/recipe', { headers: { cookie: op.cookie, 'x-csrf-token': op.token } });
  t.equal(r.status, 403, 'an operator may not change recipes');
  t.match(r.body.error.message, /engineer role/);

  r = await call(H, p2, 'POST', '/api/session', { body: { username: 'eng', password: 'eng-secret' } });
  const eng = { cookie: cookieOf(r), token: r.body.csrfToken as string };
  r = await call(H, p2, 'PUT', '/api/probe/recipe', { headers: { cookie: eng.cookie, 'x-csrf-token': eng.token } });
  t.same([r.status, r.body], [200, { by: 'eng' }], 'an engineer may');
  t.notSame(eng.token, op.token, 'every session has its own token');
  r = await call(H, p2, 'POST', '/api/probe', { headers: { cookie: eng.cookie, 'x-csrf-token': op.token } });
  t.equal(r.status, 403, 'another session\'s token does not fit');

  // Questions: 3 a minute per session (questionsPerMinute in this test).
  const ask = (who: typeof op) => call(H, p2, 'POST', '/api/conversations/c1/messages', { body: { question: 'why?' }, headers: { cookie: who.cookie, 'x-csrf-token': who.token } });
  for (let i = 0; i < 3; i++) t.equal((await ask(op)).status, 200, `question ${i + 1}`);
  r = await ask(op);
  t.equal(r.status, 429, 'the fourth question in a minute is refused');
  t.equal(r.body.error.code, 'E_RATE_LIMITED');
  t.equal((await ask(eng)).status, 200, 'per session: another user is not affected');

  r = await call(H, p2, 'DELETE', '/api/session', { headers: { cookie: op.cookie, 'x-csrf-token': op.token } });
  t.equal(r.status, 204);
  t.match(String((r.headers['set-cookie'] as string[])[0]), /Max-Age=0/, 'the cookie is cleared');
  t.equal((await call(H, p2, 'GET', '/api/probe', { headers: { cookie: op.cookie } })).status, 401, 'signed out');
});

t.test('beyond loopback with no users is a configuration error; Secure cookies under TLS', async (t) => {
  t.throws(() => new Access({ host: '0.0.0.0', tls: false, users: new UserDirectory([]), sessionIdleMs: 1, signInAttemptsPerMinute: 1, questionsPerMinute: 1, logger }), { code: 'E_CONFIG_INVALID' });
  const { port } = await server(t, '127.0.0.1', { tls: true });
  // The flag only: a plain-HTTP server told it runs TLS writes what a TLS one would.
  const r = await call('127.0.0.1', port, 'GET', '/api/session');
  t.match(String((r.headers['set-cookie'] as string[])[0]), /; Secure$/);
});

t.test('sessions expire when idle', async (t) => {
  let now = 1_000_000;
  const { port } = await server(t, '0.0.0.0', { sessionIdleMs: 60_000, now: () => now });
  const r = await call('127.0.0.1', port, 'POST', '/api/session', { body: { username: 'op', password: 'op-secret' } });
  const cookie = cookieOf(r);
  now += 59_000;
  t.equal((await call('127.0.0.1', port, 'GET', '/api/probe', { headers: { cookie } })).status, 200, 'used within the idle time');
  now += 61_000;
  t.equal((await call('127.0.0.1', port, 'GET', '/api/probe', { headers: { cookie } })).status, 401, 'idle too long');
});
