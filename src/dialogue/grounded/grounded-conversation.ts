/**
 * The grounded answerer as a conversation source (issue 10, item 3, without a language model):
 * a conversation is bound to one recorded inspection; each question is answered from its record,
 * the recipe and the archive (compose.ts) and streamed in word-sized pieces. Between pieces the
 * answer yields to the event loop (setImmediate — no timer, no added delay) so each piece can
 * leave on the socket as it is said and the camera pipelines sharing this thread are not held
 * up; a client that goes away stops the answer, and what was said still counts as the turn.
 */
import { AppError, ErrorCodes } from '../../errors.js';
import type { RecordedInspection } from '../../archive/record-schema.js';
import type { AskOptions, AskResult, Askable, ConversationLimits, ConversationSource, Turn } from '../types.js';
import { NO_LLM_NOTICE } from './answers/help.js';
import { composeAnswer, type Previous } from './compose.js';
import type { GroundedDeps } from './ports.js';
import { TOPICS } from './topics.js';

/** Word-sized pieces whose concatenation is exactly `text` (each word with the spaces after it). */
export function pieces(text: string): string[] {
  return text.match(/\S+\s*|\s+/g) ?? [];
}

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

export class GroundedConversation implements Askable {
  readonly #turns: Turn[] = [];
  #previous: Previous | undefined;
  /** One answer at a time per conversation, so turns and follow-ups keep their order. */
  #queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly inspection: RecordedInspection,
    private readonly deps: GroundedDeps,
    private readonly maxTurns: number,
  ) {}

  get history(): readonly Turn[] {
    return this.#turns;
  }

  ask(question: string, opts: AskOptions = {}): Promise<AskResult> {
    const next = this.#queue.then(() => this.#answer(question, opts));
    this.#queue = next.catch(() => undefined);
    return next;
  }

  async #answer(question: string, opts: AskOptions): Promise<AskResult> {
    const t0 = performance.now();
    const composed = composeAnswer(question, this.inspection, this.deps, this.#previous);
    const composeMs = performance.now() - t0;
    const parts = pieces(composed.text);
    let said = '';
    let n = 0;
    for (const text of parts) {
      if (opts.signal?.aborted) break;
      opts.onToken?.({ text, index: n });
      said += text;
      n++;
      if (n < parts.length) await tick();
    }
    if (composed.next) this.#previous = composed.next;
    this.#turns.push({ question, answer: said });
    if (this.#turns.length > this.maxTurns) this.#turns.shift();
    const { text: _t, next: _n, ...grounded } = composed;
    return { answer: said, tokens: n, timings: { composeMs, streamMs: performance.now() - t0 - composeMs }, grounded };
  }
}

export class GroundedConversations implements ConversationSource {
  readonly mode = 'grounded' as const;

  constructor(private readonly deps: GroundedDeps) {}

  async conversationFor(inspectionId: string, limits: ConversationLimits): Promise<Askable> {
    const inspection = this.deps.archive.get(inspectionId);
    if (!inspection) throw new AppError(ErrorCodes.INSPECTION_UNKNOWN, `inspection ${inspectionId} is not in the inspection record (unknown id, or removed by retention)`);
    return new GroundedConversation(inspection, this.deps, limits.maxTurns);
  }
}

/** GET /api/assistant without a language model. */
export function groundedAssistantInfo(): { mode: 'grounded'; notice: string; topics: { topic: string; can: string; example: string }[] } {
  return { mode: 'grounded', notice: NO_LLM_NOTICE, topics: TOPICS.map((t) => ({ topic: t.id, can: t.can, example: t.example })) };
}
