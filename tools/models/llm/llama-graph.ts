/**
 * Builds the Llama decoder as an ONNX graph implementing src/vlm/llm/llm-interface.ts, from weights
 * in llama2.c's layout (LlamaWeights). Per layer, as run.c `forward`:
 *   RMSNorm → q,k,v → RoPE(q,k) → append k,v to the cache → grouped-query attention (scaled by
 *   1/√head_dim, causal ∧ attention_mask) → wo → residual → RMSNorm → w2(silu(w1·x) ⊙ w3·x) →
 *   residual; then the final RMSNorm and the classifier.
 * GQA without copying the cache: q is viewed as [1, kv, group, S, d] and k/v as [1, kv, 1, T, d],
 * so MatMul's broadcasting pairs query head h with kv head h / group (run.c's `h / kv_mul`).
 * Opset 17 (no RMSNormalization / RotaryEmbedding ops yet): everything is spelt with basic ops.
 */
import { GraphBuilder } from '../../../src/inference/onnx-graph.js';
import type { LlamaWeights } from '../../../src/vlm/llm/checkpoint.js';
import {
  INPUT_ATTENTION_MASK,
  INPUT_EMBEDS,
  INPUT_POSITION_IDS,
  OUTPUT_LOGITS,
  configProblems,
  pastKeyName,
  pastValueName,
  presentKeyName,
  presentValueName,
  type RopeLayout,
} from '../../../src/vlm/llm/llm-interface.js';

const S = 'sequence_length';
const P = 'past_sequence_length';
const T = 'total_sequence_length';
/** Masked scores: float32's lowest value, as HF does; exp() of it after max-subtraction is 0. */
const MASKED = -3.4028234663852886e38;
const BOOL = 9; // TensorProto.DataType.BOOL

/** [rows, cols] row-major → [cols, rows], the right operand of MatMul for y = x·Wᵀ. */
export function transpose(w: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = w[r * cols + c];
  return out;
}

/**
 * RoPE tables [contextLength, headDim/2] computed in float32 the way run.c does:
 * freq = 1 / theta^(2i/headDim), angle = pos·freq, then cos / sin.
 */
export function ropeTables(contextLength: number, headDim: number, theta: number): { cos: Float32Array; sin: Float32Array } {
  const half = headDim / 2;
  const cos = new Float32Array(contextLength * half);
  const sin = new Float32Array(contextLength * half);
  const f = Math.fround;
  for (let pos = 0; pos < contextLength; pos++) {
    for (let i = 0; i < half; i++) {
      const freq = f(1 / f(Math.pow(theta, f((2 * i) / headDim))));
      const angle = f(pos * freq);
      cos[pos * half + i] = Math.cos(angle);
      sin[pos * half + i] = Math.sin(angle);
    }
  }
  return { cos, sin };
}

/**
 * Serialised ONNX decoder for `w`. The RoPE layout is `w.config.ropeLayout`: llama2.c weights
 * are `interleaved`; convert them with `toHalfRopeLayout` to get the HF (`half`) layout.
 */
export function buildLlamaGraph(w: LlamaWeights, name = 'llama_decoder'): Uint8Array {
  const c = w.config;
  const problems = configProblems(c);
  if (problems.length > 0) throw new Error(`invalid LLM config: ${problems.join('; ')}`);
  const { hidden: D, heads: H, kvHeads: KV, headDim: hd, intermediate: F, vocabSize: V, layers: L } = c;
  const G = H / KV;
  const qDim = H * hd;
  const kvDim = KV * hd;
  const g = new GraphBuilder(name);

  // Outputs in HF order: logits, then present.{i}.key/value.
  g.output(OUTPUT_LOGITS, [1, S, V]);
  let x = g.input(INPUT_EMBEDS, [1, S, D]);
  const mask = g.input(INPUT_ATTENTION_MASK, [1, T], 'int64');
  const positions = g.input(INPUT_POSITION_IDS, [1, S], 'int64');
  const pastK: string[] = [];
  const pastV: string[] = [];
  for (let i = 0; i < L; i++) {
    pastK.push(g.input(pastKeyName(i), [1, KV, P, hd]));
    pastV.push(g.input(pastValueName(i), [1, KV, P, hd]));
  }

  // allowed[s, t]: key t is visible to the query at absolute position T−S+s and not padding.
  const one = g.int64Scalar(1);
  const totalLen = g.op('Gather', [g.op('Shape', [mask]), one], { axis: 0 });
  const newLen = g.op('Gather', [g.op('Shape', [x]), one], { axis: 0 });
  const keyIdx = g.op('Range', [g.int64Scalar(0), totalLen, one]);
  const queryIdx = g.op('Unsqueeze', [g.op('Range', [g.op('Sub', [totalLen, newLen]), totalLen, one]), g.ints([1])]);
  const causal = g.op('LessOrEqual', [keyIdx, queryIdx]);
  const allowed = g.op('And', [causal, g.op('Cast', [mask], { to: BOOL })]);
  const masked = g.floats(Float32Array.of(MASKED), []);

  // cos/sin for the fed positions: [1, S, 1, hd/2], broadcast over heads.
  const tables = ropeTables(c.contextLength, hd, c.ropeTheta);
  const axis2 = g.ints([2]);
  const cos = g.op('Unsqueeze', [g.op('Gather', [g.floats(tables.cos, [c.contextLength, hd / 2], 'rope_cos'), positions], { axis: 0 }), axis2]);
  const sin = g.op('Unsqueeze', [g.op('Gather', [g.floats(tables.sin, [c.contextLength, hd / 2], 'rope_sin'), positions], { axis: 0 }), axis2]);
  const rope = (t: string): string => applyRope(g, t, cos, sin, hd, c.ropeLayout);

  const eps = g.floats(Float32Array.of(c.rmsNormEps), [], 'rms_eps');
  const rms = (t: string, weight: Float32Array, wname: string): string => {
    const meanSq = g.op('ReduceMean', [g.op('Mul', [t, t])], { axes: [-1], keepdims: 1 });
    const inv = g.op('Reciprocal', [g.op('Sqrt', [g.op('Add', [meanSq, eps])])]);
    return g.op('Mul', [g.op('Mul', [t, inv]), g.floats(weight, [D], wname)]);
  };
  const linear = (t: string, all: Float32Array, layer: number, out: number, inp: number, wname: string): string => {
    const wt = transpose(all.subarray(layer * out * inp, (layer + 1) * out * inp), out, inp);
    return g.op('MatMul', [t, g.floats(wt, [inp, out], wname)]);
  };
  const scale = g.floats(Float32Array.of(Math.sqrt(hd)), [], 'attn_scale');

  for (let l = 0; l < L; l++) {
    const xn = rms(x, w.rmsAtt.subarray(l * D, (l + 1) * D), `l${l}.rms_att`);
    const q = rope(g.op('Reshape', [linear(xn, w.wq, l, qDim, D, `l${l}.wq_t`), g.ints([0, 0, H, hd])]));
    const k = rope(g.op('Reshape', [linear(xn, w.wk, l, kvDim, D, `l${l}.wk_t`), g.ints([0, 0, KV, hd])]));
    const v = g.op('Reshape', [linear(xn, w.wv, l, kvDim, D, `l${l}.wv_t`), g.ints([0, 0, KV, hd])]);
    const kNew = g.op('Transpose', [k], { perm: [0, 2, 1, 3] });
    const vNew = g.op('Transpose', [v], { perm: [0, 2, 1, 3] });
    const presentK = g.op('Concat', [pastK[l], kNew], { axis: 2 }, presentKeyName(l));
    const presentV = g.op('Concat', [pastV[l], vNew], { axis: 2 }, presentValueName(l));
    g.output(presentK, [1, KV, T, hd]);
    g.output(presentV, [1, KV, T, hd]);

    const q5 = g.op('Transpose', [g.op('Reshape', [q, g.ints([0, 0, KV, G, hd])])], { perm: [0, 2, 3, 1, 4] });
    const k5 = g.op('Transpose', [g.op('Unsqueeze', [presentK, axis2])], { perm: [0, 1, 2, 4, 3] });
    const v5 = g.op('Unsqueeze', [presentV, axis2]);
    const scores = g.op('Div', [g.op('MatMul', [q5, k5]), scale]);
    const probs = g.op('Softmax', [g.op('Where', [allowed, scores, masked])], { axis: -1 });
    const ctx = g.op('Transpose', [g.op('MatMul', [probs, v5])], { perm: [0, 3, 1, 2, 4] });
    const attn = linear(g.op('Reshape', [ctx, g.ints([0, 0, qDim])]), w.wo, l, D, qDim, `l${l}.wo_t`);
    x = g.op('Add', [x, attn]);

    const hn = rms(x, w.rmsFfn.subarray(l * D, (l + 1) * D), `l${l}.rms_ffn`);
    const h1 = linear(hn, w.w1, l, F, D, `l${l}.w1_t`);
    const h3 = linear(hn, w.w3, l, F, D, `l${l}.w3_t`);
    const gated = g.op('Mul', [g.op('Mul', [h1, g.op('Sigmoid', [h1])]), h3]);
    x = g.op('Add', [x, linear(gated, w.w2, l, D, F, `l${l}.w2_t`)]);
  }
  const xf = rms(x, w.rmsFinal, 'rms_final');
  g.op('MatMul', [xf, g.floats(transpose(w.wcls, V, D), [D, V], 'classifier_t')], {}, OUTPUT_LOGITS);
  return g.toBytes();
}

/** Rotates t [1, S, heads, hd] by the position angles; see RopeLayout for the two pairings. */
function applyRope(g: GraphBuilder, t: string, cos: string, sin: string, hd: number, layout: RopeLayout): string {
  const axis3 = g.ints([3]);
  const slice = (start: number, end: number, step: number): string =>
    g.op('Slice', [t, g.ints([start]), g.ints([end]), axis3, g.ints([step])]);
  // Pair (a, b) → (a·cos − b·sin, a·sin + b·cos), run.c's `v0*fcr - v1*fci, v0*fci + v1*fcr`.
  const [a, b] = layout === 'interleaved' ? [slice(0, hd, 2), slice(1, hd, 2)] : [slice(0, hd / 2, 1), slice(hd / 2, hd, 1)];
  const ra = g.op('Sub', [g.op('Mul', [a, cos]), g.op('Mul', [b, sin])]);
  const rb = g.op('Add', [g.op('Mul', [a, sin]), g.op('Mul', [b, cos])]);
  if (layout === 'half') return g.op('Concat', [ra, rb], { axis: 3 });
  const axis4 = g.ints([4]);
  const pairs = g.op('Concat', [g.op('Unsqueeze', [ra, axis4]), g.op('Unsqueeze', [rb, axis4])], { axis: 4 });
  return g.op('Reshape', [pairs, g.ints([0, 0, 0, hd])]);
}
