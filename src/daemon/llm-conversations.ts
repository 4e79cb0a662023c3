/**
 * The AnomalyGPT LLM as a source of conversations for the generic dialogue service
 * (src/dialogue/): each conversation is the LLM Conversation of the inspection's image
 * (src/vlm/conversation.ts, KV cache reused across turns), its tokens streamed as answer pieces.
 * Here, in the composition root, because dialogue/ must not know vlm/ and vlm/ need not know
 * the dialogue service (README "Import rules").
 */
import type { AskOptions, AskResult, Askable, ConversationLimits, ConversationSource } from '../dialogue/types.js';
import type { Assistant } from '../vlm/assistant/assistant.js';
import type { Conversation } from '../vlm/conversation.js';

class LlmAskable implements Askable {
  constructor(
    private readonly conversation: Conversation,
    private readonly maxAnswerTokens: number,
  ) {}

  get history(): Askable['history'] {
    return this.conversation.history;
  }

  async ask(question: string, opts: AskOptions = {}): Promise<AskResult> {
    const a = await this.conversation.ask(question, {
      maxNewTokens: this.maxAnswerTokens,
      ...(opts.onToken ? { onToken: (e: { text: string; index: number }) => opts.onToken!({ text: e.text, index: e.index }) } : {}),
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
    return {
      answer: a.answer,
      tokens: a.ids.length,
      timings: { prefillMs: a.prefill.ms, decodeMs: a.decodeMs, reusedPositions: a.prefill.reused, fedPositions: a.prefill.fed },
    };
  }
}

export class LlmConversations implements ConversationSource {
  readonly mode = 'llm' as const;

  constructor(private readonly assistant: Pick<Assistant, 'conversationFor'>) {}

  async conversationFor(inspectionId: string, limits: ConversationLimits): Promise<Askable> {
    return new LlmAskable(await this.assistant.conversationFor(inspectionId, limits), limits.maxAnswerTokens);
  }
}

/** GET /api/assistant with a language model: its bundle, once loaded. */
export function llmAssistantInfo(assistant: Pick<Assistant, 'status' | 'anomalyGpt'>): { mode: 'llm'; model?: { id: string; version: string } } {
  if (!assistant.status().loaded) return { mode: 'llm' };
  const m = assistant.anomalyGpt.manifest;
  return { mode: 'llm', model: { id: m.id, version: m.version } };
}
