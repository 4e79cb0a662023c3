import t from 'tap';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { InspectionRecord } from '../../src/archive/inspection-record.js';
import { validateConfig, type Config } from '../../src/config/index.js';
import { App } from '../../src/daemon/app.js';
import type { AppStatus } from '../../src/daemon/app-status.js';
import { capturingLogger, defaultBundleDir, fakeSystemd, silentLogger, until, writeSimImages } from '../pipeline/helpers.js';
import { daemonTestdir } from '../support/testdir.js';

function get(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'GET' }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function testConfig(dir: string, cameras: unknown[], over: Record<string, unknown> = {}): Promise<Config> {
  return validateConfig(
    {
      stateDirectory: join(dir, 'state'),
      logging: { level: 'info' },
      inference: { bundle: await defaultBundleDir(), executionProviders: ['cpu'], warmupRuns: 1 },
      cameras,
      archive: { saveFrames: 'fails' },
      http: { enabled: true, host: '127.0.0.1', port: 0 },
      shutdown: { stepTimeoutMs: 5000 },
      ...over,
    },
    'test',
    { baseDir: dir, env: {} },
  );
}

const SIM_CAMERA = { id: 'cam-sim', recipe: 'sim-part', source: { kind: 'sim', width: 320, height: 240, defectRate: 0.3, seed: 3 }, trigger: { mode: 'free-run', fps: 0 } };

const stepsLogged = (lines: { msg: string; component?: string; step?: unknown }[], msg: 'started' | 'stopped') =>
  lines.filter((l) => l.component === 'lifecycle' && l.msg === msg).map((l) => l.step as string);

t.test('start → READY → verdicts archived → stop in reverse order with the frame in flight archived', async (t) => {
  const dir = daemonTestdir(t);
  const replay = join(dir, 'replay');
  mkdirSync(replay);
  await writeSimImages(replay, [1, 2, 3, 4, 5, 6], { seed: 3, defectRate: 0.5 });
  // Every verdict must be in the inspection record: the pipelines wait for it, whatever the rate.
  const config = await testConfig(dir, [
    { ...SIM_CAMERA, trigger: { mode: 'free-run', fps: 8 } },
    { id: 'cam-folder', recipe: 'sim-part', source: { kind: 'folder', path: 'replay', loop: true }, trigger: { mode: 'free-run', fps: 4 } },
  ]);
  const sd = fakeSystemd((fn) => t.teardown(fn));
  const env = { NOTIFY_SOCKET: sd.path, WATCHDOG_USEC: '400000', WATCHDOG_PID: String(process.pid) };
  const { logger, lines } = capturingLogger('info');
  const app = new App({ config, logger, env });
  t.teardown(() => app.stop());

  const t0 = performance.now();
  const result = await app.start();
  const readyMs = performance.now() - t0;
  t.ok(result.ok, 'started');
  t.equal(app.ready, true);
  await until(() => sd.received.some((m) => m.startsWith('READY=1')), 2000, 'READY=1');
  t.comment(`start → READY ${readyMs.toFixed(0)} ms (calibrating the simulated recipe)`);
  t.ok(lines.some((l) => l.msg === 'calibrated recipe sim-part from simulated normal parts'), 'the missing sim recipe was calibrated, and said so');
  t.same(stepsLogged(lines, 'started'), ['engine', 'recipes', 'record', 'dialogue', 'sinks', 'pipeline:cam-sim', 'pipeline:cam-folder', 'http', 'watchdog']);
  const readyAt = sd.received.findIndex((m) => m.startsWith('READY=1'));
  t.ok(sd.received.slice(0, readyAt).every((m) => !m.includes('WATCHDOG')), 'no watchdog ping before READY');

  const { port } = app.httpAddress()!;
  t.equal((await get(port, '/healthz')).status, 200);
  await until(() => (app.pipeline('cam-sim')?.counters.inspected ?? 0) >= 6 && (app.pipeline('cam-folder')?.counters.inspected ?? 0) >= 3, 15_000, 'verdicts');
  const status = JSON.parse((await get(port, '/status')).body) as AppStatus;
  t.match(status, {
    state: 'running',
    ready: true,
    provider: 'cpu',
    bundle: { id: 'mobilenetv2-nsfwjs' },
    cameras: {
      'cam-sim': { camera: { state: 'streaming' }, recipe: { id: 'sim-part', version: /^[0-9a-f]{12}$/ }, trigger: { mode: 'free-run' } },
      'cam-folder': { camera: { state: 'streaming' }, recipe: { id: 'sim-part' } },
    },
    sinks: { log: { failed: 0 } },
    watchdog: { enabled: true, intervalMs: 200 },
  });
  t.ok(status.cameras['cam-sim'].counters.inspected >= 5);
  t.type(status.cameras['cam-sim'].lastVerdict?.score, 'number');
  t.type(status.cameras['cam-sim'].timings.p50TotalMs, 'number');
  await until(() => sd.received.includes('WATCHDOG=1'), 3000, 'WATCHDOG=1');
  t.pass('watchdog pings while frames complete');

  // Stop while a frame of the simulated camera is being inspected.
  const sim = app.pipeline('cam-sim')!;
  await until(() => sim.activity.inFlight, 5000, 'a frame in flight');
  const inFlightSeq = sim.counters.frames;
  const stopped = await app.stop('test');
  t.ok(stopped.ok, 'stopped cleanly');
  t.same(stepsLogged(lines, 'stopped'), ['watchdog', 'http', 'pipeline:cam-folder', 'pipeline:cam-sim', 'sinks', 'dialogue', 'record', 'recipes', 'engine'], 'exact reverse order');
  t.ok(sd.received.some((m) => m.startsWith('STOPPING=1')));
  t.equal(app.ready, false);

  const archive = new InspectionRecord({ ...config.archive }, silentLogger());
  await archive.start();
  const records = archive.history({ limit: 500 }).items;
  const { archive: archiveStats, sinks } = app.status();
  t.equal(sinks.log.published, sim.counters.inspected + app.pipeline('cam-folder')!.counters.inspected, 'every recorded verdict reached the sinks');
  t.equal(archiveStats.writeErrors, 0, 'the record took every verdict');
  t.equal(records.length, archiveStats.records);
  const simSeqs = records.filter((r) => r.verdict.cameraId === 'cam-sim').map((r) => r.verdict.seq);
  t.ok(simSeqs.includes(inFlightSeq), `the frame in flight at stop (seq ${inFlightSeq}) was recorded`);
  t.equal(simSeqs.length, sim.counters.inspected, 'every verdict of cam-sim is in the record');
  const folderCount = records.filter((r) => r.verdict.cameraId === 'cam-folder').length;
  t.equal(folderCount, app.pipeline('cam-folder')!.counters.inspected, 'every verdict of cam-folder too');
  const fail = records.find((r) => !r.verdict.pass);
  if (fail) t.ok(fail.files.frame && fail.files.mask, 'a failed inspection has its frame and mask saved');
  await archive.stop();

  // Second start: the recipe exists now, so nothing is calibrated.
  const second = capturingLogger('info');
  const again = new App({ config, logger: second.logger, env: {} });
  const t1 = performance.now();
  t.ok((await again.start()).ok);
  t.comment(`start → READY ${(performance.now() - t1).toFixed(0)} ms (recipe on disk)`);
  t.notOk(second.lines.some((l) => typeof l.msg === 'string' && l.msg.startsWith('calibrated recipe')), 'no calibration when the recipe exists');
  t.ok(second.lines.some((l) => l.msg === 'recipe loaded' && l.recipe === 'sim-part'));
  t.ok((await again.stop()).ok);
});

t.test('a camera that never opens: the daemon runs on, /status says reconnecting', async (t) => {
  const dir = daemonTestdir(t);
  const config = await testConfig(dir, [
    SIM_CAMERA,
    { id: 'cam-missing', recipe: 'sim-part', source: { kind: 'folder', path: 'no-such-folder' }, reconnect: { initialDelayMs: 50, maxDelayMs: 100 } },
    { id: 'cam-dev99', recipe: 'sim-part', source: { kind: 'device', index: 99 }, reconnect: { initialDelayMs: 50, maxDelayMs: 100 } },
  ]);
  const app = new App({ config, logger: silentLogger(), env: {} });
  t.teardown(() => app.stop());
  t.ok((await app.start()).ok, 'READY although two cameras cannot open');
  await until(() => (app.pipeline('cam-sim')?.counters.inspected ?? 0) >= 2, 10_000, 'verdicts of the working camera');
  await until(() => (app.status().cameras['cam-missing'].camera.stats.reopens ?? 0) >= 1, 5000, 'a reopen attempt');
  const status = JSON.parse((await get(app.httpAddress()!.port, '/status')).body) as AppStatus;
  t.match(status.cameras['cam-missing'].camera, { state: 'reconnecting', stats: { lastError: { code: 'E_CAMERA_OPEN', message: /no-such-folder/ } } });
  t.match(status.cameras['cam-dev99'].camera, { state: 'reconnecting', stats: { lastError: { code: 'E_CAMERA_OPEN' } } });
  t.equal(status.cameras['cam-sim'].camera.state, 'streaming');
  t.equal(status.state, 'running');
  t.ok((await app.stop()).ok);
});

t.test('a bundle that fails its sha256 stops the start with E_BUNDLE_CHECKSUM', async (t) => {
  const dir = daemonTestdir(t);
  const bundle = join(dir, 'bundle');
  mkdirSync(bundle);
  const src = await defaultBundleDir();
  copyFileSync(join(src, 'manifest.json'), join(bundle, 'manifest.json'));
  const onnx = readFileSync(join(src, 'encoder.onnx'));
  onnx[onnx.length >> 1] ^= 0xff;
  writeFileSync(join(bundle, 'encoder.onnx'), onnx);
  const config = await testConfig(dir, [SIM_CAMERA], { inference: { bundle: 'bundle', executionProviders: ['cpu'] } });
  const app = new App({ config, logger: silentLogger(), env: {} });
  const result = await app.start();
  t.equal(result.ok, false);
  t.match(result.failures, [{ component: 'engine', phase: 'start', error: { code: 'E_BUNDLE_CHECKSUM', message: /encoder\.onnx fails its sha256/ } }]);
  t.equal(app.ready, false);
  t.same(app.started, [], 'nothing left running');
  t.match(app.status().failures, [{ component: 'engine', code: 'E_BUNDLE_CHECKSUM' }]);
  await app.stop();
});

t.test('a missing recipe of a real camera fails fast with E_RECIPE_NOT_FOUND', async (t) => {
  const dir = daemonTestdir(t);
  mkdirSync(join(dir, 'replay'));
  const config = await testConfig(dir, [{ id: 'line1', recipe: 'bottle', source: { kind: 'folder', path: 'replay' } }]);
  const { logger, lines } = capturingLogger('info');
  const app = new App({ config, logger, env: {} });
  const result = await app.start();
  t.equal(result.ok, false);
  t.match(result.failures, [{ component: 'recipes', error: { code: 'E_RECIPE_NOT_FOUND', message: /camera line1 needs recipe bottle.*calibrate --recipe bottle/s } }]);
  t.same(stepsLogged(lines, 'stopped'), ['engine'], 'what had started was stopped');
  await app.stop();
});
