/**
 * Graph builders for the AnomalyGPT bundle's vision side, from weights in PyTorch layout:
 * a ViT-style image encoder with ImageBind's interface (SPEC §2), the prompt learner (SPEC §5)
 * and llama_proj. Used by build-tiny-bundle.ts at reduced size; the prompt learner and
 * llama_proj builders take full-size weights unchanged (SPEC §5 shapes), the encoder builder
 * implements ImageBind-Huge's block structure but is only exercised at toy depth here.
 */
import { GraphBuilder } from '../../src/inference/onnx-graph.js';
import { transpose } from '../llm/llama-graph.js';

export interface LinearW {
  /** (out, in) row-major, as nn.Linear.weight. */
  readonly weight: Float32Array;
  readonly bias?: Float32Array;
  readonly out: number;
  readonly in: number;
}

export interface LayerNormW {
  readonly gamma: Float32Array;
  readonly beta: Float32Array;
}

export interface VitBlockW {
  readonly ln1: LayerNormW;
  readonly q: LinearW;
  readonly k: LinearW;
  readonly v: LinearW;
  readonly o: LinearW;
  readonly ln2: LayerNormW;
  readonly fc1: LinearW;
  readonly fc2: LinearW;
}

export interface EncoderW {
  readonly size: number;
  readonly patch: number;
  readonly width: number;
  readonly heads: number;
  readonly embedDim: number;
  /** Conv2d(3→W, k=patch, s=patch, no bias) [W,3,p,p]: ImageBind's Conv3d summed over its 2 frames. */
  readonly patchEmbed: Float32Array;
  readonly cls: Float32Array;
  /** [1 + grid², W] */
  readonly pos: Float32Array;
  readonly preLn: LayerNormW;
  readonly blocks: readonly VitBlockW[];
  /** 1-based indices of the blocks whose outputs are the 4 taps. */
  readonly tapBlocks: readonly number[];
  readonly headLn: LayerNormW;
  /** Linear W→E, no bias. */
  readonly head: LinearW;
}

const EPS = 1e-6; // every ImageBind LayerNorm (SPEC §2)

function linear(g: GraphBuilder, x: string, w: LinearW, name: string): string {
  const y = g.op('MatMul', [x, g.floats(transpose(w.weight, w.out, w.in), [w.in, w.out], `${name}.wT`)]);
  return w.bias ? g.op('Add', [y, g.floats(w.bias, [w.out], `${name}.b`)]) : y;
}

function layerNorm(g: GraphBuilder, x: string, ln: LayerNormW, name: string): string {
  const n = ln.gamma.length;
  return g.op('LayerNormalization', [x, g.floats(ln.gamma, [n], `${name}.g`), g.floats(ln.beta, [n], `${name}.b`)], { axis: -1, epsilon: { float: EPS } });
}

/** pixel [1,3,S,S] → img_emb [1,E] (unit norm), taps [4,1,P,W] (raw residual stream, CLS dropped). */
export function buildEncoderGraph(w: EncoderW): Uint8Array {
  const { size: S, patch, width: W, heads } = w;
  const grid = S / patch;
  const P = grid * grid;
  const T = P + 1;
  const hd = W / heads;
  const g = new GraphBuilder('anomalygpt_image_encoder');
  const pixel = g.input('pixel', [1, 3, S, S]);
  const conv = g.op('Conv', [pixel, g.floats(w.patchEmbed, [W, 3, patch, patch], 'patch_embed')], { kernel_shape: [patch, patch], strides: [patch, patch] });
  // (1,W,g,g) → (1,P,W), patch index p = 16·row + col (SPEC §2).
  const tokens = g.op('Transpose', [g.op('Reshape', [conv, g.ints([1, W, P])])], { perm: [0, 2, 1] });
  let x = g.op('Concat', [g.floats(w.cls, [1, 1, W], 'cls'), tokens], { axis: 1 });
  x = g.op('Add', [x, g.floats(w.pos, [1, T, W], 'pos_embed')]);
  x = layerNorm(g, x, w.preLn, 'pre_ln');
  const scale = g.floats(Float32Array.of(Math.sqrt(hd)), [], 'attn_scale');
  const sqrt2 = g.floats(Float32Array.of(Math.SQRT2), [], 'sqrt2');
  const half = g.floats(Float32Array.of(0.5), [], 'half');
  const one = g.floats(Float32Array.of(1), [], 'one');
  const heads4 = g.ints([1, T, heads, hd]);
  const taps: string[] = [];
  w.blocks.forEach((b, i) => {
    const n = `b${i}`;
    const h = layerNorm(g, x, b.ln1, `${n}.ln1`);
    const split = (t: string): string => g.op('Transpose', [g.op('Reshape', [t, heads4])], { perm: [0, 2, 1, 3] });
    const q = split(linear(g, h, b.q, `${n}.q`));
    const k = split(linear(g, h, b.k, `${n}.k`));
    const v = split(linear(g, h, b.v, `${n}.v`));
    const att = g.op('Softmax', [g.op('Div', [g.op('MatMul', [q, g.op('Transpose', [k], { perm: [0, 1, 3, 2] })]), scale])], { axis: -1 });
    const ctx = g.op('Reshape', [g.op('Transpose', [g.op('MatMul', [att, v])], { perm: [0, 2, 1, 3] }), g.ints([1, T, W])]);
    x = g.op('Add', [x, linear(g, ctx, b.o, `${n}.o`)]);
    const m = linear(g, layerNorm(g, x, b.ln2, `${n}.ln2`), b.fc1, `${n}.fc1`);
    // Exact-erf GELU, as nn.GELU() in ImageBind's MLP.
    const gelu = g.op('Mul', [g.op('Mul', [m, half]), g.op('Add', [one, g.op('Erf', [g.op('Div', [m, sqrt2])])])]);
    x = g.op('Add', [x, linear(g, gelu, b.fc2, `${n}.fc2`)]);
    if (w.tapBlocks.includes(i + 1)) {
      const patches = g.op('Slice', [x, g.ints([1]), g.ints([T]), g.ints([1])]);
      taps.push(g.op('Unsqueeze', [patches, g.ints([0])]));
    }
  });
  if (taps.length !== 4) throw new Error(`tapBlocks must name 4 blocks of ${w.blocks.length}`);
  g.op('Concat', taps, { axis: 0 }, 'taps');
  const cls = g.op('Gather', [layerNorm(g, x, w.headLn, 'head_ln'), g.int64Scalar(0)], { axis: 1 });
  const emb = linear(g, cls, w.head, 'head');
  g.op('Div', [emb, g.op('ReduceL2', [emb], { axes: [-1], keepdims: 1 })], {}, 'img_emb');
  g.output('img_emb', [1, w.embedDim]);
  g.output('taps', [4, 1, P, W]);
  return g.toBytes();
}

export interface ConvW {
  /** [out, in, k, k] as nn.Conv2d.weight. */
  readonly weight: Float32Array;
  readonly bias: Float32Array;
  readonly out: number;
  readonly in: number;
  readonly k: number;
}

export interface PromptLearnerW {
  /** meta_net.{0,3,6,9,12}: 3×3 pad 1, each followed by ReLU and MaxPool 2. */
  readonly convs: readonly ConvW[];
  /** meta_net.15: 5×5, pad 0, no activation; `out` = LLM hidden H. */
  readonly last: ConvW;
  /** base_prompts [9, H]. */
  readonly basePrompts: Float32Array;
  readonly size: number;
}

/** map [1,1,S,S] → prompts [1,18,H]: 9 base prompts, then the 9 map-derived ones (SPEC §5). */
export function buildPromptLearnerGraph(w: PromptLearnerW): Uint8Array {
  const H = w.last.out;
  const g = new GraphBuilder('anomalygpt_prompt_learner');
  let x = g.input('anomaly_map', [1, 1, w.size, w.size]);
  w.convs.forEach((c, i) => {
    const y = g.op('Conv', [x, g.floats(c.weight, [c.out, c.in, c.k, c.k], `meta_net.${3 * i}.weight`), g.floats(c.bias, [c.out], `meta_net.${3 * i}.bias`)], {
      kernel_shape: [c.k, c.k],
      pads: [1, 1, 1, 1],
    });
    x = g.op('MaxPool', [g.op('Relu', [y])], { kernel_shape: [2, 2], strides: [2, 2] });
  });
  const l = w.last;
  const y = g.op('Conv', [x, g.floats(l.weight, [l.out, l.in, l.k, l.k], 'meta_net.15.weight'), g.floats(l.bias, [l.out], 'meta_net.15.bias')], { kernel_shape: [l.k, l.k] });
  // (1,H,3,3) → (1,H,9) → (1,9,H), spatial positions row-major.
  const mapPrompts = g.op('Transpose', [g.op('Reshape', [y, g.ints([1, H, 9])])], { perm: [0, 2, 1] });
  g.op('Concat', [g.floats(w.basePrompts, [1, 9, H], 'base_prompts'), mapPrompts], { axis: 1 }, 'prompts');
  g.output('prompts', [1, 18, H]);
  return g.toBytes();
}

/** img_emb [1,E] → image_token [1,1,H] (Linear with bias, SPEC §2 "What goes to the LLM"). */
export function buildLlamaProjGraph(w: LinearW): Uint8Array {
  const g = new GraphBuilder('anomalygpt_llama_proj');
  const x = g.input('img_emb', [1, w.in]);
  g.op('Unsqueeze', [linear(g, x, w, 'llama_proj'), g.ints([1])], {}, 'image_token');
  g.output('image_token', [1, 1, w.out]);
  return g.toBytes();
}
