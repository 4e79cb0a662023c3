import t from 'tap';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ErrorCodes } from '../../../src/errors.js';
import type { BankTap } from '../../../src/fewshot/memory-bank.js';
import { RECIPE_SCHEMA, loadRecipe, recipeVersion, saveRecipe, type Recipe } from '../../../src/fewshot/recipe/recipe.js';
import { defaultRecipeSettings } from '../../../src/fewshot/recipe/settings.js';
import { rng } from '../fixtures.js';

function bankTap(name: string, channels: number, count: number, seed: number): BankTap {
  const r = rng(seed);
  // Awkward float values (subnormal, negative zero, NaN payload-free extremes) must survive bit for bit.
  const vectors = Float32Array.from({ length: channels * count }, () => (r() - 0.5) * 1e3);
  vectors[0] = -0;
  vectors[1] = 1.4e-45;
  vectors[2] = 3.4028234663852886e38;
  return { name, output: `tap_${name}`, channels, height: 2, width: count / 2, count, vectors };
}

function recipe(id = 'part-a', seed = 1): Recipe {
  const bank = [bankTap('block_5_add', 32, 10, seed), bankTap('block_12_add', 96, 6, seed + 1)];
  const boundary = { threshold: 0.3, scale: 0.05, rule: 'held-out + 0.25·(synthetic − normal)', normalLevel: 0.25, defectLevel: 0.45 };
  const { input: _i, ...rest } = defaultRecipeSettings();
  return {
    id,
    version: recipeVersion(bank, boundary),
    createdAt: '2026-01-02T03:04:05.000Z',
    bundle: { id: 'mobilenetv2-nsfwjs', version: '4.4.0+abc' },
    settings: { ...rest, input: { width: 224, height: 224 }, seed: 3 },
    references: [{ name: 'a.png', sha256: 'ab'.repeat(32) }],
    map: { width: 28, height: 28, smoothSigma: 0, pool: 1 },
    boundary,
    calibration: { heldOut: [0.1, 0.2], perturbed: [0.15], synthetic: [0.5, 0.4] },
    bank,
  };
}

const bytes = (v: Float32Array) => Buffer.from(v.buffer, v.byteOffset, v.byteLength);

t.test('save → load round trip: the bank bit-identical, everything else equal', async (t) => {
  const dir = t.testdir();
  const r = recipe();
  const folder = await saveRecipe(dir, r);
  t.equal(folder, join(dir, 'part-a'));
  t.same(readdirSync(folder).sort(), ['bank.bin', 'recipe.json']);
  t.same(readdirSync(dir), ['part-a'], 'no temporary folders left behind');
  const json = JSON.parse(readFileSync(join(folder, 'recipe.json'), 'utf8'));
  t.equal(json.schema, RECIPE_SCHEMA);
  t.notOk('vectors' in json.bank.taps[0], 'vectors live in bank.bin only');

  const back = await loadRecipe(dir, 'part-a');
  t.equal(back.bank.length, 2);
  for (let i = 0; i < 2; i++) {
    t.ok(bytes(back.bank[i].vectors).equals(bytes(r.bank[i].vectors)), `tap ${i}: bank bytes identical`);
    t.ok(Object.is(back.bank[0].vectors[0], -0), 'negative zero kept');
    const { vectors: _a, ...metaBack } = back.bank[i];
    const { vectors: _b, ...metaOrig } = r.bank[i];
    t.same(metaBack, metaOrig, `tap ${i}: metadata`);
  }
  const { bank: _x, ...restBack } = back;
  const { bank: _y, ...restOrig } = r;
  t.same(restBack, restOrig, 'the rest of the recipe');
  t.equal(recipeVersion(back.bank, back.boundary), r.version, 'version recomputes from the loaded bank');
});

t.test('save replaces an existing recipe atomically', async (t) => {
  const dir = t.testdir();
  await saveRecipe(dir, recipe('part-a', 1));
  const second = recipe('part-a', 99);
  await saveRecipe(dir, second);
  const back = await loadRecipe(dir, 'part-a');
  t.equal(back.version, second.version);
  t.ok(bytes(back.bank[0].vectors).equals(bytes(second.bank[0].vectors)));
  t.same(readdirSync(dir), ['part-a'], 'old and temporary folders removed');
});

t.test('a flipped byte in bank.bin → E_RECIPE_INVALID', async (t) => {
  const dir = t.testdir();
  await saveRecipe(dir, recipe());
  const bin = join(dir, 'part-a', 'bank.bin');
  const raw = readFileSync(bin);
  raw[123] ^= 0x10;
  writeFileSync(bin, raw);
  await t.rejects(loadRecipe(dir, 'part-a'), { code: ErrorCodes.RECIPE_INVALID, message: /sha256/ });
});

t.test('bank.bin and its manifest disagreeing in size → E_RECIPE_INVALID', async (t) => {
  for (const delta of [-1, 1]) {
    const dir = t.testdir();
    await saveRecipe(dir, recipe());
    const path = join(dir, 'part-a', 'recipe.json');
    const json = JSON.parse(readFileSync(path, 'utf8'));
    json.bank.taps[1].count += delta; // the checksum still matches the file
    writeFileSync(path, JSON.stringify(json));
    await t.rejects(loadRecipe(dir, 'part-a'), { code: ErrorCodes.RECIPE_INVALID, message: delta > 0 ? /shorter/ : /longer/ });
  }
});

t.test('missing recipe → E_RECIPE_NOT_FOUND; not a recipe → E_RECIPE_INVALID', async (t) => {
  const dir = t.testdir({ other: { 'recipe.json': JSON.stringify({ schema: 'something-else' }) } });
  await t.rejects(loadRecipe(dir, 'nope'), { code: ErrorCodes.RECIPE_NOT_FOUND, message: /calibrate --recipe nope/ });
  await t.rejects(loadRecipe(dir, 'other'), { code: ErrorCodes.RECIPE_INVALID });
  await saveRecipe(dir, recipe('part-c'));
  writeFileSync(join(dir, 'part-c', 'bank.bin'), Buffer.alloc(0));
  await t.rejects(loadRecipe(dir, 'part-c'), { code: ErrorCodes.RECIPE_INVALID }, 'empty bank file');
});

t.test('invalid ids are rejected on save and on load', async (t) => {
  const dir = t.testdir();
  for (const id of ['Part A', '../escape', '', '-lead', 'a/b']) {
    await t.rejects(saveRecipe(dir, recipe(id)), { code: ErrorCodes.RECIPE_INVALID }, `save "${id}"`);
    await t.rejects(loadRecipe(dir, id), { code: ErrorCodes.RECIPE_INVALID }, `load "${id}"`);
  }
  t.same(readdirSync(dir), [], 'nothing written');
});
