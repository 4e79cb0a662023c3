/**
 * Conversations about inspections (issue 4 "Dialogue API", issue 10 item 3), whoever answers:
 * each is bound to one inspection id and keeps its own multi-turn history (an Askable from the
 * ConversationSource: the AnomalyGPT LLM through the daemon's adapter, or the grounded
 * answerer). Bounded everywhere: open conversations (LRU + idle timeout), question length, and
 * answers given at once (the rest wait in a short queue, beyond it E_LLM_BUSY); the LLM bounds
 * its own answer tokens and history.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { DialogueConfig } from '../config/assistant.js';
import { AppError, ErrorCodes } from '../errors.js';
import { RecentMap } from '../util/recent-map.js';
import { Slots } from './slots.js';
import type { AskOptions, AskResult, Askable, ConversationSource, DialogueMode, Turn } from './types.js';

interface Open {
  readonly id: string;
  readonly inspectionId: string;
  readonly createdAt: number;
  lastUsed: number;
  readonly conversation: Askable;
}

export interface ConversationInfo {
  readonly id: string;
  readonly inspectionId: string;
  /** Who answers: the language model, or the grounded answerer (no language model). */
  readonly mode: DialogueMode;
  readonly createdAt: number;
  readonly turns: readonly Turn[];
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
    return this.info(c);
  }

  get(id: string): ConversationInfo {
    return this.info(this.find(id));
  }

  close(id: string): void {
    if (!this.open.delete(id)) throw unknown(id);
  }

  /** One turn; `onToken` streams the answer. Validates before waiting for a slot. */
  async ask(id: string, question: string, opts: AskOptions = {}): Promise<AskResult & { conversation: ConversationInfo }> {
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
        ...(opts.onToken ? { onToken: opts.onToken } : {}),
        ...(opts.signal ? { signal: opts.signal } : {}),
      });
      c.lastUsed = this.now();
      this.counters.answers++;
      return { ...answer, conversation: this.info(c) };
    } finally {
      release();
    }
  }

  status(): { open: number; active: number; waiting: number } & DialogueService['counters'] {
    return { open: this.open.size, ...this.slots.busy, ...this.counters };
  }

  /** Who answers in this service's conversations. */
  get mode(): DialogueMode {
    return this.source.mode;
  }

  private info(c: Open): ConversationInfo {
    return { id: c.id, inspectionId: c.inspectionId, mode: this.source.mode, createdAt: c.createdAt, turns: [...c.conversation.history] };
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

function unknown(id: string): AppError {
  return new AppError(ErrorCodes.CONVERSATION_UNKNOWN, `conversation ${id} is unknown, closed or expired`);
}
