/**
 * The threshold-free LLM verdict (issue 4): after one prefill of the SPEC §6 input, compare the
 * next-token logits of "Yes" and "No". The seed samples the answer and counts it right when
 * 'Yes' / 'No' occurs in it (SPEC §6, §10.8); its training answers all start with "Yes, …" or
 * "No, …", so the first answer token carries the decision. P(yes) = softmax over those two
 * logits = σ(l_yes − l_no): deterministic, no sampling, no threshold to set.
 *
 * Token ids: the first token of `encode(word)` without BOS, i.e. with SentencePiece's
 * dummy-prefix space — "▁Yes" / "▁No" for the LLaMA vocabulary, the way the answer's first
 * token is tokenized in training. The tiny bundle's tokenizer has " Yes" / " No" pieces.
 */
import { AppError, ErrorCodes } from '../errors.js';
import type { LlmTokenizer } from './llm/tokenizer.js';

export interface VerdictTokens {
  readonly yes: number;
  readonly no: number;
}

export function verdictTokens(tok: LlmTokenizer, words: { yes: string; no: string }): VerdictTokens {
  const first = (word: string): number => {
    const ids = tok.encode(word, { bos: false });
    const id = ids[0];
    // A vocabulary without a piece starting the word yields the bare dummy-prefix space first,
    // the same id for both words: the comparison would be meaningless.
    if (id === undefined || tok.decode([id]).trim() === '') {
      throw new AppError(ErrorCodes.LLM_TOKENIZER, `verdict word "${word}" does not start with a token of its own in this tokenizer (ids ${ids.join(', ')})`);
    }
    return id;
  };
  const yes = first(words.yes);
  const no = first(words.no);
  if (yes === no) throw new AppError(ErrorCodes.LLM_TOKENIZER, `verdict words "${words.yes}" and "${words.no}" start with the same token ${yes}`);
  return { yes, no };
}

export interface LlmVerdict {
  /** P(yes) = σ(l_yes − l_no): the probability that the LLM answers "Yes, there is an anomaly". */
  readonly pYes: number;
  readonly yesLogit: number;
  readonly noLogit: number;
  /** Positions fed in this prefill (the rest came from a cache). */
  readonly fedPositions: number;
  readonly prefillMs: number;
}

export function compareYesNo(logits: Float32Array, t: VerdictTokens): { pYes: number; yesLogit: number; noLogit: number } {
  const yesLogit = logits[t.yes];
  const noLogit = logits[t.no];
  return { pYes: 1 / (1 + Math.exp(noLogit - yesLogit)), yesLogit, noLogit };
}
