/**
 * The LLM input of SPEC §6, as embeddings rows:
 *   1 BOS · 2 "### Human: <Img>" · 3 image token · 4 "</Img> " · 5 18 prompts · 6 question + "\n### Assistant:"
 * Each text segment is tokenized separately without BOS, with the tokenizer's dummy-prefix
 * space (SentencePiece `add_special_tokens=False`, as the seed's slow LlamaTokenizer does).
 * Segments 1–5 depend only on the image: they are the *prefix* whose KV cache a dialogue
 * reuses; segment 6 is the question (the whole history string in later turns).
 */
import { AppError, ErrorCodes } from '../errors.js';
import type { EmbeddingTable } from './llm/embeddings.js';
import type { LlmTokenizer } from './llm/tokenizer.js';
import { ASSISTANT_TAIL, HUMAN_IMG_OPEN, IMG_CLOSE } from './prompt-format.js';

export interface PrefixTokens {
  readonly bos: number;
  readonly human: readonly number[];
  readonly imgClose: readonly number[];
}

export interface SegmentLengths {
  readonly bos: 1;
  readonly human: number;
  readonly image: 1;
  readonly imgClose: number;
  readonly prompts: number;
  readonly question: number;
}

export function prefixTokens(tok: LlmTokenizer): PrefixTokens {
  return { bos: tok.bosId, human: tok.encode(HUMAN_IMG_OPEN, { bos: false }), imgClose: tok.encode(IMG_CLOSE, { bos: false }) };
}

/** Segment 6's ids for a prompt (the question, or the history string of SPEC §6 multi-turn). */
export function questionTokens(tok: LlmTokenizer, prompt: string): number[] {
  return tok.encode(prompt + ASSISTANT_TAIL, { bos: false });
}

export function prefixLength(p: PrefixTokens, prompts: number): number {
  return 1 + p.human.length + 1 + p.imgClose.length + prompts;
}

/** Rows of segments 1–5: [prefixLength, H]. `imageToken` [H], `prompts` [n, H]. */
export function assemblePrefix(emb: EmbeddingTable, p: PrefixTokens, imageToken: Float32Array, prompts: Float32Array): { embeds: Float32Array; length: number } {
  const H = emb.hidden;
  const n = prompts.length / H;
  if (imageToken.length !== H || !Number.isInteger(n) || n < 1) {
    throw new AppError(ErrorCodes.MODEL_SHAPE, `image token of ${imageToken.length} and prompts of ${prompts.length} floats do not fit hidden ${H}`);
  }
  const length = prefixLength(p, n);
  const embeds = new Float32Array(length * H);
  let row = 0;
  emb.lookup([p.bos], embeds, row);
  row += 1;
  emb.lookup(p.human, embeds, row);
  row += p.human.length;
  embeds.set(imageToken, row * H);
  row += 1;
  emb.lookup(p.imgClose, embeds, row);
  row += p.imgClose.length;
  embeds.set(prompts, row * H);
  return { embeds, length };
}

export function segmentLengths(p: PrefixTokens, prompts: number, question: readonly number[]): SegmentLengths {
  return { bos: 1, human: p.human.length, image: 1, imgClose: p.imgClose.length, prompts, question: question.length };
}
