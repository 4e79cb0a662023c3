import t from 'tap';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkConfigCommand } from '../../src/cli/check-config-command.js';
import { exitCodeFor } from '../../src/cli/cli-context.js';
import { defaultConfigPath } from '../../src/config/index.js';
import { captureIO, writeTestConfig } from './cli-helpers.js';

t.test('a valid file prints ok, exit 0', async (t) => {
  const io = captureIO();
  t.equal(await checkConfigCommand([await writeTestConfig(t.testdir())], io.ctx), 0);
  t.equal(io.out(), 'ok\n');
  const again = captureIO();
  t.equal(await checkConfigCommand(['--config', defaultConfigPath()], again.ctx), 0, 'the embedded default config is valid (also via --config)');
});

t.test('unknown keys: exit 78 and every key path', async (t) => {
  const dir = t.testdir();
  const path = join(dir, 'bad.yaml');
  writeFileSync(path, `inference: { bundle: b }
cameras:
  - id: cam1
    recipe: part
    source: { kind: sim, fpz: 3 }
archive: { maxRecordz: 3 }
`);
  const io = captureIO(dir);
  t.equal(await checkConfigCommand(['bad.yaml'], io.ctx), 78, 'relative to the working directory');
  t.equal(io.out(), '', 'nothing on stdout');
  t.match(io.err(), /2 problems/);
  t.match(io.err(), /cameras\[0\]\.source\.fpz: unknown key/);
  t.match(io.err(), /archive\.maxRecordz: unknown key/);
});

t.test('an unreadable file is a config error too; usage errors are E_USAGE (64)', async (t) => {
  const io = captureIO();
  t.equal(await checkConfigCommand([join(t.testdir(), 'missing.yaml')], io.ctx), 78);
  t.match(io.err(), /cannot read configuration/);
  await t.rejects(checkConfigCommand([], io.ctx), { code: 'E_USAGE', message: /exactly one FILE/ });
  await t.rejects(checkConfigCommand(['a.yaml', 'b.yaml'], io.ctx), { code: 'E_USAGE' });
  const err = await checkConfigCommand(['--nope'], io.ctx).catch((e: unknown) => e);
  t.match(err, { code: 'E_USAGE', message: /Unknown option '--nope'/ });
  t.equal(exitCodeFor(err), 64);
  const help = captureIO();
  t.equal(await checkConfigCommand(['--help'], help.ctx), 0);
  t.match(help.out(), /^usage: anomalygpt-edge check-config FILE/);
});
