import t from 'tap';
import { existsSync, mkdirSync, readdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { calibrateCommand } from '../../src/cli/calibrate-command.js';
import { writeSimImages } from '../pipeline/helpers.js';
import { captureIO, writeTestConfig } from './cli-helpers.js';

const CAL_BASE = 2_000_000_000;

t.test('calibrate keeps the reference images; --rebuild recalibrates from them', async (t) => {
  const dir = t.testdir();
  const config = await writeTestConfig(dir);
  const refs = join(dir, 'refs');
  mkdirSync(refs);
  const clean = await writeSimImages(refs, [1, 2, 3].map((i) => CAL_BASE + i), { clean: true, prefix: 'tmp' });
  clean.forEach((c, i) => renameSync(c.path, join(refs, `img${i + 1}.png`)));
  const cal = captureIO();
  t.equal(await calibrateCommand(['--recipe', 'sim-part', '--config', config, refs], cal.ctx), 0);
  const first = cal.lines()[0];
  const folder = join(dir, 'state', 'recipes', 'sim-part');
  t.same(readdirSync(join(folder, 'references')), ['000-img1.png', '001-img2.png', '002-img3.png']);
  t.ok(existsSync(join(folder, 'sources.bin')));

  const again = captureIO();
  t.equal(await calibrateCommand(['--recipe', 'sim-part', '--config', config, '--rebuild'], again.ctx), 0);
  const rebuilt = again.lines()[0];
  t.match(rebuilt, { id: 'sim-part', previous: first.version, references: 3 });
  t.equal(rebuilt.version, first.version, 'same bundle, same images, same settings: the same recipe');

  await t.rejects(calibrateCommand(['--recipe', 'sim-part', '--config', config, '--rebuild', refs], captureIO().ctx), /no image folder/);
  await t.rejects(calibrateCommand(['--recipe', 'nope', '--config', config, '--rebuild'], captureIO().ctx), { code: 'E_RECIPE_NOT_FOUND' });
});
