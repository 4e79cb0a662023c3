/**
 * check-config checks what `run` would load (bundle sha256, recipes), and the real process
 * exits 78 — not 1 — on an alias bomb and a missing bundle, with `run` and `check-config` alike.
 */
import t from 'tap';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkConfigCommand } from '../../src/cli/check-config-command.js';
import { loadBundle } from '../../src/fewshot/bundle.js';
import type { BankTap } from '../../src/fewshot/memory-bank.js';
import { recipeVersion, saveRecipe, type Recipe } from '../../src/fewshot/recipe/recipe.js';
import { defaultRecipeSettings } from '../../src/fewshot/recipe/settings.js';
import { aliasBomb } from '../support/alias-bomb.js';
import { defaultBundleDir } from '../support/bundle.js';
import { captureIO, cliProcess, daemonEntry } from './cli-helpers.js';

/** A config with a simulated camera and a folder camera (recipe `part`), state in dir/state. */
function writeConfig(dir: string, bundle: string): string {
  const path = join(dir, 'config.yaml');
  writeFileSync(
    path,
    `stateDirectory: state
inference: { bundle: ${JSON.stringify(bundle)}, executionProviders: [cpu] }
cameras:
  - { id: sim1, recipe: sim-part, source: { kind: sim } }
  - { id: line1, recipe: part, source: { kind: folder, path: images } }
`,
  );
  return path;
}

/** A small but complete recipe for the real default bundle (or `change` it). */
async function writeRecipe(dir: string, change: (r: Recipe) => Recipe = (r) => r): Promise<void> {
  const m = (await loadBundle(await defaultBundleDir(), { verify: false })).manifest;
  const tap: BankTap = { name: 'block_5_add', output: 'tap_block_5_add', channels: 32, height: 2, width: 2, count: 4, vectors: new Float32Array(128).fill(0.5) };
  const boundary = { threshold: 0.3, scale: 0.05, rule: 'test', normalLevel: 0.25, defectLevel: 0.45 };
  const { input: _i, ...settings } = defaultRecipeSettings();
  const recipe: Recipe = {
    id: 'part', version: recipeVersion([tap], boundary), createdAt: '2026-01-01T00:00:00.000Z',
    bundle: { id: m.id, version: m.version }, settings: { ...settings, taps: ['block_5_add'], input: { width: 224, height: 224 }, seed: 0 },
    references: [], map: { width: 28, height: 28, smoothSigma: 0, pool: 1 }, boundary,
    calibration: { heldOut: [], perturbed: [], synthetic: [] }, bank: [tap],
  };
  await saveRecipe(join(dir, 'state', 'recipes'), change(recipe));
}

async function check(config: string): Promise<{ code: number; out: string; err: string }> {
  const io = captureIO();
  const code = await checkConfigCommand([config], io.ctx);
  return { code, out: io.out(), err: io.err() };
}

t.test('bundle and recipes that exist and verify: ok; a simulated camera\'s missing recipe is a note', async (t) => {
  const dir = t.testdir();
  const config = writeConfig(dir, await defaultBundleDir());
  await writeRecipe(dir);
  const t0 = performance.now();
  const r = await check(config);
  t.comment(`check-config with the bundle's sha256: ${(performance.now() - t0).toFixed(0)} ms`);
  t.equal(r.code, 0, r.err);
  t.equal(r.out, 'ok\n');
  t.match(r.err, /note: cameras\[0\]\.recipe: recipe sim-part does not exist yet; it will be calibrated from simulated parts at start/);
});

t.test('a missing bundle folder, a corrupt bundle file: exit 78 with the key path and code', async (t) => {
  const dir = t.testdir();
  await writeRecipe(dir);
  const missing = await check(writeConfig(dir, join(dir, 'no-such-bundle')));
  t.equal(missing.code, 78);
  t.match(missing.err, /1 problem\n {2}- inference\.bundle: E_BUNDLE_MISSING_FILE: bundle .*no-such-bundle: cannot read manifest\.json/);
  t.equal(missing.out, '');

  const copy = join(dir, 'bundle');
  cpSync(await defaultBundleDir(), copy, { recursive: true });
  const onnx = join(copy, 'encoder.onnx');
  const bytes = readFileSync(onnx);
  bytes[bytes.length >> 1] ^= 0xff;
  writeFileSync(onnx, bytes);
  const corrupt = await check(writeConfig(dir, copy));
  t.equal(corrupt.code, 78);
  t.match(corrupt.err, /inference\.bundle: E_BUNDLE_CHECKSUM: bundle mobilenetv2-nsfwjs: encoder\.onnx fails its sha256/);
});

t.test('recipes: missing, corrupt, from another bundle version, with a tap the bundle lacks', async (t) => {
  const cases: [string, (dir: string) => Promise<void>, RegExp][] = [
    ['missing', async () => undefined, /cameras\[1\]\.recipe: E_RECIPE_NOT_FOUND: recipe part: cannot read/],
    ['corrupt bank', async (dir) => {
      await writeRecipe(dir);
      writeFileSync(join(dir, 'state', 'recipes', 'part', 'bank.bin'), Buffer.alloc(512, 1));
    }, /cameras\[1\]\.recipe: E_RECIPE_INVALID: recipe part: bank\.bin fails its sha256/],
    ['other bundle', (dir) => writeRecipe(dir, (r) => ({ ...r, bundle: { ...r.bundle, version: '0.0.1' } })), /E_RECIPE_BUNDLE_MISMATCH: recipe part was calibrated with bundle mobilenetv2-nsfwjs@0\.0\.1/],
    ['unknown tap', (dir) => writeRecipe(dir, (r) => ({ ...r, bank: [{ ...r.bank[0], name: 'block_99_add', output: 'tap_block_99_add' }] })), /scores taps block_99_add that bundle mobilenetv2-nsfwjs does not have/],
    ['bad size', (dir) => writeRecipe(dir, (r) => ({ ...r, settings: { ...r.settings, input: { width: 230, height: 224 } } })), /input size 230x224 is not valid/],
  ];
  for (const [name, setup, expected] of cases) {
    const dir = t.testdir();
    await setup(dir);
    const r = await check(writeConfig(dir, await defaultBundleDir()));
    t.equal(r.code, 78, name);
    t.match(r.err, expected, name);
  }
});

t.test('the real process: an alias bomb and a missing bundle exit 78 from run and check-config alike', { skip: daemonEntry() ? false : 'no dist/main.js newer than src/ and no TypeScript loader to start src/main.ts with' }, async (t) => {
  const dir = t.testdir();
  const bomb = join(dir, 'bomb.yaml');
  writeFileSync(bomb, aliasBomb());
  const run = cliProcess(['run', '--config', bomb]);
  t.equal(await run.exited, 78, 'run: alias bomb → 78 (was 1, E_UNEXPECTED)');
  t.match(run.stderr(), /E_CONFIG_INVALID: invalid configuration .*bomb\.yaml \(1 problem\):\n {2}- line 3, column 8: aliases expand/);
  const checkBomb = await check(bomb);
  t.equal(checkBomb.code, 78, 'check-config: alias bomb → 78');
  t.match(checkBomb.err, /line 3, column 8: aliases expand/);

  const noBundle = writeConfig(dir, join(dir, 'missing-bundle'));
  t.equal((await check(noBundle)).code, 78, 'check-config: missing bundle → 78 (said ok before)');
  const runMissing = cliProcess(['run', '--config', noBundle]);
  t.equal(await runMissing.exited, 78, 'run: missing bundle → 78, as check-config says');
  t.match(runMissing.stderr() + runMissing.stdout(), /E_BUNDLE_MISSING_FILE/);
});
