/**
 * The vocabulary of conversations about inspections, whoever answers them: the AnomalyGPT LLM
 * (src/vlm/, wired by the daemon through an adapter) or the grounded answerer (./grounded/),
 * which needs no language model. The dialogue service (dialogue-service.ts) bounds them all
 * the same way; the HTTP routes stream their answers the same way (`token` … `done`).
 */

/** One question and its answer (the SPEC §6 history turn; src/vlm/prompt-format.ts has the same shape). */
export interface Turn {
  readonly question: string;
  readonly answer: string;
}

/** A piece of an answer as it is produced: an LLM token, or a word of a grounded answer. */
export interface AnswerPiece {
  readonly text: string;
  /** 0-based index among the answer's pieces. */
  readonly index: number;
}

export interface AskOptions {
  readonly onToken?: (piece: AnswerPiece) => void;
  /** Aborted when the client goes away: the answer stops; what was said still counts as the turn. */
  readonly signal?: AbortSignal;
}

/** Where a grounded answer's figures come from. */
export type FactSource = 'inspection' | 'recipe' | 'archive' | 'question' | 'clock';

/** One figure or name a grounded answer was composed from, and how the answer shows it. */
export interface Fact {
  readonly key: string;
  readonly value: number | string | boolean | null;
  readonly unit?: string;
  readonly source: FactSource;
  /** The text the answer uses for this fact (every number in an answer is one of these). */
  readonly shown: string;
}

/** What a grounded answer was made of, for the page (done.grounded). */
export interface GroundedFacts {
  /** The main topic answered (see grounded/topics.ts), or 'unknown'. */
  readonly topic: string;
  /** Every topic answered, main first (a question may ask for two, e.g. "why and where?"). */
  readonly topics: readonly string[];
  readonly facts: readonly Fact[];
}

export interface AskResult {
  readonly answer: string;
  /** LLM tokens generated, or pieces streamed by the grounded answerer. */
  readonly tokens: number;
  /** Named durations and counts of this answer (LLM: prefillMs, decodeMs, reusedPositions, fedPositions). */
  readonly timings: Readonly<Record<string, number>>;
  readonly grounded?: GroundedFacts;
}

/** One conversation about one inspection: its history and the next turn. */
export interface Askable {
  readonly history: readonly Turn[];
  ask(question: string, opts?: AskOptions): Promise<AskResult>;
}

export interface ConversationLimits {
  /** Turns kept in the history; older ones are dropped. */
  readonly maxTurns: number;
  /** LLM only: tokens the history and the question may take. */
  readonly maxHistoryTokens: number;
  /** LLM only: tokens one answer may take. */
  readonly maxAnswerTokens: number;
}

export type DialogueMode = 'llm' | 'grounded';

/** Makes conversations about inspections (throws E_INSPECTION_UNKNOWN for an id it cannot answer about). */
export interface ConversationSource {
  readonly mode: DialogueMode;
  conversationFor(inspectionId: string, limits: ConversationLimits): Promise<Askable>;
}
