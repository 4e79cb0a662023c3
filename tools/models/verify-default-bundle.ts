/**
 * Checks a converted encoder against the original: the nsfwjs tfjs layers model run by
 * @tensorflow/tfjs (pure JS, cpu backend; tfjs dequantises its own uint8 weights) and the
 * ONNX graph run by onnxruntime-node, on the same input, compared tap by tap.
 *
 *   node dist-tools/tools/models/verify-default-bundle.js [bundleDir] [--bench]
 *
 * Input: ../shared/data/mvtec-bottle/test/broken_large/000.png through OpenCV when both are
 * present, else a seeded random image. Without an encoder.onnx in bundleDir the default
 * conversion is built in memory.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-node';
import { loadOpenCv } from '../../src/capture/opencv.js';
import { toError } from '../../src/errors.js';
import { DEFAULT_BUNDLE_DIR, nsfwjsModelDir, ONNX_OPSET, repoRoot } from './build-default-bundle.js';
import { convertToOnnx, DEFAULT_TAPS, loadTfjsLayersModel, readTfjsArtifacts, tapOutputName } from './tfjs-to-onnx.js';
import type { KerasTopology } from './tfjs-model.js';

/** One image, NCHW float32 (batch 1), already normalised as the encoder expects. */
export interface NchwInput {
  data: Float32Array;
  width: number;
  height: number;
}

export interface TapComparison {
  tap: string;
  /** NCHW shape of the ONNX output. */
  shape: number[];
  maxAbsError: number;
  meanAbsError: number;
  /** max |tfjs value| on the tap: the scale the error is judged against. */
  refMaxAbs: number;
  /** maxAbsError / refMaxAbs. */
  relError: number;
}

/**
 * The tfjs model cut at the taps, with its input fixed to the given size: the head (Flatten,
 * Dense) cannot be built at other sizes, so it is dropped and `strict: false` lets tfjs skip
 * its weights.
 */
async function tfjsTapModel(modelDir: string, taps: readonly string[], width: number, height: number): Promise<tf.LayersModel> {
  const art = await readTfjsArtifacts(modelDir);
  const topology = structuredClone(art.modelTopology) as KerasTopology;
  const cfg = topology.model_config.config;
  const input = cfg.layers.find((l) => l.class_name === 'InputLayer')!;
  input.config.batch_input_shape = [null, height, width, 3];
  cfg.output_layers = taps.map((t) => [t, 0, 0]);
  const model = await tf.loadLayersModel(
    tf.io.fromMemory({ modelTopology: topology as unknown as tf.io.ModelArtifacts['modelTopology'], weightSpecs: art.weightSpecs as tf.io.WeightsManifestEntry[], weightData: art.weightData }),
    { strict: false },
  );
  return model;
}

/** Runs both models on `input` and compares every tap. */
export async function compareWithTfjs(args: {
  onnxModel: Uint8Array;
  taps: readonly string[];
  input: NchwInput;
  modelDir?: string;
}): Promise<TapComparison[]> {
  const { input, taps } = args;
  const { width: w, height: h } = input;
  // PROD only silences tfjs's "install tfjs-node" banner; tfjs-node is deliberately not used.
  tf.env().set('PROD', true);
  await tf.setBackend('cpu');
  const model = await tfjsTapModel(args.modelDir ?? nsfwjsModelDir(), taps, w, h);
  const nhwc = tf.tidy(() => tf.tensor4d(input.data, [1, 3, h, w]).transpose([0, 2, 3, 1]));
  const predicted = model.predict(nhwc);
  const refs = Array.isArray(predicted) ? predicted : [predicted as tf.Tensor];
  const session = await ort.InferenceSession.create(args.onnxModel, { executionProviders: ['cpu'], intraOpNumThreads: 2 });
  const outs = await session.run({ pixels: new ort.Tensor('float32', input.data, [1, 3, h, w]) });
  const result: TapComparison[] = [];
  for (let k = 0; k < taps.length; k++) {
    const ref = refs[k].dataSync() as Float32Array;
    const [, rh, rw, c] = refs[k].shape as number[];
    const got = outs[tapOutputName(taps[k])];
    const shape = got.dims.map(Number);
    if (shape.join() !== [1, c, rh, rw].join()) throw new Error(`tap ${taps[k]}: onnx shape [${shape}] vs tfjs NHWC [${refs[k].shape}]`);
    const g = got.data as Float32Array;
    let maxAbs = 0;
    let sumAbs = 0;
    let refMax = 0;
    for (let y = 0; y < rh; y++)
      for (let x = 0; x < rw; x++)
        for (let ch = 0; ch < c; ch++) {
          const r = ref[(y * rw + x) * c + ch];
          const d = Math.abs(g[(ch * rh + y) * rw + x] - r);
          if (!(d <= maxAbs)) maxAbs = d; // NaN-propagating max
          sumAbs += d;
          refMax = Math.max(refMax, Math.abs(r));
        }
    result.push({ tap: taps[k], shape, maxAbsError: maxAbs, meanAbsError: sumAbs / ref.length, refMaxAbs: refMax, relError: maxAbs / refMax });
  }
  tf.dispose([nhwc, ...refs]);
  model.dispose();
  await session.release();
  return result;
}

/** Deterministic [0,1) NCHW noise (mulberry32), for when no real image is at hand. */
export function seededInput(width: number, height: number, seed = 1): NchwInput {
  let s = seed >>> 0;
  const data = new Float32Array(3 * width * height);
  for (let i = 0; i < data.length; i++) {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    data[i] = ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  return { data, width, height };
}

/** An image file squashed to width×height, RGB, scaled to [0,1], NCHW (the bundle's input spec). */
export function imageInput(path: string, width: number, height: number): NchwInput {
  try {
    const cv = loadOpenCv();
    const rgb = cv.imread(path, cv.IMREAD_COLOR).resize(height, width, 0, 0, cv.INTER_AREA).cvtColor(cv.COLOR_BGR2RGB);
    const px = rgb.getData();
    const plane = width * height;
    const data = new Float32Array(3 * plane);
    for (let i = 0; i < plane; i++) for (let c = 0; c < 3; c++) data[c * plane + i] = px[i * 3 + c] / 255;
    return { data, width, height };
  } catch (e) {
    throw toError(e);
  }
}

const SAMPLE_IMAGE = join('..', 'shared', 'data', 'mvtec-bottle', 'test', 'broken_large', '000.png');

/** The sample image when it and OpenCV are available, else seeded noise; says which. */
export function sampleInput(width: number, height: number): { input: NchwInput; source: string } {
  const path = resolve(repoRoot(), SAMPLE_IMAGE);
  if (existsSync(path)) {
    try {
      return { input: imageInput(path, width, height), source: path };
    } catch (e) {
      console.error(`cannot decode ${path} (${toError(e).message}); using seeded noise`);
    }
  }
  return { input: seededInput(width, height), source: 'seeded noise (seed 1)' };
}

async function bench(onnxModel: Uint8Array, input: NchwInput, runs = 50): Promise<number> {
  const session = await ort.InferenceSession.create(onnxModel, { executionProviders: ['cpu'], intraOpNumThreads: 2 });
  const feeds = { pixels: new ort.Tensor('float32', input.data, [1, 3, input.height, input.width]) };
  for (let i = 0; i < 5; i++) await session.run(feeds);
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await session.run(feeds);
    times.push(performance.now() - t0);
  }
  await session.release();
  return times.sort((a, b) => a - b)[runs >> 1];
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const dir = resolve(args.find((a) => !a.startsWith('--')) ?? join(repoRoot(), DEFAULT_BUNDLE_DIR));
  let onnxModel: Uint8Array;
  let taps: string[];
  if (existsSync(join(dir, 'manifest.json'))) {
    const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { encoder: { file: string; taps: { name: string }[] } };
    onnxModel = readFileSync(join(dir, manifest.encoder.file));
    taps = manifest.encoder.taps.map((t) => t.name);
    console.log(`bundle ${dir}`);
  } else {
    onnxModel = convertToOnnx(await loadTfjsLayersModel(nsfwjsModelDir()), { taps: DEFAULT_TAPS, opset: ONNX_OPSET });
    taps = [...DEFAULT_TAPS];
    console.log(`no bundle in ${dir}: checking an in-memory conversion`);
  }
  for (const [width, height] of [[224, 224], [448, 192]]) {
    const { input, source } = sampleInput(width, height);
    console.log(`${width}x${height} input: ${source}`);
    for (const r of await compareWithTfjs({ onnxModel, taps, input })) {
      console.log(
        `  ${r.tap.padEnd(20)} [${r.shape.join(',')}] max abs ${r.maxAbsError.toExponential(2)} mean abs ${r.meanAbsError.toExponential(2)} ` +
          `max |ref| ${r.refMaxAbs.toFixed(3)} rel ${r.relError.toExponential(2)}`,
      );
    }
    if (args.includes('--bench')) console.log(`  ort session.run median of 50 (2 threads): ${(await bench(onnxModel, input)).toFixed(2)} ms`);
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((e: unknown) => {
    console.error(toError(e).message);
    process.exitCode = 1;
  });
}
