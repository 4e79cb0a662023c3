/**
 * The ONNX LLM interface: one decoder graph, the same for the stories260K test model (converted
 * by tools/models/llm/convert-llama2c.ts) and for the real Vicuna-7B export (SPEC §8), so the runtime
 * never knows which one it drives. Names follow Hugging Face / onnxruntime-genai exports, so an
 * HF-exported decoder (optimum, the genai model builder with embeddings excluded) plugs in.
 *
 * Inputs (B = 1; S = new positions this call; P = cached positions, may be 0; T = P + S):
 *   inputs_embeds              float32 [1, S, hidden]   token (or image / prompt-learner) embeddings;
 *                                                        the lookup happens outside the graph (SPEC §6)
 *   attention_mask             int64   [1, T]            1 = attend, 0 = padding; combined with the causal mask
 *   position_ids               int64   [1, S]            absolute positions (RoPE), P … P+S−1 normally
 *   past_key_values.{i}.key    float32 [1, n_kv_heads, P, head_dim]   for each layer i
 *   past_key_values.{i}.value  float32 [1, n_kv_heads, P, head_dim]
 * Outputs:
 *   logits                     float32 [1, S, vocab]
 *   present.{i}.key / .value   float32 [1, n_kv_heads, T, head_dim]   (past concatenated with the new S)
 *
 * Keys in the cache are stored *after* RoPE, so a cached step never revisits old positions.
 * RoPE layout is a property of the weights (see `RopeLayout`), recorded in the manifest.
 */

/**
 * How q/k channels within a head are paired for rotation.
 * - `interleaved`: pairs (2i, 2i+1), llama2.c run.c and Meta's original LLaMA code.
 * - `half`: pairs (i, i + head_dim/2), Hugging Face `rotate_half`. HF's LLaMA conversion permutes
 *   the rows of q_proj/k_proj so that this gives the same attention as Meta's layout; Vicuna
 *   arrives through HF, so its export uses `half` with the weights as stored.
 * Both compute identical logits when the q/k weight rows are permuted accordingly (tested).
 */
export type RopeLayout = 'interleaved' | 'half';

export interface LlmConfig {
  /** Model width (embedding size). */
  readonly hidden: number;
  /** FFN inner width. */
  readonly intermediate: number;
  readonly layers: number;
  readonly heads: number;
  readonly kvHeads: number;
  readonly headDim: number;
  readonly vocabSize: number;
  /** Context length: positions 0 … contextLength−1 exist (RoPE tables, E_LLM_CONTEXT). */
  readonly contextLength: number;
  readonly rmsNormEps: number;
  readonly ropeTheta: number;
  readonly ropeLayout: RopeLayout;
}

export const INPUT_EMBEDS = 'inputs_embeds';
export const INPUT_ATTENTION_MASK = 'attention_mask';
export const INPUT_POSITION_IDS = 'position_ids';
export const OUTPUT_LOGITS = 'logits';

export const pastKeyName = (layer: number): string => `past_key_values.${layer}.key`;
export const pastValueName = (layer: number): string => `past_key_values.${layer}.value`;
export const presentKeyName = (layer: number): string => `present.${layer}.key`;
export const presentValueName = (layer: number): string => `present.${layer}.value`;

/** Every input name the graph must declare, in the order the converter writes them. */
export function expectedInputNames(layers: number): string[] {
  const names = [INPUT_EMBEDS, INPUT_ATTENTION_MASK, INPUT_POSITION_IDS];
  for (let i = 0; i < layers; i++) names.push(pastKeyName(i), pastValueName(i));
  return names;
}

export function expectedOutputNames(layers: number): string[] {
  const names = [OUTPUT_LOGITS];
  for (let i = 0; i < layers; i++) names.push(presentKeyName(i), presentValueName(i));
  return names;
}

/** Checks the shape relations every converter relies on; returns a list of problems. */
export function configProblems(c: LlmConfig): string[] {
  const p: string[] = [];
  const positive = ['hidden', 'intermediate', 'layers', 'heads', 'kvHeads', 'headDim', 'vocabSize', 'contextLength'] as const;
  for (const k of positive) if (!Number.isInteger(c[k]) || c[k] <= 0) p.push(`${k} must be a positive integer (got ${c[k]})`);
  if (c.heads % c.kvHeads !== 0) p.push(`heads (${c.heads}) must be a multiple of kvHeads (${c.kvHeads})`);
  if (c.headDim % 2 !== 0) p.push(`headDim (${c.headDim}) must be even for RoPE`);
  if (!(c.rmsNormEps > 0)) p.push(`rmsNormEps must be > 0 (got ${c.rmsNormEps})`);
  if (!(c.ropeTheta > 0)) p.push(`ropeTheta must be > 0 (got ${c.ropeTheta})`);
  return p;
}
