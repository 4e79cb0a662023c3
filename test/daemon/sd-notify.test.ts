import t, { type Test } from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SdNotifier, Watchdog, notifySocketAddress, watchdogIntervalMs } from '../../src/daemon/sd-notify.js';
import { sleep, until } from '../support/wait.js';
import { capturingLogger } from '../support/logger.js';

interface Server {
  bind(path: string): void;
  close(): void;
  on(ev: 'message', fn: (buf: Buffer) => void): void;
  on(ev: 'error', fn: (e: Error) => void): void;
}
const unix = createRequire(import.meta.url)('unix-dgram') as { createSocket(type: 'unix_dgram'): Server };

/** A real datagram socket standing in for systemd's notify socket (short path: sun_path is 108 bytes). */
function fakeSystemd(t: Test) {
  const dir = mkdtempSync(join(tmpdir(), 'sdn-'));
  const path = join(dir, 'notify');
  const received: string[] = [];
  const server = unix.createSocket('unix_dgram');
  server.on('message', (buf) => received.push(buf.toString('utf8')));
  server.on('error', (e) => t.fail(String(e)));
  server.bind(path);
  t.teardown(() => {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { path, received };
}

t.test('without NOTIFY_SOCKET it does nothing', async (t) => {
  const n = new SdNotifier({ env: {} });
  t.equal(n.enabled, false);
  t.equal(n.ready(), false);
  t.equal(n.watchdog(), false);
  n.close();
});

t.test('abstract socket addresses', async (t) => {
  t.equal(notifySocketAddress('@/org/x'), '\0/org/x');
  t.equal(notifySocketAddress('/run/systemd/notify'), '/run/systemd/notify');
  const { logger, lines } = capturingLogger();
  const n = new SdNotifier({ env: { NOTIFY_SOCKET: '@abc' }, logger });
  t.equal(n.enabled, false, 'unix-dgram cannot address abstract sockets, so it stays off');
  t.match(lines[0], { level: 40, msg: /abstract NOTIFY_SOCKET is not supported/ });
});

t.test('watchdogIntervalMs halves WATCHDOG_USEC and honours WATCHDOG_PID', async (t) => {
  t.equal(watchdogIntervalMs({}, 10), null);
  t.equal(watchdogIntervalMs({ WATCHDOG_USEC: '30000000' }, 10), 15000);
  t.equal(watchdogIntervalMs({ WATCHDOG_USEC: '30000000', WATCHDOG_PID: '10' }, 10), 15000);
  t.equal(watchdogIntervalMs({ WATCHDOG_USEC: '30000000', WATCHDOG_PID: '11' }, 10), null, 'meant for another process');
  t.equal(watchdogIntervalMs({ WATCHDOG_USEC: 'x' }, 10), null);
  t.equal(watchdogIntervalMs({ WATCHDOG_USEC: '0' }, 10), null);
});

t.test('READY, STATUS, STOPPING reach a real notify socket', async (t) => {
  const sd = fakeSystemd(t);
  const n = new SdNotifier({ env: { NOTIFY_SOCKET: sd.path } });
  t.equal(n.enabled, true);
  t.equal(n.ready('model warm,\n1 camera'), true);
  t.equal(n.status('running'), true);
  t.equal(n.stopping(), true);
  await until(() => sd.received.length >= 3);
  t.same(sd.received, ['READY=1\nSTATUS=model warm, 1 camera', 'STATUS=running', 'STOPPING=1']);
  n.close();
});

t.test('a dead socket: send returns false, warns once', async (t) => {
  const { logger, lines } = capturingLogger();
  const n = new SdNotifier({ env: { NOTIFY_SOCKET: join(tmpdir(), 'no-such-notify-socket') }, logger });
  t.equal(n.ready(), false);
  t.equal(n.watchdog(), false);
  t.equal(lines.filter((l) => l.level === 40).length, 1);
  n.close();
});

t.test('Watchdog pings only while progress advances (stepped timers)', async (t) => {
  const sd = fakeSystemd(t);
  const { logger, lines } = capturingLogger();
  const n = new SdNotifier({ env: { NOTIFY_SOCKET: sd.path } });
  let tick: (() => void) | undefined;
  const wd = new Watchdog({
    notifier: n,
    intervalMs: 15000,
    logger,
    timers: { setInterval: (fn) => ((tick = fn), 1), clearInterval: () => (tick = undefined) },
  });
  wd.start();
  t.ok(tick, 'interval armed');
  tick!(); // no progress yet
  wd.progress();
  tick!(); // ping
  tick!(); // stalled
  wd.progress();
  wd.progress();
  tick!(); // one ping for two frames
  await until(() => sd.received.length >= 2);
  await sleep(30);
  t.same(sd.received, ['WATCHDOG=1', 'WATCHDOG=1']);
  t.equal(wd.pings, 2);
  t.ok(lines.some((l) => /withholding WATCHDOG=1/.test(l.msg)), 'a stall is logged');
  wd.stop();
  t.equal(tick, undefined, 'interval cleared');
  n.close();
});

t.test('Watchdog with real timers stops pinging when progress stops', async (t) => {
  const sd = fakeSystemd(t);
  const n = new SdNotifier({ env: { NOTIFY_SOCKET: sd.path } });
  const wd = new Watchdog({ notifier: n, intervalMs: 20 });
  wd.start();
  const frames = setInterval(() => wd.progress(), 5);
  await sleep(150);
  clearInterval(frames);
  await sleep(30); // let the last in-flight ping land
  const whileProgressing = sd.received.length;
  await sleep(150);
  wd.stop();
  n.close();
  t.ok(whileProgressing >= 3, `${whileProgressing} pings while frames completed`);
  t.equal(sd.received.length, whileProgressing, 'no pings after progress stopped');
  t.ok(sd.received.every((m) => m === 'WATCHDOG=1'));
});
