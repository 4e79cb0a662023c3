import t from 'tap';
import { NATIVE_MAX_PIXELS, autoInputSize, defaultRecipeSettings, nativeInputSize, resolveInputSize } from '../../../src/fewshot/recipe/settings.js';

t.test('autoInputSize', async (t) => {
  t.same(autoInputSize(1101, 448), { width: 448, height: 192 }, 'BSData: wide, long side capped at 448');
  t.same(autoInputSize(448, 448), { width: 224, height: 224 }, 'square: the seed squash');
  t.same(autoInputSize(640, 480), { width: 256, height: 192 }, '4:3: 192·4/3 = 256');
  t.same(autoInputSize(480, 640), { width: 192, height: 256 }, 'portrait keeps its orientation');
  t.same(autoInputSize(1100, 1000), { width: 224, height: 224 }, 'aspect < 1.25 is squashed');
  t.same(autoInputSize(1250, 1000), { width: 256, height: 192 }, 'aspect 1.25: 240 rounds to 256 (nearest multiple of 32)');
  t.same(autoInputSize(4000, 100), { width: 448, height: 192 }, 'extreme aspect still capped');
  t.same(autoInputSize(1920, 1080, 16), { width: 336, height: 192 }, 'other size multiple');
  for (const [w, h] of [[640, 480], [1101, 448], [333, 999], [1920, 1080]]) {
    const s = autoInputSize(w, h);
    t.ok(s.width % 32 === 0 && s.height % 32 === 0, `${w}×${h} → ${s.width}×${s.height}: multiples of 32`);
    t.ok(Math.max(s.width, s.height) <= 448, 'at most 448');
  }
});

t.test('resolveInputSize: auto from the reference, explicit size kept', async (t) => {
  t.same(resolveInputSize('auto', { cols: 640, rows: 480 }), { width: 256, height: 192 });
  t.same(resolveInputSize({ width: 320, height: 320 }, { cols: 640, rows: 480 }), { width: 320, height: 320 });
});

t.test('defaultRecipeSettings: fresh object, auto size, stride 8–32 taps', async (t) => {
  const a = defaultRecipeSettings();
  t.equal(a.input, 'auto');
  t.same(a.taps, ['block_5_add', 'block_12_add', 'block_15_add']);
  t.ok(a.perturbations > 0 && a.syntheticDefects > 0, 'calibration gathers boundary evidence by default');
  t.not(defaultRecipeSettings(), a, 'a new object each call');
});

t.test("nativeInputSize / 'native': the image's own resolution within 512² pixels", async (t) => {
  t.same(nativeInputSize(320, 803), { width: 320, height: 800 }, 'KolektorSDD: native, rounded down to multiples of 32');
  t.same(nativeInputSize(448, 448), { width: 448, height: 448 });
  t.same(nativeInputSize(1101, 448), { width: 800, height: 320 }, 'over the budget: scaled to fit 512² pixels');
  t.same(nativeInputSize(20, 10), { width: 32, height: 32 }, 'never below one multiple');
  const s = nativeInputSize(4000, 3000);
  t.ok(s.width * s.height <= NATIVE_MAX_PIXELS && s.width % 32 === 0 && s.height % 32 === 0, `4000×3000 → ${s.width}×${s.height}`);
  t.same(resolveInputSize('native', { cols: 320, rows: 803 }), { width: 320, height: 800 });
});
