/**
 * The few-shot anomaly map as one ONNX graph (SPEC §4, "a multi-layer-feature PatchCore"):
 * per tap l, s_l[p] = max_j cos(Q_l[p], N_l[j]) against the recipe's memory bank; bilinear
 * align-corners upsampling of each s_l to the map size; mean over taps; map = 1 − mean.
 * The bank is a graph constant, so onnxruntime pre-packs it for its GEMM: the similarity
 * search runs as matrix work, not as JavaScript loops (the naive baseline spent 47 ms there).
 *
 * Departures from the seed, each measured in `eval` (see README):
 *   - taps are the bundle's (MobileNetV2 strides 4..32), not ImageBind's 4 ViT blocks;
 *   - the map is produced at the finest tap's resolution rather than 224×224;
 *   - optional mild Gaussian smoothing (the seed has none, SPEC §4 "Other details").
 */
import { GraphBuilder } from '../inference/onnx-graph.js';

export interface ScorerTap {
  /** Input name (the encoder's output name for this tap). */
  readonly input: string;
  readonly channels: number;
  readonly height: number;
  readonly width: number;
  /** Unit-norm bank vectors, row-major count×channels. */
  readonly bank: Float32Array;
  readonly count: number;
}

export interface ScorerSpec {
  readonly taps: readonly ScorerTap[];
  /** Neighbourhood aggregation window (PatchCore §3.1): 1 = off, 3 = 3×3 mean. */
  readonly pool: number;
  readonly mapWidth: number;
  readonly mapHeight: number;
  /** Gaussian sigma in map pixels; 0 = none. */
  readonly smoothSigma: number;
  /**
   * Calibration variant: one more input per tap, `exclude_<input>` [1, count], added to the
   * similarities before the max. −4 on a reference's own rows (cosines are ≥ −1) scores it
   * against the bank without them: leave-one-out in one GEMM, no rebuilt bank.
   * 'patches': the input is [P, count], one mask per query patch (e.g. a patch's own
   * neighbourhood in its own image, for self-similarity evidence).
   */
  readonly excludable?: boolean | 'patches';
}

export const SCORER_OUTPUT = 'anomaly_map';

export function buildScorerGraph(spec: ScorerSpec): Uint8Array {
  const g = new GraphBuilder('fewshot_scorer');
  const sizes = g.ints([1, 1, spec.mapHeight, spec.mapWidth], 'map_sizes');
  const eps = g.floats(new Float32Array([1e-8]), [1], 'eps');
  const perTap: string[] = [];
  for (const tap of spec.taps) {
    const x = g.input(tap.input, [1, tap.channels, tap.height, tap.width]);
    const bankT = g.floats(transpose(tap.bank, tap.count, tap.channels), [tap.channels, tap.count]);
    const q = patchMatrix(g, x, tap, spec.pool);
    // max_j cos(q, n̂_j) = max_j (q·n̂_j) / ‖q‖: normalise after the max, P values not P×C.
    const qNorm = g.op('ReduceL2', [q], { axes: [1], keepdims: 1 });
    let sims = g.op('MatMul', [q, bankT]);
    if (spec.excludable) {
      // q·n̂_j ≥ −‖q‖, so −4·‖q‖ added to a row puts it below every row that is not excluded.
      const ex = g.input(excludeInput(tap.input), [spec.excludable === 'patches' ? tap.height * tap.width : 1, tap.count]);
      sims = g.op('Add', [sims, g.op('Mul', [ex, qNorm])]);
    }
    const best = g.op('ReduceMax', [sims], { axes: [1], keepdims: 1 });
    const norm = g.op('Max', [qNorm, eps]);
    const sim = g.op('Reshape', [g.op('Div', [best, norm]), g.ints([1, 1, tap.height, tap.width])]);
    perTap.push(
      g.op('Resize', [sim, '', '', sizes], { mode: 'linear', coordinate_transformation_mode: 'align_corners' }),
    );
  }
  const sum = perTap.length === 1 ? perTap[0] : g.op('Sum', perTap);
  const mean = g.op('Mul', [sum, g.floats(new Float32Array([1 / perTap.length]), [1])]);
  let map = g.op('Sub', [g.floats(new Float32Array([1]), [1]), mean]);
  if (spec.smoothSigma > 0) {
    const { kernel, radius } = gaussianKernel(spec.smoothSigma);
    const k = kernel.length;
    // Edge padding, then a valid convolution: zero padding would pull border scores down.
    const padded = g.op('Pad', [map, g.ints([0, 0, radius, radius, 0, 0, radius, radius])], { mode: 'edge' });
    const rows = g.op('Conv', [padded, g.floats(kernel, [1, 1, k, 1])]);
    map = g.op('Conv', [rows, g.floats(kernel, [1, 1, 1, k])]);
  }
  g.op('Identity', [map], {}, SCORER_OUTPUT);
  g.output(SCORER_OUTPUT, [1, 1, spec.mapHeight, spec.mapWidth]);
  return g.toBytes();
}

/**
 * (1,C,h,w) → optional neighbourhood mean → (P,C), patch index p = row·w + col (SPEC §2).
 * The bank is built by the features graph from this same function, so query and bank
 * vectors are computed identically.
 */
function patchMatrix(g: GraphBuilder, x: string, tap: { channels: number; height: number; width: number }, pool: number): string {
  const pooled =
    pool > 1
      ? g.op('AveragePool', [x], { kernel_shape: [pool, pool], strides: [1, 1], pads: Array(4).fill(pool >> 1), count_include_pad: 0 })
      : x;
  return g.op('Transpose', [g.op('Reshape', [pooled, g.ints([tap.channels, tap.height * tap.width])])], { perm: [1, 0] });
}

/** Graph turning encoder taps into unit-norm patch rows (P×C) per tap, for the bank. */
export function buildFeaturesGraph(taps: readonly Omit<ScorerTap, 'bank' | 'count'>[], pool: number): Uint8Array {
  const g = new GraphBuilder('patch_features');
  const eps = g.floats(new Float32Array([1e-8]), [1], 'eps');
  for (const tap of taps) {
    const q = patchMatrix(g, g.input(tap.input, [1, tap.channels, tap.height, tap.width]), tap, pool);
    const norm = g.op('Max', [g.op('ReduceL2', [q], { axes: [1], keepdims: 1 }), eps]);
    g.op('Div', [q, norm], {}, rowsOutput(tap.input));
    g.output(rowsOutput(tap.input), [tap.height * tap.width, tap.channels]);
  }
  return g.toBytes();
}

export const rowsOutput = (input: string) => `rows_${input}`;
export const excludeInput = (input: string) => `exclude_${input}`;

function transpose(src: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) out[c * rows + r] = src[r * cols + c];
  }
  return out;
}

/** Normalised 1-D Gaussian, radius ⌈2σ⌉ (separable: rows then columns). */
export function gaussianKernel(sigma: number): { kernel: Float32Array; radius: number } {
  const radius = Math.max(1, Math.ceil(2 * sigma));
  const kernel = new Float32Array(2 * radius + 1);
  let total = 0;
  for (let i = -radius; i <= radius; i++) {
    const v = Math.exp(-(i * i) / (2 * sigma * sigma));
    kernel[i + radius] = v;
    total += v;
  }
  for (let i = 0; i < kernel.length; i++) kernel[i] /= total;
  return { kernel, radius };
}
