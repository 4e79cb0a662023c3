/**
 * The LLM side of one inspected image: the threshold-free verdict and the dialogue (SPEC §6
 * multi-turn format). The seed recomputes image, map, prompts and the whole sequence every
 * turn; here the image part (segments 1–5) is computed once, and every prefill starts from the
 * longest cached token prefix it shares with the previous one — the verdict's prefill seeds the
 * first answer, each turn seeds the next, since the history string grows at its end.
 * One request at a time per conversation (a promise chain serialises them).
 */
import { AppError, ErrorCodes } from '../errors.js';
import type { Generator, TokenEvent } from './llm/generator.js';
import type { KvCache, LlmDecoder } from './llm/llm-decoder.js';
import type { LlmTokenizer } from './llm/tokenizer.js';
import { commonPrefix, sliceCache } from './kv-slice.js';
import { questionTokens } from './llm-input.js';
import { STOP_TEXT, historyPrompt, trimAnswer, type Turn } from './prompt-format.js';
import { compareYesNo, type LlmVerdict, type VerdictTokens } from './yes-no.js';

export interface ConversationParts {
  readonly decoder: LlmDecoder;
  readonly generator: Generator;
  readonly tokenizer: LlmTokenizer;
  readonly verdictTokens: VerdictTokens;
  /** Segments 1–5 as embedding rows (src/vlm/llm-input.ts). */
  readonly prefix: { readonly embeds: Float32Array; readonly length: number };
}

export interface ConversationOptions {
  /** Turns kept in the history string; older ones are dropped (bounded context). Default 8. */
  readonly maxTurns?: number;
  /**
   * Tokens the history and the question may take (segment 6); the oldest turns are dropped
   * until they fit, so long answers cannot push a dialogue past the LLM's context. Default 1024.
   */
  readonly maxHistoryTokens?: number;
  /** Default 64. */
  readonly maxAnswerTokens?: number;
  /** Earlier turns to continue from (e.g. a dialogue restored after a restart). */
  readonly history?: readonly Turn[];
}

export interface Prefill {
  readonly logits: Float32Array;
  readonly cache: KvCache;
  /** Segment-6 ids of this prefill. */
  readonly ids: readonly number[];
  /** Positions taken from a cache / fed now. */
  readonly reused: number;
  readonly fed: number;
  readonly ms: number;
}

export interface Answer {
  readonly answer: string;
  readonly text: string;
  readonly ids: readonly number[];
  readonly prefill: Omit<Prefill, 'logits' | 'cache'>;
  readonly decodeMs: number;
}

export class Conversation {
  private readonly turns: Turn[] = [];
  /** Segment-6 (and later) ids covered by `cache` after the prefix. */
  private checkpoint: { ids: readonly number[]; cache: KvCache } | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly maxTurns: number;
  private readonly maxHistoryTokens: number;
  private readonly maxAnswerTokens: number;

  constructor(
    private readonly parts: ConversationParts,
    opts: ConversationOptions = {},
  ) {
    this.maxTurns = opts.maxTurns ?? 8;
    this.maxHistoryTokens = opts.maxHistoryTokens ?? 1024;
    this.maxAnswerTokens = opts.maxAnswerTokens ?? 64;
    this.turns.push(...(opts.history ?? []).slice(-this.maxTurns));
  }

  get history(): readonly Turn[] {
    return this.turns;
  }

  /** P(yes) for `question` (default: the part's anomaly question) from one prefill. */
  verdict(question: string): Promise<LlmVerdict> {
    return this.serial(async () => {
      const p = await this.prefill(questionTokens(this.parts.tokenizer, question), 0, true);
      return { ...compareYesNo(p.logits, this.parts.verdictTokens), fedPositions: p.fed, prefillMs: p.ms };
    });
  }

  /** Next-token logits after `question` given the current history (for checks and callers that sample). */
  nextTokenLogits(question: string, opts: { reuse?: boolean } = {}): Promise<Prefill> {
    return this.serial(() => this.prefill(this.promptIds(question), 0, opts.reuse ?? true));
  }

  /** One dialogue turn: greedy answer, stopped at "###" (SPEC §6), appended to the history. */
  ask(question: string, opts: { maxNewTokens?: number; onToken?: (e: TokenEvent) => void; signal?: AbortSignal } = {}): Promise<Answer> {
    return this.serial(async () => {
      const maxNew = opts.maxNewTokens ?? this.maxAnswerTokens;
      const ids = this.promptIds(question);
      // Prefill all but the last id (a checkpoint the next turn can reuse); the generator feeds the last.
      const head = ids.length > 1 ? await this.prefill(ids.slice(0, -1), maxNew + 1, true, false) : undefined;
      const past = head?.cache ?? (await this.prefixCache());
      let text = '';
      const result = await this.parts.generator.generateFromEmbeddings(this.parts.generator.embed(ids.slice(-1)), 1, {
        maxNewTokens: maxNew,
        past,
        prevTokenId: ids.length > 1 ? ids[ids.length - 2] : this.parts.tokenizer.bosId,
        onToken: (e) => {
          opts.onToken?.(e);
          text += e.text;
          // An aborted request (client gone) stops generating; the partial answer still counts as the turn.
          return !text.includes(STOP_TEXT) && !opts.signal?.aborted;
        },
      });
      const answer = trimAnswer(result.text);
      this.turns.push({ question, answer });
      if (this.turns.length > this.maxTurns) this.turns.shift();
      if (result.cache) {
        const fed = result.cache.length - this.parts.prefix.length;
        this.checkpoint = { ids: [...ids, ...result.ids].slice(0, fed), cache: result.cache };
      }
      return {
        answer,
        text: result.text,
        ids: result.ids,
        prefill: { ids, reused: head?.reused ?? this.parts.prefix.length, fed: (head?.fed ?? 0) + 1, ms: (head?.ms ?? 0) + result.prefillMs },
        decodeMs: result.decodeMs,
      };
    });
  }

  /** Segment 6 for `question` after the history, oldest turns dropped until it fits maxHistoryTokens. */
  private promptIds(question: string): number[] {
    let ids = questionTokens(this.parts.tokenizer, historyPrompt(this.turns, question));
    while (this.turns.length > 0 && ids.length > this.maxHistoryTokens) {
      this.turns.shift();
      ids = questionTokens(this.parts.tokenizer, historyPrompt(this.turns, question));
    }
    return ids;
  }

  private async prefixCache(): Promise<KvCache> {
    const { decoder, prefix } = this.parts;
    if (this.checkpoint) return sliceCache(this.checkpoint.cache, prefix.length, decoder.config);
    const out = await decoder.forward(prefix.embeds, prefix.length);
    this.checkpoint = { ids: [], cache: out.cache };
    return out.cache;
  }

  /**
   * Prefill of prefix + `ids`, from the longest cached prefix when `reuse`; leaves `reserve`
   * positions free. Without `needLogits` a fully cached `ids` costs no decoder call.
   */
  private async prefill(ids: readonly number[], reserve: number, reuse: boolean, needLogits = true): Promise<Prefill> {
    const { decoder, generator, prefix } = this.parts;
    const H = decoder.config.hidden;
    const total = prefix.length + ids.length;
    if (total + reserve > decoder.config.contextLength) {
      throw new AppError(ErrorCodes.LLM_CONTEXT, `the LLM input (${total} positions${reserve ? ` + ${reserve} for the answer` : ''}) exceeds the context length of ${decoder.config.contextLength}`, {
        details: { positions: total, reserve, contextLength: decoder.config.contextLength },
      });
    }
    const t0 = performance.now();
    const cp = reuse ? this.checkpoint : undefined;
    let out;
    let reused = 0;
    if (cp && !needLogits && commonPrefix(cp.ids, ids) === ids.length) {
      const cache = sliceCache(cp.cache, total, decoder.config);
      return { logits: new Float32Array(0), cache, ids, reused: total, fed: 0, ms: performance.now() - t0 };
    }
    if (cp) {
      // Feed at least one id: the logits come from the last fed position.
      const keep = Math.min(commonPrefix(cp.ids, ids), ids.length - 1);
      const past = sliceCache(cp.cache, prefix.length + keep, decoder.config);
      reused = past.length;
      out = await decoder.forward(generator.embed(ids.slice(keep)), ids.length - keep, past);
    } else {
      const embeds = new Float32Array(total * H);
      embeds.set(prefix.embeds.subarray(0, prefix.length * H));
      generator.embeddings.lookup(ids, embeds, prefix.length);
      out = await decoder.forward(embeds, total);
    }
    if (reuse) this.checkpoint = { ids: [...ids], cache: out.cache };
    return { logits: out.logits, cache: out.cache, ids, reused, fed: total - reused, ms: performance.now() - t0 };
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.queue.then(fn, fn);
    this.queue = next.catch(() => undefined);
    return next;
  }
}
