/** Frames far below the model input: refused by the encoder, the Inspector and calibration (E_IMAGE_TOO_SMALL). */
import t from 'tap';
import type { Frame } from '../../src/capture/frame.js';
import { decodeImage, matToFrame } from '../../src/capture/image-io.js';
import { loadOpenCv } from '../../src/capture/opencv.js';
import { ErrorCodes } from '../../src/errors.js';
import { Inspector } from '../../src/fewshot/inspector.js';
import { makeRecipe } from '../../src/fewshot/recipe/make-recipe.js';
import { defaultRecipeSettings } from '../../src/fewshot/recipe/settings.js';
import { realPalettePng } from '../support/image-bytes.js';
import { cpuEngine, simRenders } from './fixtures.js';

const cv = loadOpenCv();
const TAPS = ['block_5_add', 'block_12_add', 'block_15_add'];

function greyFrame(width: number, height: number, origin: string): Frame {
  return { cameraId: 'c', seq: 1, capturedAt: 0, width, height, channels: 1, data: new Uint8Array(width * height).fill(90), origin };
}

t.test('too-small frames are refused before the model runs; the smallest allowed one is inspected', async (t) => {
  const engine = await cpuEngine(TAPS);
  t.teardown(() => engine.close());
  const size = { width: 224, height: 224 };
  // The 1×1 image, as a real decoded PNG.
  const dot = matToFrame(decodeImage(realPalettePng(1, 1), 'dot.png'), { cameraId: 'c', seq: 1, capturedAt: 0, origin: 'dot.png' });
  await t.rejects(engine.encoder.encode(dot, size), { code: ErrorCodes.IMAGE_TOO_SMALL, message: /dot\.png: 1×1 is far smaller than the model input 224×224/ });
  await t.rejects(engine.encoder.encode(greyFrame(27, 200, 'thin'), size), { code: ErrorCodes.IMAGE_TOO_SMALL }, 'one side is enough');
  const ok = await engine.encoder.encode(greyFrame(28, 28, 'min'), size);
  t.same(ok.taps[0].tensor.dims, [1, 32, 28, 28], '28×28 (8× enlargement) is still encoded');
  await t.rejects(engine.encoder.encode(new cv.Mat(10, 10, cv.CV_8UC3, [1, 2, 3]), size), { code: ErrorCodes.IMAGE_TOO_SMALL }, 'a Mat too');

  const [ref, ref2] = await simRenders([1, 2], { seed: 9 });
  const refs = { images: [ref.clean, ref2.clean], references: [{ name: 'r1.png', sha256: '0'.repeat(64) }, { name: 'r2.png', sha256: '1'.repeat(64) }], skipped: [] };
  const settings = { ...defaultRecipeSettings(), taps: TAPS, perturbations: 2, syntheticDefects: 2 };
  const recipe = await makeRecipe(cv, 'part-a', engine, refs, settings, 1);
  const inspector = await Inspector.open(engine, recipe, { masks: true });
  await t.rejects(inspector.inspect(dot), { code: ErrorCodes.IMAGE_TOO_SMALL }, 'the 1×1 image gets an error, not a FAIL verdict');

  const withDot = { ...refs, images: [...refs.images, new cv.Mat(1, 1, cv.CV_8UC3, [0, 0, 0])], references: [...refs.references, { name: 'dot.png', sha256: '2'.repeat(64) }] };
  await t.rejects(makeRecipe(cv, 'part-b', engine, withDot, settings, 1), { code: ErrorCodes.IMAGE_TOO_SMALL, message: /recipe part-b: reference dot\.png: 1×1/ }, 'calibration names the reference');
});
