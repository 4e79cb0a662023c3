/**
 * The two anomaly maps of AnomalyGPT as ONNX graphs over the encoder's `taps` [4,1,P,W]
 * (ViT token layout, CLS dropped, SPEC §2), each giving `anomaly_map` [1,1,S,S].
 *
 * Unsupervised (SPEC §3), per tap l: F = taps_l·W_lᵀ + b_l; F̂ = F/‖F‖; the seed's logits are
 * z_c = T·⟨F̂, t_c⟩ (T = 100), upsampled bilinearly (align_corners) and soft-maxed over
 * c ∈ {normal, abnormal}. softmax([z_n, z_a])_a = σ(z_a − z_n) and bilinear resizing is linear,
 * so σ(Up(z_a − z_n)) = softmax(Up(z))_a exactly: one matmul with T·(t_a − t_n) and one resize
 * per layer instead of two. The 4 layers run as one batched MatMul; the mean is in
 * probability space (after the sigmoid), as the seed fuses.
 *
 * Few-shot (SPEC §4): raw taps (no decoder, no pre-normalisation); s_l[p] = max_j cos(Q_l[p], N_l[j])
 * against the per-layer memory bank; S = mean_l s_l at 16×16; map = 1 − Up(S). Same maths as
 * the default bundle's scorer (src/fewshot/scorer-graph.ts: bank as a constant, normalise
 * after the max) but that graph takes CNN taps in NCHW, one input per tap; here the 4 ViT taps
 * arrive stacked in token layout, so the bank is one [4, W, N] constant and the search one
 * batched MatMul. The mean over layers happens before the resize, as the seed does (equal
 * either way: resize is linear).
 */
import { GraphBuilder } from '../inference/onnx-graph.js';

export const TAPS_INPUT = 'taps';
export const MAP_OUTPUT = 'anomaly_map';
const TAP_COUNT = 4;

export interface MapGeometry {
  /** Patch grid side (16) and map side (224). */
  readonly grid: number;
  readonly size: number;
  /** Tap width W. */
  readonly width: number;
}

export interface DecoderWeights {
  /** [4, E, W] row-major, PyTorch nn.Linear layout (out, in). */
  readonly weight: Float32Array;
  /** [4, E] */
  readonly bias: Float32Array;
  readonly embedDim: number;
}

/** The unsupervised map graph for one class: `normal`, `abnormal` are its unit prototypes [E]. */
export function buildUnsupervisedMapGraph(
  geo: MapGeometry,
  dec: DecoderWeights,
  normal: Float32Array,
  abnormal: Float32Array,
  temperature: number,
): Uint8Array {
  const { grid, size, width: W } = geo;
  const E = dec.embedDim;
  const P = grid * grid;
  const g = new GraphBuilder('anomalygpt_unsupervised_map');
  const taps = g.input(TAPS_INPUT, [TAP_COUNT, 1, P, W]);
  // [4,1,P,W] → [4,P,W] · [4,W,E] + [4,1,E]
  const x = g.op('Reshape', [taps, g.ints([TAP_COUNT, P, W])]);
  const wT = new Float32Array(TAP_COUNT * W * E);
  for (let l = 0; l < TAP_COUNT; l++) {
    for (let o = 0; o < E; o++) for (let i = 0; i < W; i++) wT[(l * W + i) * E + o] = dec.weight[(l * E + o) * W + i];
  }
  const f = g.op('Add', [g.op('MatMul', [x, g.floats(wT, [TAP_COUNT, W, E], 'decoder_wT')]), g.floats(dec.bias, [TAP_COUNT, 1, E], 'decoder_b')]);
  // The seed divides by the norm with no epsilon (F / F.norm(dim=-1, keepdim=True)).
  const fHat = g.op('Div', [f, g.op('ReduceL2', [f], { axes: [-1], keepdims: 1 })]);
  const diff = new Float32Array(E);
  for (let i = 0; i < E; i++) diff[i] = temperature * (abnormal[i] - normal[i]);
  const logit = g.op('MatMul', [fHat, g.floats(diff, [E, 1], 'prototype_diff')]); // [4,P,1]
  const small = g.op('Reshape', [logit, g.ints([TAP_COUNT, 1, grid, grid])]);
  const up = g.op('Resize', [small, '', '', g.ints([TAP_COUNT, 1, size, size])], { mode: 'linear', coordinate_transformation_mode: 'align_corners' });
  g.op('ReduceMean', [g.op('Sigmoid', [up])], { axes: [0], keepdims: 1 }, MAP_OUTPUT);
  g.output(MAP_OUTPUT, [1, 1, size, size]);
  return g.toBytes();
}

/**
 * Memory bank for the few-shot graph from the taps of k normal images: per layer, every patch
 * of every image (layers never mixed, no coreset; SPEC §4 / §10.13), unit-normalised and
 * transposed to [4, W, k·P].
 */
export function fewShotBank(references: readonly Float32Array[], geo: MapGeometry): { bankT: Float32Array; count: number } {
  const { width: W } = geo;
  const P = geo.grid * geo.grid;
  const N = references.length * P;
  const bankT = new Float32Array(TAP_COUNT * W * N);
  references.forEach((taps, r) => {
    if (taps.length !== TAP_COUNT * P * W) throw new RangeError(`reference ${r}: ${taps.length} floats, expected 4×${P}×${W}`);
    for (let l = 0; l < TAP_COUNT; l++) {
      for (let p = 0; p < P; p++) {
        const row = taps.subarray((l * P + p) * W, (l * P + p + 1) * W);
        let n = 0;
        for (let i = 0; i < W; i++) n += row[i] * row[i];
        // torch cosine_similarity clamps the norm product at eps = 1e-8.
        const inv = 1 / Math.max(Math.sqrt(n), 1e-8);
        const j = r * P + p;
        for (let i = 0; i < W; i++) bankT[(l * W + i) * N + j] = row[i] * inv;
      }
    }
  });
  return { bankT, count: N };
}

export function buildFewShotMapGraph(geo: MapGeometry, bank: { bankT: Float32Array; count: number }): Uint8Array {
  const { grid, size, width: W } = geo;
  const P = grid * grid;
  const g = new GraphBuilder('anomalygpt_fewshot_map');
  const taps = g.input(TAPS_INPUT, [TAP_COUNT, 1, P, W]);
  const q = g.op('Reshape', [taps, g.ints([TAP_COUNT, P, W])]);
  const best = g.op('ReduceMax', [g.op('MatMul', [q, g.floats(bank.bankT, [TAP_COUNT, W, bank.count], 'bank_T')])], { axes: [2], keepdims: 1 });
  const norm = g.op('Max', [g.op('ReduceL2', [q], { axes: [2], keepdims: 1 }), g.floats(Float32Array.of(1e-8), [1], 'eps')]);
  const sim = g.op('ReduceMean', [g.op('Div', [best, norm])], { axes: [0], keepdims: 0 }); // [P,1]
  const small = g.op('Reshape', [sim, g.ints([1, 1, grid, grid])]);
  const up = g.op('Resize', [small, '', '', g.ints([1, 1, size, size])], { mode: 'linear', coordinate_transformation_mode: 'align_corners' });
  g.op('Sub', [g.floats(Float32Array.of(1), [1], 'one'), up], {}, MAP_OUTPUT);
  g.output(MAP_OUTPUT, [1, 1, size, size]);
  return g.toBytes();
}
