/**
 * `calibrate --rebuild --line DIR` on real parts (../shared/data/mpdd-metal-plate): a recipe
 * from one good plate rejects nearly every other good plate (its boundary cannot know how
 * far plates differ); eight frames the line judged good, added as held-out evidence, move the
 * boundary so good plates pass while defects still fail.
 */
import t from 'tap';
import { copyFileSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { calibrateCommand } from '../../src/cli/calibrate-command.js';
import { inspectCommand } from '../../src/cli/inspect-command.js';
import { loadRecipe } from '../../src/fewshot/recipe/recipe.js';
import { captureIO, writeTestConfig } from './cli-helpers.js';

const PLATE = join(import.meta.dirname, '../../../shared/data/mpdd-metal-plate');

t.test('line frames as held-out evidence fix a one-plate boundary', { skip: existsSync(PLATE) ? false : `no ${PLATE} (../shared beside the repository)` }, async (t) => {
  const dir = t.testdir();
  const config = await writeTestConfig(dir);
  const train = readdirSync(join(PLATE, 'train/good')).sort();
  const one = join(dir, 'one');
  const line = join(dir, 'line');
  mkdirSync(one);
  mkdirSync(line);
  copyFileSync(join(PLATE, 'train/good', train[0]), join(one, train[0]));
  for (const f of train.slice(1, 9)) copyFileSync(join(PLATE, 'train/good', f), join(line, f));
  const goods = readdirSync(join(PLATE, 'test/good')).sort().slice(0, 10).map((f) => join(PLATE, 'test/good', f));
  const defects = readdirSync(join(PLATE, 'test/defect')).sort().slice(0, 10).map((f) => join(PLATE, 'test/defect', f));
  const judge = async (paths: string[]) => {
    const io = captureIO();
    await inspectCommand(['--recipe', 'plate', '--config', config, '--out', join(dir, 'out'), ...paths], io.ctx);
    return io.lines().filter((v) => v.pass).length;
  };

  t.equal(await calibrateCommand(['--recipe', 'plate', '--config', config, one], captureIO().ctx), 0);
  const before = await loadRecipe(join(dir, 'state', 'recipes'), 'plate');
  const goodBefore = await judge(goods);
  t.ok(goodBefore <= 2, `one plate: ${goodBefore} of 10 good plates pass`);

  const io = captureIO();
  t.equal(await calibrateCommand(['--recipe', 'plate', '--config', config, '--rebuild', '--line', line], io.ctx), 0);
  t.match(io.err(), /line: 8 frames as held-out evidence/);
  const after = await loadRecipe(join(dir, 'state', 'recipes'), 'plate');
  t.equal(after.calibration.line, 8, 'the recipe says how much of its evidence came from the line');
  t.equal(after.references.length, 1, 'line frames are evidence, not references');
  t.ok(after.boundary.threshold > before.boundary.threshold, `boundary ${before.boundary.threshold.toFixed(3)} → ${after.boundary.threshold.toFixed(3)}`);
  const goodAfter = await judge(goods);
  const defectsPassing = await judge(defects);
  t.ok(goodAfter >= 8, `with the line's evidence: ${goodAfter} of 10 good plates pass`);
  t.ok(defectsPassing <= 2, `and ${10 - defectsPassing} of 10 defective plates still fail`);

  await t.rejects(calibrateCommand(['--recipe', 'plate', '--config', config, '--line', line, one], captureIO().ctx), { code: 'E_USAGE' });
});
