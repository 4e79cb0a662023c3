// One stress workload for tools/stress/gc-stress.mjs: churns @u4/opencv4nodejs the way the
// product does (src/capture/image-io.ts, src/inference/encoder.ts, src/eval/evaluate.ts) —
// imread/imdecode (sync and Async, large images), resize, cvtColor, getRegion().copy(),
// blobFromImage, getData, Mats over Node Buffers, imencode — and leaves every Mat to the
// garbage collector, as the product does. Ends with a natural exit (no process.exit), so the
// isolate teardown with live Mats is exercised too.
//
//   node [--max-semi-space-size=1] tools/stress/opencv-churn.mjs --images DIR [--seconds S]
//   node tools/stress/opencv-churn.mjs --make-images DIR     large JPEG/PNG test images
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    images: { type: 'string' },
    seconds: { type: 'string', default: '20' },
    'make-images': { type: 'string' },
  },
});

// Loaded as src/capture/opencv.ts loads it (STACK-NOTES: createRequire, auto-build off, silenced).
process.env.OPENCV4NODEJS_DISABLE_AUTOBUILD = '1';
const require = createRequire(import.meta.url);
require('@u4/opencv-build').Log.silence = true;
const cv = require('@u4/opencv4nodejs');

/** Smooth random texture, so JPEG/PNG decoding does real work (a flat image decodes in no time). */
function texture(rows, cols, seed) {
  const small = Buffer.alloc((rows >> 4) * (cols >> 4) * 3);
  let s = seed >>> 0;
  for (let i = 0; i < small.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    small[i] = s >>> 24;
  }
  return new cv.Mat(rows >> 4, cols >> 4, cv.CV_8UC3, small).resize(rows, cols, 0, 0, cv.INTER_CUBIC);
}

if (values['make-images']) {
  const dir = values['make-images'];
  mkdirSync(dir, { recursive: true });
  // Sizes of industrial area-scan cameras (12 MP, 24 MP), one grey, one PNG.
  cv.imwrite(join(dir, 'a-4000x3000.jpg'), texture(3000, 4000, 1), [cv.IMWRITE_JPEG_QUALITY, 92]);
  cv.imwrite(join(dir, 'b-6000x4000.jpg'), texture(4000, 6000, 2), [cv.IMWRITE_JPEG_QUALITY, 92]);
  cv.imwrite(join(dir, 'c-4000x3000-grey.png'), texture(3000, 4000, 3).cvtColor(cv.COLOR_BGR2GRAY));
  cv.imwrite(join(dir, 'd-2448x2048.png'), texture(2048, 2448, 4));
  process.exit(0);
}

if (!values.images) throw new Error('usage: opencv-churn.mjs --images DIR [--seconds S] | --make-images DIR');
const files = readdirSync(values.images)
  .filter((f) => /\.(png|jpe?g)$/i.test(f))
  .sort()
  .map((f) => join(values.images, f));
if (files.length === 0) throw new Error(`no images in ${values.images}`);
const bytes = files.map((f) => readFileSync(f));
const deadline = Date.now() + Number(values.seconds) * 1000;

/** One frame through the product's path: decode off-thread, crop, resize, blob, read back. */
async function frame(i) {
  const mat = await cv.imdecodeAsync(bytes[i % bytes.length], cv.IMREAD_ANYCOLOR);
  const bgr = mat.channels === 1 ? await mat.cvtColorAsync(cv.COLOR_GRAY2BGR) : mat;
  const crop = bgr.getRegion(new cv.Rect(16, 16, bgr.cols - 32, bgr.rows - 32)).copy();
  const small = await crop.resizeAsync(224, 224, 0, 0, cv.INTER_AREA);
  const blob = cv.blobFromImage(small, 1 / 255, new cv.Size(224, 224), new cv.Vec3(0, 0, 0), true, false);
  blob.flattenFloat(1, 3 * 224 * 224).getData();
  const pixels = small.getData();
  // A Mat over a Node Buffer (src/capture/image-io.ts frameToMat), and results made from it.
  const view = new cv.Mat(224, 224, cv.CV_8UC3, pixels);
  const mask = view.cvtColor(cv.COLOR_BGR2GRAY).resize(bgr.rows >> 2, bgr.cols >> 2, 0, 0, cv.INTER_LINEAR);
  await cv.imencodeAsync('.png', mask);
  return cv.imencode('.jpg', small).length;
}

let frames = 0;
let loops = 0;
while (Date.now() < deadline) {
  // Four frames in flight, like several cameras (or eval's parallel decoding).
  await Promise.all([0, 1, 2, 3].map((k) => frame(loops * 4 + k)));
  frames += 4;
  // Synchronous paths and short-lived Mats of many sizes, all left to the GC.
  const big = cv.imread(files[loops % files.length], cv.IMREAD_COLOR);
  big.resize(big.rows >> 3, big.cols >> 3);
  for (let k = 0; k < 40; k++) new cv.Mat(64 + k, 64 + k, cv.CV_32FC1, k).convertTo(cv.CV_8U);
  new cv.Mat(1500, 2000, cv.CV_8UC3, [loops & 255, 0, 0]);
  loops++;
}
process.stdout.write(`opencv-churn: ${frames} frames, ${loops} loops\n`);
