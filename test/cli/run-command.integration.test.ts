import t from 'tap';
import { EventEmitter } from 'node:events';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CliContext } from '../../src/cli/cli-context.js';
import { runCommand } from '../../src/cli/run-command.js';
import type { App } from '../../src/daemon/app.js';
import { capturingLogger, defaultBundleDir, fakeSystemd, until } from '../pipeline/helpers.js';
import { captureIO, cliProcess as cli, daemonEntry, writeTestConfig } from './cli-helpers.js';

t.test('run: READY, verdicts, SIGTERM → graceful stop and exit 0 (in-process)', async (t) => {
  const dir = t.testdir();
  const config = await writeTestConfig(dir);
  const sd = fakeSystemd((fn) => t.teardown(fn));
  const io = captureIO();
  const ctx: CliContext = { ...io.ctx, env: { NOTIFY_SOCKET: sd.path } };
  const signals = new EventEmitter();
  const { logger, lines } = capturingLogger('info');
  let app: App | undefined;
  const exit = runCommand(['--config', config], ctx, { signals, daemonLogger: () => logger, onReady: (a) => (app = a) });
  await until(() => app !== undefined, 60_000, 'READY');
  await until(() => sd.received.some((m) => m.startsWith('READY=1')), 2000, 'READY=1 on the notify socket');
  await until(() => (app!.pipeline('cam1')?.counters.inspected ?? 0) >= 2, 10_000, 'two verdicts');
  t.equal(signals.listenerCount('SIGTERM'), 1);
  signals.emit('SIGTERM');
  t.equal(await exit, 0, 'exit 0 after a clean stop');
  t.ok(sd.received.some((m) => m.startsWith('STOPPING=1')));
  t.ok(lines.some((l) => l.msg === 'signal received; stopping' && l.signal === 'SIGTERM'));
  t.match(lines.find((l) => l.msg === 'stopped all'), { failures: 0 });
  t.equal(signals.listenerCount('SIGTERM'), 0, 'signal handlers removed');
  t.ok(lines.filter((l) => l.component === 'verdicts').length >= 2, 'verdicts logged by the log sink');
});

t.test('run: a bad config is E_CONFIG_INVALID; a broken bundle exits 1 naming the error', async (t) => {
  const dir = t.testdir();
  const bad = join(dir, 'bad.yaml');
  writeFileSync(bad, 'cameras: []\nbogus: 1\n');
  const io = captureIO();
  await t.rejects(runCommand(['--config', bad], io.ctx), { code: 'E_CONFIG_INVALID', message: /bogus: unknown key/ });
  await t.rejects(runCommand(['extra'], io.ctx), { code: 'E_USAGE' });

  const bundle = join(dir, 'bundle');
  mkdirSync(bundle);
  const src = await defaultBundleDir();
  copyFileSync(join(src, 'manifest.json'), join(bundle, 'manifest.json'));
  const onnx = readFileSync(join(src, 'encoder.onnx'));
  onnx[100] ^= 1;
  writeFileSync(join(bundle, 'encoder.onnx'), onnx);
  const config = await writeTestConfig(dir);
  writeFileSync(config, readFileSync(config, 'utf8').replace(/bundle: .*/, 'bundle: bundle'));
  const { logger } = capturingLogger('warn');
  t.equal(await runCommand(['--config', config], io.ctx, { daemonLogger: () => logger, signals: new EventEmitter() }), 78);
  t.match(io.err(), /engine failed to start: E_BUNDLE_CHECKSUM: bundle mobilenetv2-nsfwjs: encoder\.onnx fails its sha256/);
});

t.test('the real process: SIGTERM stops it cleanly; exit codes 78 and 64', { skip: daemonEntry() ? false : 'no dist/main.js newer than src/ and no TypeScript loader to start src/main.ts with' }, async (t) => {
  const dir = t.testdir();
  const config = await writeTestConfig(dir);
  const sd = fakeSystemd((fn) => t.teardown(fn));
  const run = cli(['run', '--config', config], { NOTIFY_SOCKET: sd.path });
  t.teardown(() => void run.child.kill('SIGKILL'));
  await until(() => sd.received.some((m) => m.startsWith('READY=1')), 60_000, 'READY=1 from the child');
  await until(() => run.stdout().includes('"component":"verdicts"'), 10_000, 'a verdict');
  run.child.kill('SIGTERM');
  const code = await run.exited;
  const lines = run.stdout().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
  t.equal(code, 0, 'exit 0 after SIGTERM', { stderr: run.stderr().slice(-3000), errors: lines.filter((l) => (l.level as number) >= 40) });
  t.ok(lines.some((l) => l.msg === 'signal received; stopping' && l.signal === 'SIGTERM'));
  t.match(lines.find((l) => l.msg === 'stopped all'), { failures: 0 });
  t.ok(sd.received.some((m) => m.startsWith('STOPPING=1')));

  const bad = join(dir, 'bad.yaml');
  writeFileSync(bad, 'cameras: []\nbogus: 1\n');
  const check = cli(['check-config', bad]);
  t.equal(await check.exited, 78, 'check-config: invalid → 78');
  t.match(check.stderr(), /bogus: unknown key/);
  const runBad = cli(['run', '--config', bad]);
  t.equal(await runBad.exited, 78, 'run with an invalid config → 78 (systemd does not restart-loop)');
  t.match(runBad.stderr(), /E_CONFIG_INVALID/);
  const unknown = cli(['frobnicate']);
  t.equal(await unknown.exited, 64, 'unknown command → 64');
});
