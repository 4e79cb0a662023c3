import t from 'tap';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadOpenCv } from '../../src/capture/opencv.js';
import { ErrorCodes } from '../../src/errors.js';
import { drawReferences, loadCategory, loadDataset } from '../../src/eval/dataset.js';
import '../fewshot/fixtures.js';

const cv = loadOpenCv();
const PNG = cv.imencode('.png', new cv.Mat(16, 16, cv.CV_8UC3, [40, 80, 120]));

function files(dir: string, names: string[]): void {
  mkdirSync(dir, { recursive: true });
  for (const n of names) writeFileSync(join(dir, n), PNG);
}

/** catA: masks for some defects; catB: no ground truth; notes/: not a category. */
function makeDataset(root: string): void {
  files(join(root, 'catA', 'train', 'good'), ['10.png', '2.png', '1.png', 'readme.txt']);
  files(join(root, 'catA', 'test', 'good'), ['000.png', '001.png']);
  files(join(root, 'catA', 'test', 'crack'), ['000.png', '001.png']);
  files(join(root, 'catA', 'test', 'scratch'), ['000.png']);
  files(join(root, 'catA', 'ground_truth', 'crack'), ['000_mask.png']);
  files(join(root, 'catA', 'ground_truth', 'scratch'), ['000_mask.png']);
  files(join(root, 'catB', 'train', 'good'), ['a.png']);
  files(join(root, 'catB', 'test', 'good'), ['a.png']);
  files(join(root, 'catB', 'test', 'bad'), ['b.png']);
  files(join(root, 'notes'), ['x.png']);
}

t.test('loadDataset: a folder of categories', async (t) => {
  const root = t.testdir();
  makeDataset(root);
  const cats = await loadDataset(root);
  t.same(cats.map((c) => c.name), ['catA', 'catB'], 'only folders with train/good, sorted');
  const [a, b] = cats;
  t.same(a.train.map((p) => p.slice(root.length + 1)), ['catA/train/good/1.png', 'catA/train/good/2.png', 'catA/train/good/10.png'], 'images only, natural order');
  t.equal(a.hasMasks, true);
  t.same(
    a.test.map((x) => [x.path.slice(root.length + 1), x.type, x.defective, x.maskPath?.slice(root.length + 1)]),
    [
      ['catA/test/crack/000.png', 'crack', true, 'catA/ground_truth/crack/000_mask.png'],
      ['catA/test/crack/001.png', 'crack', true, undefined],
      ['catA/test/good/000.png', 'good', false, undefined],
      ['catA/test/good/001.png', 'good', false, undefined],
      ['catA/test/scratch/000.png', 'scratch', true, 'catA/ground_truth/scratch/000_mask.png'],
    ],
  );
  t.equal(b.hasMasks, false, 'no ground_truth folder: no masks');
  t.same(b.test.map((x) => x.defective), [true, false]);
});

t.test('loadDataset: a single category folder', async (t) => {
  const root = t.testdir();
  makeDataset(root);
  const cats = await loadDataset(join(root, 'catA'));
  t.equal(cats.length, 1);
  t.equal(cats[0].name, 'catA');
  t.equal(cats[0].test.length, 5);
});

t.test('layout errors → E_DATASET_LAYOUT', async (t) => {
  await t.rejects(loadDataset(t.testdir()), { code: ErrorCodes.DATASET_LAYOUT }, 'empty folder');
  await t.rejects(loadDataset(join(t.testdir(), 'missing')), { code: ErrorCodes.DATASET_LAYOUT }, 'missing folder');
  const empty = t.testdir();
  mkdirSync(join(empty, 'train', 'good'), { recursive: true });
  files(join(empty, 'test', 'good'), ['a.png']);
  files(join(empty, 'test', 'bad'), ['a.png']);
  await t.rejects(loadDataset(empty), { code: ErrorCodes.DATASET_LAYOUT, message: /no images in train\/good/ }, 'empty train/good');
  const onlyGood = t.testdir();
  files(join(onlyGood, 'train', 'good'), ['a.png']);
  files(join(onlyGood, 'test', 'good'), ['a.png']);
  await t.rejects(loadCategory(onlyGood), { code: ErrorCodes.DATASET_LAYOUT, message: /both good and defective/ }, 'no defective test images');
  const noTest = t.testdir();
  files(join(noTest, 'train', 'good'), ['a.png']);
  await t.rejects(loadCategory(noTest), { code: ErrorCodes.DATASET_LAYOUT }, 'no test folder');
});

t.test('drawReferences: seeded, distinct, from the pool', async (t) => {
  const pool = Array.from({ length: 30 }, (_, i) => `img${i}.png`);
  const a = drawReferences(pool, 5, 3);
  t.equal(a.length, 5);
  t.equal(new Set(a).size, 5, 'distinct');
  t.ok(a.every((p) => pool.includes(p)), 'from the pool');
  t.same(drawReferences(pool, 5, 3), a, 'same seed, same draw');
  const draws = [0, 1, 2, 4, 5].map((s) => drawReferences(pool, 5, s).join());
  t.ok(new Set([...draws, a.join()]).size >= 5, 'other seeds, other draws');
  t.same(drawReferences(pool, 2, 3), a.slice(0, 2), 'a smaller k is a prefix of the same shuffle');
  t.same([...drawReferences(pool, 30, 1)].sort(), [...pool].sort(), 'k = pool size: a permutation');
  t.same(pool[0], 'img0.png', 'the pool is not modified');
  t.throws(() => drawReferences(pool, 31, 1), { code: ErrorCodes.RECIPE_NO_REFERENCES });
});
