/**
 * Leave-one-out by masking (LooScorer) against the plain definition: reference i scored
 * against a bank built without it. Real encoder features of simulated parts, real graphs.
 */
import t from 'tap';
import { loadOpenCv } from '../../../src/capture/opencv.js';
import { buildBankTapWithSources } from '../../../src/fewshot/memory-bank.js';
import { LooScorer } from '../../../src/fewshot/loo-scorer.js';
import { encodeReferences, mapSpecFor, scorerFor } from '../../../src/fewshot/recipe/calibrate.js';
import { cpuEngine, simRenders } from '../fixtures.js';

const cv = loadOpenCv();
const TAPS = ['block_5_add', 'block_12_add', 'block_15_add'];

t.test('masked leave-one-out equals scoring against a bank without the reference', async (t) => {
  const engine = await cpuEngine(TAPS);
  t.teardown(() => engine.close());
  const refs = (await simRenders([1, 2, 3], { seed: 9 })).map((r) => r.clean);
  const settings = { input: { width: 224, height: 224 }, bankAugments: [] as const, pool: 1, smoothSigma: 0 };
  const enc = await encodeReferences(cv, refs, engine.encoder, engine.taps, engine.openSession, { ...settings, bankAugments: [] });
  const map = mapSpecFor(engine.taps, settings);
  const bankOf = (keep: number[]) =>
    engine.taps.map((tap, ti) =>
      buildBankTapWithSources(
        { name: tap.name, output: tap.output, channels: tap.channels, ...enc.geometry[ti] },
        keep.map((i) => enc.rows[i][ti][0]),
        keep,
        1e9,
        1,
      ),
    );
  const full = bankOf([0, 1, 2]);
  t.same(full.map((b) => b.tap.count), [3 * 784, 3 * 196, 3 * 49], 'every row, no coreset');
  t.same([...full[2].sources.subarray(45, 52)], [0, 0, 0, 0, 1, 1, 1], 'rows know their reference');
  const loo = await LooScorer.open(full.map((b) => b.tap), full.map((b) => b.sources), map, engine.openSession);
  t.teardown(() => loo.release());
  for (const held of [0, 1, 2]) {
    const rest = [0, 1, 2].filter((i) => i !== held);
    const plain = await scorerFor(bankOf(rest).map((b) => b.tap), map, engine.openSession);
    const expected = await plain.run(enc.features[held]);
    await plain.release();
    const got = await loo.run(enc.features[held], loo.masksFor(held));
    let worst = 0;
    for (let i = 0; i < got.data.length; i++) worst = Math.max(worst, Math.abs(got.data[i] - expected.data[i]));
    t.ok(worst < 1e-5, `reference ${held}: max |masked − rebuilt| = ${worst.toExponential(2)}`);
    const max = Math.max(...got.data);
    t.ok(max > 0.05, `held-out reference is not matched by its own rows (map max ${max.toFixed(3)})`);
  }
  const self = await loo.run(enc.features[1], loo.masksFor(undefined));
  t.ok(Math.max(...self.data) < 1e-4, 'nothing masked: a reference matches itself (map ≈ 0)');
});
