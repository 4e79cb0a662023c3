/**
 * Conversations about inspections (issue 4 "Dialogue API"): each is bound to one inspection id,
 * keeps its own multi-turn history (SPEC §6 format, bounded to maxTurns) and its prefix KV cache
 * (src/vlm/conversation.ts), so turn n + 1 feeds only the new text. Bounded everywhere:
 * open conversations (LRU + idle timeout), question length, answer tokens, and answers generated
 * at once (the rest wait in a short queue, beyond it E_LLM_BUSY).
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Answer, Conversation } from '../conversation.js';
import type { Turn } from '../prompt-format.js';
import { AppError, ErrorCodes } from '../../errors.js';
import type { TokenEvent } from '../llm/generator.js';
import type { DialogueConfig } from '../../config/assistant.js';
import { RecentMap } from './recent-map.js';

export interface ConversationSource {
  /** A fresh LLM conversation about `inspectionId` (throws E_INSPECTION_UNKNOWN). */
  conversationFor(inspectionId: string, opts: { maxTurns: number; maxHistoryTokens: number; maxAnswerTokens: number }): Promise<Conversation>;
}

interface Open {
  readonly id: string;
  readonly inspectionId: string;
  readonly createdAt: number;
  lastUsed: number;
  readonly conversation: Conversation;
}

export interface ConversationInfo {
  readonly id: string;
  readonly inspectionId: string;
  readonly createdAt: number;
  readonly turns: readonly Turn[];
}

/** Counting semaphore with a bounded queue. */
class Slots {
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  constructor(
    private readonly limit: number,
    private readonly queueLimit: number,
  ) {}

  async acquire(): Promise<() => void> {
    if (this.active >= this.limit) {
      if (this.waiting.length >= this.queueLimit) {
        throw new AppError(ErrorCodes.LLM_BUSY, `${this.active} answers are being generated and ${this.waiting.length} are waiting; try again shortly`);
      }
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.active++;
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      if (next) next(); // the slot passes on; `active` stays
      else this.active--;
    };
  }

  get busy(): { active: number; waiting: number } {
    return { active: this.active, waiting: this.waiting.length };
  }
}

export class DialogueService {
  private readonly open: RecentMap<string, Open>;
  private readonly slots: Slots;
  private sweeper: NodeJS.Timeout | undefined;
  readonly counters = { opened: 0, answers: 0, refusedBusy: 0, expired: 0 };

  constructor(
    private readonly config: DialogueConfig,
    private readonly source: ConversationSource,
    private readonly logger: Pick<Logger, 'info' | 'warn'>,
    private readonly now: () => number = Date.now,
  ) {
    this.open = new RecentMap(config.maxConversations);
    this.slots = new Slots(config.maxConcurrent, config.maxQueued);
  }

  start(): void {
    const every = Math.min(60000, Math.max(1000, Math.floor(this.config.idleTimeoutMs / 4)));
    this.sweeper = setInterval(() => this.expire(), every);
    this.sweeper.unref();
  }

  stop(): void {
    if (this.sweeper) clearInterval(this.sweeper);
    this.sweeper = undefined;
    for (const [id] of [...this.open.entries()]) this.open.delete(id);
  }

  async create(inspectionId: string): Promise<ConversationInfo> {
    const conversation = await this.source.conversationFor(inspectionId, { maxTurns: this.config.maxTurns, maxHistoryTokens: this.config.maxHistoryTokens, maxAnswerTokens: this.config.maxAnswerTokens });
    const t = this.now();
    const c: Open = { id: randomUUID(), inspectionId, createdAt: t, lastUsed: t, conversation };
    this.open.set(c.id, c);
    this.counters.opened++;
    this.logger.info({ conversation: c.id, inspection: inspectionId }, 'conversation opened');
    return info(c);
  }

  get(id: string): ConversationInfo {
    return info(this.find(id));
  }

  close(id: string): void {
    if (!this.open.delete(id)) throw unknown(id);
  }

  /** One turn; `onToken` streams the answer. Validates before waiting for a slot. */
  async ask(id: string, question: string, opts: { onToken?: (e: TokenEvent) => void; signal?: AbortSignal } = {}): Promise<Answer & { conversation: ConversationInfo }> {
    const c = this.find(id);
    const q = question.trim();
    if (q.length === 0) throw new AppError(ErrorCodes.REQUEST_INVALID, 'question: must not be empty');
    if (q.length > this.config.maxQuestionChars) {
      throw new AppError(ErrorCodes.REQUEST_INVALID, `question: ${q.length} characters, at most ${this.config.maxQuestionChars} (assistant.dialogue.maxQuestionChars)`);
    }
    let release: () => void;
    try {
      release = await this.slots.acquire();
    } catch (e) {
      this.counters.refusedBusy++;
      this.logger.warn({ conversation: id, ...this.slots.busy }, 'answer refused: too many at once');
      throw e;
    }
    try {
      c.lastUsed = this.now();
      const answer = await c.conversation.ask(q, {
        maxNewTokens: this.config.maxAnswerTokens,
        ...(opts.onToken ? { onToken: opts.onToken } : {}),
        ...(opts.signal ? { signal: opts.signal } : {}),
      });
      c.lastUsed = this.now();
      this.counters.answers++;
      return { ...answer, conversation: info(c) };
    } finally {
      release();
    }
  }

  status(): { open: number; active: number; waiting: number } & DialogueService['counters'] {
    return { open: this.open.size, ...this.slots.busy, ...this.counters };
  }

  private find(id: string): Open {
    const c = this.open.get(id);
    if (!c) throw unknown(id);
    if (this.now() - c.lastUsed > this.config.idleTimeoutMs) {
      this.open.delete(id);
      this.counters.expired++;
      throw unknown(id);
    }
    return c;
  }

  private expire(): void {
    const t = this.now();
    for (const [id, c] of [...this.open.entries()]) {
      if (t - c.lastUsed > this.config.idleTimeoutMs) {
        this.open.delete(id);
        this.counters.expired++;
      }
    }
  }
}

function info(c: Open): ConversationInfo {
  return { id: c.id, inspectionId: c.inspectionId, createdAt: c.createdAt, turns: [...c.conversation.history] };
}

function unknown(id: string): AppError {
  return new AppError(ErrorCodes.CONVERSATION_UNKNOWN, `conversation ${id} is unknown, closed or expired`);
}
