/**
 * Converting llama2.c (Meta) q/k weights to the Hugging Face RoPE layout. HF's
 * convert_llama_weights_to_hf.py permutes the rows of q_proj and k_proj per head,
 *   w.view(heads, head_dim/2, 2, in).transpose(1, 2).reshape(heads·head_dim, in),
 * i.e. new row h·d + p·d/2 + j = old row h·d + 2j + p, so that `rotate_half` (pairs j, j + d/2)
 * rotates the same pairs Meta's interleaved code (2j, 2j+1) did. q and k get the same
 * permutation, so every q·k dot product, and therefore the logits, are unchanged; only the
 * channel order inside the cached keys differs. Vicuna comes through HF, already permuted.
 */
import type { LlamaWeights } from '../../../src/vlm/llm/checkpoint.js';

/** Row permutation of one stacked [layers, heads·d, in] tensor into the HF order. */
export function permuteRowsToHalf(w: Float32Array, layers: number, heads: number, headDim: number, inDim: number): Float32Array {
  const out = new Float32Array(w.length);
  const half = headDim / 2;
  for (let l = 0; l < layers; l++) {
    for (let h = 0; h < heads; h++) {
      const base = (l * heads + h) * headDim;
      for (let j = 0; j < half; j++) {
        for (let p = 0; p < 2; p++) {
          const src = (base + 2 * j + p) * inDim;
          out.set(w.subarray(src, src + inDim), (base + p * half + j) * inDim);
        }
      }
    }
  }
  return out;
}

/** The same model with q/k in the HF (`half`) layout; a no-op if it is already there. */
export function toHalfRopeLayout(w: LlamaWeights): LlamaWeights {
  const c = w.config;
  if (c.ropeLayout === 'half') return w;
  return {
    ...w,
    config: { ...c, ropeLayout: 'half' },
    wq: permuteRowsToHalf(w.wq, c.layers, c.heads, c.headDim, c.hidden),
    wk: permuteRowsToHalf(w.wk, c.layers, c.kvHeads, c.headDim, c.hidden),
  };
}
