import t from 'tap';
import { request, Agent } from 'node:http';
import { connect } from 'node:net';
import { HttpServer } from '../../src/http/http-server.js';
import { statusRoutes, type StatusRoutesOptions } from '../../src/http/status-routes.js';
import { createLogger } from '../../src/log.js';

const logger = createLogger({ level: 'silent' });

/** The daemon's HTTP server with only the status routes. */
function statusServer(o: StatusRoutesOptions & { host: string; port: number; headersTimeoutMs?: number }): HttpServer {
  return new HttpServer({ host: o.host, port: o.port, logger, routes: [statusRoutes(o)], ...(o.headersTimeoutMs ? { headersTimeoutMs: o.headersTimeoutMs } : {}) });
}

function get(port: number, path: string, method = 'GET', agent?: Agent): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method, agent }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

t.test('healthz follows readiness, status serves the provider', async (t) => {
  let ready = false;
  let frames = 0;
  const server = statusServer({ host: '127.0.0.1', port: 0, isReady: () => ready, status: () => ({ state: ready ? 'running' : 'starting', frames }) });
  await server.start();
  t.teardown(() => server.stop());
  const { host, port } = server.address();
  t.equal(host, '127.0.0.1');
  t.ok(port > 0);

  let r = await get(port, '/healthz');
  t.equal(r.status, 503);
  t.same(JSON.parse(r.body), { ready: false });
  ready = true;
  frames = 7;
  r = await get(port, '/healthz');
  t.equal(r.status, 200);
  t.same(JSON.parse(r.body), { ready: true });
  t.equal(r.headers['cache-control'], 'no-store');

  r = await get(port, '/status?x=1');
  t.equal(r.status, 200);
  t.match(r.headers['content-type'], /^application\/json/);
  t.same(JSON.parse(r.body), { state: 'running', frames: 7 });

  r = await get(port, '/status', 'HEAD');
  t.equal(r.status, 200);
  t.equal(r.body, '');
  r = await get(port, '/status', 'POST');
  t.equal(r.status, 405);
  t.equal(r.headers.allow, 'GET, HEAD');
  t.equal(JSON.parse(r.body).error.code, 'E_METHOD_NOT_ALLOWED', 'one error shape');
  r = await get(port, '/nope');
  t.equal(r.status, 404);
  t.equal(JSON.parse(r.body).error.code, 'E_NOT_FOUND');
});

t.test('a failing provider gives 500, the server keeps serving', async (t) => {
  const server = statusServer({
    host: '127.0.0.1',
    port: 0,
    isReady: () => {
      throw new Error('x');
    },
    status: () => {
      const o: Record<string, unknown> = {};
      o.self = o; // not serialisable
      return o;
    },
  });
  await server.start();
  t.teardown(() => server.stop());
  const { port } = server.address();
  const failed = await get(port, '/status');
  t.equal(failed.status, 500);
  t.equal(JSON.parse(failed.body).error.code, 'E_UNEXPECTED', 'named code, no stack for the client');
  t.equal((await get(port, '/healthz')).status, 503, 'a throwing readiness check is not ready');
});

t.test('stop closes keep-alive connections promptly and frees the port', async (t) => {
  const server = statusServer({ host: '127.0.0.1', port: 0, isReady: () => true, status: () => ({}) });
  await server.start();
  const { port } = server.address();
  const agent = new Agent({ keepAlive: true });
  t.equal((await get(port, '/healthz', 'GET', agent)).status, 200);
  const t0 = performance.now();
  await server.stop();
  const ms = performance.now() - t0;
  t.ok(ms < 500, `stop took ${ms.toFixed(1)} ms with an idle keep-alive socket open`);
  await t.rejects(get(port, '/healthz'), { code: 'ECONNREFUSED' });
  agent.destroy();
  await server.stop(); // idempotent

  // the same port can be bound again
  const again = statusServer({ host: '127.0.0.1', port, isReady: () => true, status: () => ({}) });
  await again.start();
  t.equal(again.address().port, port);
  await again.stop();
});

t.test('a taken port rejects start; an already-aborted signal prevents listening', async (t) => {
  const a = statusServer({ host: '127.0.0.1', port: 0, isReady: () => true, status: () => ({}) });
  await a.start();
  t.teardown(() => a.stop());
  const b = statusServer({ host: '127.0.0.1', port: a.address().port, isReady: () => true, status: () => ({}) });
  await t.rejects(b.start(), { code: 'EADDRINUSE' });
  t.throws(() => b.address(), /not listening/);
  const ac = new AbortController();
  ac.abort();
  await t.rejects(b.start(ac.signal), { name: 'AbortError' });
});

t.test('slow clients are cut off: 50 sockets that never finish their headers are closed within the header timeout', async (t) => {
  const server = statusServer({ host: '127.0.0.1', port: 0, isReady: () => true, status: () => ({}), headersTimeoutMs: 1000 });
  await server.start();
  t.teardown(() => server.stop());
  const { port } = server.address();
  const t0 = performance.now();
  const closedAfter = await Promise.all(
    Array.from({ length: 50 }, () =>
      new Promise<number>((resolve, reject) => {
        const s = connect(port, '127.0.0.1', () => s.write('GET /status HTTP/1.1\r\nHost: x\r\nX-Slow: '));
        // A slowloris client trickles one header byte at a time and never ends the head.
        const drip = setInterval(() => s.write('a'), 200);
        s.on('close', () => {
          clearInterval(drip);
          resolve(performance.now() - t0);
        });
        s.on('error', () => undefined);
        setTimeout(() => reject(new Error('socket still open after 8 s')), 8000).unref();
      }),
    ),
  );
  const slowest = Math.max(...closedAfter);
  t.ok(slowest < 4000, `all 50 closed; the last after ${slowest.toFixed(0)} ms (header timeout 1000 ms)`);
  // and the server still serves
  t.equal((await get(port, '/healthz')).status, 200);
});
