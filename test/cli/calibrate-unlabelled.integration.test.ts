/**
 * `calibrate --unlabelled`: a recipe from frames of the line with no labels, a few of them
 * defective (issue 11, "start with no labelled references"). Real images: 8 good bottles and
 * one broken one (../shared/data/mvtec-bottle); the broken one must be dropped by mutual
 * scoring and the other eight kept as the recipe's references.
 */
import t from 'tap';
import { copyFileSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { calibrateCommand } from '../../src/cli/calibrate-command.js';
import { captureIO, writeTestConfig } from './cli-helpers.js';

const BOTTLE = join(import.meta.dirname, '../../../shared/data/mvtec-bottle');

t.test('unlabelled frames: the defective one is dropped, the good ones become references', { skip: existsSync(BOTTLE) ? false : `no ${BOTTLE} (../shared beside the repository)` }, async (t) => {
  const dir = t.testdir();
  const config = await writeTestConfig(dir);
  const line = join(dir, 'line');
  mkdirSync(line);
  const good = readdirSync(join(BOTTLE, 'train/good')).sort().slice(0, 8);
  for (const f of good) copyFileSync(join(BOTTLE, 'train/good', f), join(line, `good-${f}`));
  copyFileSync(join(BOTTLE, 'test/broken_large', '000.png'), join(line, 'frame-broken.png'));

  const io = captureIO();
  t.equal(await calibrateCommand(['--recipe', 'line', '--config', config, '--unlabelled', '--size', '224x224', line], io.ctx), 0);
  const out = io.lines()[0];
  t.same(out.dropped.map((d: { name: string }) => d.name), ['frame-broken.png'], 'the broken bottle is dropped');
  t.equal(out.references, 8, 'the eight good frames are the references');
  t.same(readdirSync(join(dir, 'state', 'recipes', 'line', 'references')).filter((n) => n.includes('broken')), [], 'no kept image of the dropped frame');

  const one = captureIO();
  t.equal(await calibrateCommand(['--recipe', 'one', '--config', config, '--shots', '1', join(BOTTLE, 'train/good')], one.ctx), 0);
  t.match(one.err(), /warning: one reference/, 'a one-reference recipe is made, with a warning');
});
