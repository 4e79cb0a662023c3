import t from 'tap';
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { calibrateCommand } from '../../src/cli/calibrate-command.js';
import { exitCodeFor } from '../../src/cli/cli-context.js';
import { inspectCommand } from '../../src/cli/inspect-command.js';
import { loadOpenCv } from '../../src/capture/opencv.js';
import { loadRecipe } from '../../src/fewshot/recipe/recipe.js';
import { writeSimImages } from '../pipeline/helpers.js';
import { captureIO, writeTestConfig } from './cli-helpers.js';

const CAL_BASE = 2_000_000_000;

t.test('calibrate → inspect round trip through the CLI commands', async (t) => {
  const dir = t.testdir();
  const config = await writeTestConfig(dir);
  const refs = join(dir, 'refs');
  mkdirSync(refs);
  // img1..img6: clean renders of the simulated part; img0 (zero bytes) and img2-broken
  // (truncated PNG) are among the first 7 in natural order and must be skipped.
  const clean = await writeSimImages(refs, [1, 2, 3, 4, 5, 6].map((i) => CAL_BASE + i), { clean: true, prefix: 'tmp' });
  clean.forEach((c, i) => renameSync(c.path, join(refs, `img${i + 1}.png`)));
  writeFileSync(join(refs, 'img0.png'), '');
  const png = readFileSync(join(refs, 'img1.png'));
  writeFileSync(join(refs, 'img2-broken.png'), png.subarray(0, png.length >> 1));

  const cal = captureIO();
  const code = await calibrateCommand(['--recipe', 'sim-part', '--config', config, '--shots', '7', refs], cal.ctx);
  t.equal(code, 0);
  const summary = cal.lines();
  t.equal(summary.length, 1, 'one JSON summary on stdout');
  t.match(summary[0], { id: 'sim-part', version: /^[0-9a-f]{12}$/, references: 5, threshold: Number, bundle: { id: 'mobilenetv2-nsfwjs' } });
  t.same(summary[0].skipped.map((s: { path: string; code: string }) => [s.path.split('/').pop(), s.code]), [['img0.png', 'E_IMAGE_EMPTY'], ['img2-broken.png', 'E_IMAGE_UNDECODABLE']]);
  t.match(cal.err(), /calibrate sim-part: 7 of 8 images/);
  t.match(cal.err(), /skipped .*img0\.png: E_IMAGE_EMPTY/);
  t.match(cal.err(), /encode references 5\/10/, 'progress on stderr');
  t.equal(summary[0].path, join(dir, 'state', 'recipes', 'sim-part'), 'written to the config\'s recipes directory');
  const recipe = await loadRecipe(join(dir, 'state', 'recipes'), 'sim-part');
  t.same(recipe.references.map((r) => r.name), ['img1.png', 'img2.png', 'img3.png', 'img4.png', 'img5.png']);

  // Inspect: a good part, a defect, and three bad inputs.
  const inputs = join(dir, 'inputs');
  mkdirSync(inputs);
  const good = (await writeSimImages(inputs, [CAL_BASE + 100], { clean: true, prefix: 'good' }))[0];
  let defectFrame = 0;
  for (let n = 1; defectFrame === 0; n++) {
    const [r] = await writeSimImages(inputs, [n], { defectRate: 1, prefix: 'defect' });
    if (r.label === 'defect') defectFrame = n;
  }
  const defect = join(inputs, `defect${defectFrame}.png`);
  writeFileSync(join(inputs, 'empty.png'), '');
  writeFileSync(join(inputs, 'notes.png'), 'this is not an image\n');
  writeFileSync(join(inputs, 'cut.png'), png.subarray(0, 200));
  mkdirSync(join(inputs, 'other'));
  copyFileSync(good.path, join(inputs, 'other', `good${CAL_BASE + 100}.png`));

  const out = join(dir, 'out');
  const ins = captureIO(inputs);
  const args = ['--recipe', 'sim-part', '--config', config, '--out', out, good.path, defect, 'empty.png', 'notes.png', 'cut.png', `other/good${CAL_BASE + 100}.png`];
  t.equal(await inspectCommand(args, ins.ctx), 65, 'some inputs were bad');
  const lines = ins.lines();
  t.equal(lines.length, 6, 'one line per input, in order');
  const [g, d, empty, notes, cut, dup] = lines;
  t.match(g, { path: good.path, pass: Boolean, score: Number, threshold: recipe.boundary.threshold, recipe: { id: 'sim-part', version: recipe.version }, overlay: join(out, `good${CAL_BASE + 100}.overlay.png`) });
  t.notOk('maskPng' in g, 'no mask bytes in the JSON');
  t.comment(`good part: pass=${g.pass} score=${g.score.toFixed(4)}; defect: pass=${d.pass} score=${d.score.toFixed(4)}; threshold ${recipe.boundary.threshold.toFixed(4)}`);
  t.equal(g.pass, true, 'the clean part passes');
  t.equal(d.pass, false, 'the simulated defect fails');
  t.ok(d.locations.length > 0, 'with a location');
  t.equal(d.mask, join(out, `defect${defectFrame}.mask.png`));
  t.ok(existsSync(d.mask), 'mask PNG written for the fail');
  t.equal(g.mask, null);
  t.match(empty, { path: 'empty.png', error: { code: 'E_IMAGE_EMPTY' } });
  t.match(notes, { path: 'notes.png', error: { code: 'E_IMAGE_UNDECODABLE' } });
  t.match(cut, { path: 'cut.png', error: { code: 'E_IMAGE_UNDECODABLE', message: /truncated/ } });
  t.equal(dup.overlay, join(out, `good${CAL_BASE + 100}-2.overlay.png`), 'same file name from another folder gets its own overlay');
  t.equal(dup.score, g.score, 'same image, same score');
  const cv = loadOpenCv();
  const overlay = cv.imread(g.overlay);
  t.same([overlay.cols, overlay.rows, overlay.channels], [320, 240, 3], 'overlay at frame size');
  const mask = cv.imread(d.mask, cv.IMREAD_GRAYSCALE);
  t.ok(mask.cols === 320 && mask.countNonZero() > 0, 'mask marks the defect');
  t.match(ins.err(), /3 of 6 inputs could not be inspected/);

  // All inputs fine → exit 0; --out defaults to the working directory; --recipes overrides.
  const cwd = join(dir, 'cwd');
  mkdirSync(cwd);
  const ok = captureIO(cwd);
  t.equal(await inspectCommand(['--recipe', 'sim-part', '--config', config, '--recipes', join(dir, 'state', 'recipes'), good.path], ok.ctx), 0);
  t.ok(existsSync(join(cwd, `good${CAL_BASE + 100}.overlay.png`)));
});

t.test('calibrate and inspect refuse bad input with named errors', async (t) => {
  const dir = t.testdir();
  const config = await writeTestConfig(dir);
  mkdirSync(join(dir, 'empty'));
  writeFileSync(join(dir, 'empty', 'readme.txt'), 'no images here');
  const io = captureIO();
  const noRefs = await calibrateCommand(['--recipe', 'part', '--config', config, join(dir, 'empty')], io.ctx).catch((e: unknown) => e);
  t.match(noRefs, { code: 'E_RECIPE_NO_REFERENCES', message: /no usable reference images/ });
  t.equal(exitCodeFor(noRefs), 65);
  await t.rejects(calibrateCommand(['--recipe', 'part', '--config', config, join(dir, 'missing')], io.ctx), { code: 'E_RECIPE_NO_REFERENCES', message: /cannot list/ });
  await t.rejects(calibrateCommand([join(dir, 'empty')], io.ctx), { code: 'E_USAGE', message: /--recipe R is required/ });
  await t.rejects(calibrateCommand(['--recipe', 'Bad Id', join(dir, 'empty')], io.ctx), { code: 'E_USAGE' });
  await t.rejects(calibrateCommand(['--recipe', 'part', '--shots', '0', join(dir, 'empty')], io.ctx), { code: 'E_USAGE', message: /--shots/ });
  await t.rejects(inspectCommand(['--recipe', 'nope', '--config', config, 'x.png'], io.ctx), { code: 'E_RECIPE_NOT_FOUND' });
  await t.rejects(inspectCommand(['--recipe', 'nope'], io.ctx), { code: 'E_USAGE', message: /at least one IMAGE/ });
  const help = captureIO();
  t.equal(await calibrateCommand(['--help'], help.ctx), 0);
  t.equal(await inspectCommand(['-h'], help.ctx), 0);
  t.match(help.out(), /usage: anomalygpt-edge calibrate[\s\S]*usage: anomalygpt-edge inspect/);
});
