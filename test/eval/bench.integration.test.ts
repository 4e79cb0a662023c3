import t from 'tap';
import { matToFrame } from '../../src/capture/image-io.js';
import { loadOpenCv } from '../../src/capture/opencv.js';
import { percentile, runBench, stats } from '../../src/eval/bench.js';
import { Inspector } from '../../src/fewshot/inspector.js';
import { makeRecipe } from '../../src/fewshot/recipe/make-recipe.js';
import { defaultRecipeSettings } from '../../src/fewshot/recipe/settings.js';
import { cpuEngine, simRenders } from '../fewshot/fixtures.js';

t.test('percentile: nearest rank', async (t) => {
  const s = Array.from({ length: 100 }, (_, i) => i + 1);
  t.equal(percentile(s, 50), 50);
  t.equal(percentile(s, 99), 99);
  t.equal(percentile(s, 100), 100);
  t.equal(percentile(s, 0), 1, 'p0 is the minimum');
  t.equal(percentile(s, 99.5), 100);
  t.equal(percentile([1, 2, 3, 4], 50), 2, 'rank ⌈0.5·4⌉ = 2');
  t.equal(percentile([1, 2, 3, 4, 5], 50), 3);
  t.equal(percentile([7], 99), 7);
  t.ok(Number.isNaN(percentile([], 50)), 'empty: NaN');
});

t.test('stats: sorts a copy, p50/p99/mean', async (t) => {
  const v = [5, 1, 4, 2, 3];
  t.same(stats(v), { p50_ms: 3, p99_ms: 5, mean_ms: 3 });
  t.same(v, [5, 1, 4, 2, 3], 'input untouched');
  const many = Array.from({ length: 1000 }, (_, i) => (i === 0 ? 1000 : 1));
  const m = stats(many);
  t.equal(m.p50_ms, 1);
  t.equal(m.p99_ms, 1, 'one outlier in 1000 is above p99');
  t.ok(Math.abs(m.mean_ms - 1.999) < 1e-9);
  t.equal(stats([]).mean_ms, 0);
});

t.test('runBench for ~1 s returns consistent figures', async (t) => {
  const taps = ['block_5_add', 'block_12_add', 'block_15_add'];
  const engine = await cpuEngine(taps);
  t.teardown(() => engine.close());
  const cv = loadOpenCv();
  const renders = await simRenders([1, 2, 3], { width: 320, height: 240, seed: 4 });
  const recipe = await makeRecipe(
    cv, 'bench', engine,
    { images: [renders[0].clean], references: [{ name: 'r', sha256: '0'.repeat(64) }], skipped: [] },
    { ...defaultRecipeSettings(), taps, perturbations: 2, syntheticDefects: 2 },
    1,
  );
  const inspector = await Inspector.open(engine, recipe, { masks: true });
  const frames = renders.map((r, i) => matToFrame(r.clean, { cameraId: 'b', seq: i + 1, capturedAt: i, origin: `sim:${i}` }));
  const started = performance.now();
  const progress: number[] = [];
  const r = await runBench(engine, inspector, frames, { seconds: 1, warmup: 2, progress: (n) => progress.push(n) });
  const wall = (performance.now() - started) / 1000;
  t.ok(wall >= 1 && wall < 20, `took ${wall.toFixed(1)} s (1 s of inspections and bare encoder runs, interleaved)`);
  t.ok(r.inspections >= 5, `${r.inspections} inspections`);
  // The rate counts inspection time only: the bare runs share the ~1 s window.
  const inspecting = r.inspections / r.inspections_per_s;
  t.ok(inspecting > 0.1 && inspecting <= 1.5, `${r.inspections_per_s.toFixed(1)}/s: ${inspecting.toFixed(2)} s of the ~1 s spent inspecting`);
  t.ok(r.bare_encoder.runs_per_s > 0 && Number.isFinite(r.overhead_ratio), 'bare runs measured in the same window');
  t.ok(r.p50_ms > 0 && r.p50_ms <= r.p99_ms, `p50 ${r.p50_ms.toFixed(1)} ≤ p99 ${r.p99_ms.toFixed(1)} ms`);
  t.ok(1000 / r.inspections_per_s + 1e-6 >= r.stages.total.mean_ms, 'one inspection at a time: the time per inspection covers its stage total');
  t.comment(`stages (mean ms): ${Object.entries(r.stages).map(([k, s]) => `${k} ${s.mean_ms.toFixed(2)}`).join(', ')}`);
  for (const [k, s] of Object.entries(r.stages)) t.ok(s.p50_ms >= 0 && s.p50_ms <= s.p99_ms && s.mean_ms >= 0, `${k}: p50 ${s.p50_ms.toFixed(2)} ≤ p99 ${s.p99_ms.toFixed(2)}`);
  t.ok(r.stages.total.p50_ms <= r.p50_ms + 1e-9, 'stage total within the wall time');
  t.ok(r.stages.total.mean_ms + 1e-6 >= r.stages.encoder.mean_ms + r.stages.map.mean_ms, 'total covers encoder + map');
  t.ok(r.bare_encoder.mean_ms > 0 && Math.abs(r.bare_encoder.runs_per_s - 1000 / r.bare_encoder.mean_ms) < 1e-9, `bare encoder ${r.bare_encoder.mean_ms.toFixed(2)} ms`);
  t.ok(r.overhead_ratio > 1, `overhead ratio ${r.overhead_ratio.toFixed(2)} > 1 (the pipeline adds the map, resize and judge)`);
  t.ok(r.overhead_ratio * r.bare_encoder.mean_ms + 1e-6 >= r.stages.total.mean_ms, 'ratio × bare mean = wall mean ≥ stage total mean');
  t.ok(r.overhead_ratio * r.bare_encoder.mean_ms <= 1000 / r.inspections_per_s + 1e-6, 'wall mean ≤ time per inspection');
  t.equal(r.provider, 'cpu');
  t.same(r.input, recipe.settings.input);
  t.same(r.input, { width: 256, height: 192 });
  t.same(progress, Array.from({ length: Math.floor(r.inspections / 50) }, (_, i) => 50 * (i + 1)), 'progress every 50 inspections');
});
