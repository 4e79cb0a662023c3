/**
 * A direct TypeScript port of llama2.c run.c `forward` (one token at a position, with its own
 * KV cache), on the checkpoint's float arrays. It is the independent reference the ONNX graph
 * is tested against, written from run.c, not from the graph code. Slow by design (plain loops).
 */
import type { LlamaWeights } from '../../../src/vlm/llm/checkpoint.js';

export class ReferenceLlama {
  private readonly keyCache: Float32Array;
  private readonly valueCache: Float32Array;

  constructor(private readonly w: LlamaWeights) {
    const c = w.config;
    const kvDim = c.kvHeads * c.headDim;
    this.keyCache = new Float32Array(c.layers * c.contextLength * kvDim);
    this.valueCache = new Float32Array(c.layers * c.contextLength * kvDim);
  }

  /** Logits [vocab] after feeding `token` at `pos` (positions must be fed in order from 0). */
  forward(token: number, pos: number): Float32Array {
    const { w } = this;
    const c = w.config;
    const dim = c.hidden;
    const hs = c.headDim;
    const kvDim = c.kvHeads * hs;
    const kvMul = c.heads / c.kvHeads;
    const hidden = c.intermediate;
    const x = w.tokenEmbedding.slice(token * dim, (token + 1) * dim);
    const xb = new Float32Array(dim);
    const q = new Float32Array(c.heads * hs);
    const att = new Float32Array(pos + 1);
    const xb2 = new Float32Array(c.heads * hs);
    const hb = new Float32Array(hidden);
    const hb2 = new Float32Array(hidden);

    for (let l = 0; l < c.layers; l++) {
      rmsnorm(xb, x, w.rmsAtt.subarray(l * dim, (l + 1) * dim), c.rmsNormEps);
      const loff = l * c.contextLength * kvDim;
      const k = this.keyCache.subarray(loff + pos * kvDim, loff + (pos + 1) * kvDim);
      const v = this.valueCache.subarray(loff + pos * kvDim, loff + (pos + 1) * kvDim);
      matmul(q, xb, w.wq.subarray(l * dim * dim), dim, c.heads * hs);
      matmul(k, xb, w.wk.subarray(l * dim * kvDim), dim, kvDim);
      matmul(v, xb, w.wv.subarray(l * dim * kvDim), dim, kvDim);
      // RoPE: pairs (i, i+1) within each head, freq = 1/theta^((i mod hs)/hs), as run.c.
      for (let i = 0; i < c.heads * hs; i += 2) {
        const headDim = i % hs;
        const freq = Math.fround(1 / Math.fround(Math.pow(c.ropeTheta, Math.fround(headDim / hs))));
        const val = Math.fround(pos * freq);
        const fcr = Math.cos(val);
        const fci = Math.sin(val);
        const rotn = i < kvDim ? 2 : 1;
        for (let r = 0; r < rotn; r++) {
          const vec = r === 0 ? q : k;
          const v0 = vec[i];
          const v1 = vec[i + 1];
          vec[i] = v0 * fcr - v1 * fci;
          vec[i + 1] = v0 * fci + v1 * fcr;
        }
      }
      for (let h = 0; h < c.heads; h++) {
        const kvh = Math.floor(h / kvMul);
        for (let t = 0; t <= pos; t++) {
          let score = 0;
          const kb = loff + t * kvDim + kvh * hs;
          for (let i = 0; i < hs; i++) score += q[h * hs + i] * this.keyCache[kb + i];
          att[t] = score / Math.sqrt(hs);
        }
        softmax(att, pos + 1);
        for (let i = 0; i < hs; i++) xb2[h * hs + i] = 0;
        for (let t = 0; t <= pos; t++) {
          const vb = loff + t * kvDim + kvh * hs;
          for (let i = 0; i < hs; i++) xb2[h * hs + i] += att[t] * this.valueCache[vb + i];
        }
      }
      matmul(xb, xb2, w.wo.subarray(l * dim * dim), c.heads * hs, dim);
      for (let i = 0; i < dim; i++) x[i] += xb[i];

      rmsnorm(xb, x, w.rmsFfn.subarray(l * dim, (l + 1) * dim), c.rmsNormEps);
      matmul(hb, xb, w.w1.subarray(l * dim * hidden), dim, hidden);
      matmul(hb2, xb, w.w3.subarray(l * dim * hidden), dim, hidden);
      for (let i = 0; i < hidden; i++) {
        const s = hb[i] / (1 + Math.exp(-hb[i]));
        hb[i] = s * hb2[i];
      }
      matmul(xb, hb, w.w2.subarray(l * dim * hidden), hidden, dim);
      for (let i = 0; i < dim; i++) x[i] += xb[i];
    }
    rmsnorm(x, x, w.rmsFinal, c.rmsNormEps);
    const logits = new Float32Array(c.vocabSize);
    matmul(logits, x, w.wcls, dim, c.vocabSize);
    return logits;
  }
}

function rmsnorm(o: Float32Array, x: Float32Array, weight: Float32Array, eps: number): void {
  let ss = 0;
  for (let j = 0; j < x.length; j++) ss += x[j] * x[j];
  ss = 1 / Math.sqrt(ss / x.length + eps);
  for (let j = 0; j < x.length; j++) o[j] = weight[j] * (ss * x[j]);
}

function softmax(x: Float32Array, size: number): void {
  let max = x[0];
  for (let i = 1; i < size; i++) if (x[i] > max) max = x[i];
  let sum = 0;
  for (let i = 0; i < size; i++) {
    x[i] = Math.exp(x[i] - max);
    sum += x[i];
  }
  for (let i = 0; i < size; i++) x[i] /= sum;
}

/** W (d, n) · x (n) → xout (d), run.c `matmul`. */
function matmul(xout: Float32Array, x: Float32Array, w: Float32Array, n: number, d: number): void {
  for (let i = 0; i < d; i++) {
    let val = 0;
    for (let j = 0; j < n; j++) val += w[i * n + j] * x[j];
    xout[i] = val;
  }
}
