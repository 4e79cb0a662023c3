/**
 * The `assistant:` slice of the daemon configuration: the AnomalyGPT bundle (vision-language
 * model) that gives the threshold-free LLM verdict (issue 4) and answers technicians' questions
 * about an inspection. Off by default: the embedded default bundle has no LLM.
 *
 * `mode` is the latency trade-off (README "LLM verdict"): the LLM verdict costs one ImageBind
 * encoder pass plus one LLM prefill per frame on top of the few-shot judge, so
 *   every-frame   every verdict is the LLM's (the judge is the fallback when it fails);
 *   fails-only    the judge decides passes; its fails get the LLM's second opinion;
 *   on-request    the LLM runs only when asked (HTTP), the judge decides every frame;
 *   rate          like every-frame, at most `maxPerSecond` per camera (a token bucket), the judge otherwise.
 *
 * `overrule` is who may change the judge's decision when the LLM is asked. Vision-language
 * models still answer "is it defective?" at 53–74 % accuracy on MMAD (GPT-4o included), far
 * below a calibrated visual detector, so by default the LLM may only make a decision stricter:
 *   never         the LLM's opinion is recorded (verdict.llm), the judge always decides;
 *   pass-to-fail  the LLM may fail a part the judge passed, never pass one the judge failed;
 *   both          the LLM decides whenever it is asked (said explicitly, or not at all).
 */
import { Type, type Static } from '@sinclair/typebox';

const Strict = { additionalProperties: false } as const;

export const ASSISTANT_MODES = ['every-frame', 'fails-only', 'on-request', 'rate'] as const;
export const OVERRULE_POLICIES = ['never', 'pass-to-fail', 'both'] as const;
export type OverrulePolicy = (typeof OVERRULE_POLICIES)[number];

const DialogueSchema = Type.Object(
  {
    maxConversations: Type.Integer({ minimum: 1, maximum: 1000, default: 16, description: 'open conversations kept; the least recently used is closed beyond this' }),
    idleTimeoutMs: Type.Integer({ minimum: 1000, default: 900000, description: 'a conversation unused this long is closed' }),
    maxTurns: Type.Integer({ minimum: 1, maximum: 64, default: 8, description: 'turns kept in the history sent to the LLM (SPEC §6); older ones are dropped' }),
    maxHistoryTokens: Type.Integer({ minimum: 16, maximum: 32768, default: 1024, description: 'tokens the history and question may take; the oldest turns are dropped until they fit' }),
    maxAnswerTokens: Type.Integer({ minimum: 1, maximum: 2048, default: 128 }),
    maxQuestionChars: Type.Integer({ minimum: 1, maximum: 20000, default: 1000 }),
    maxConcurrent: Type.Integer({ minimum: 1, maximum: 16, default: 1, description: 'answers generated at the same time' }),
    maxQueued: Type.Integer({ minimum: 0, maximum: 256, default: 4, description: 'answers waiting beyond maxConcurrent; more are refused (HTTP 429)' }),
  },
  { ...Strict, default: {} },
);

export const AssistantConfigSchema = Type.Object(
  {
    enabled: Type.Boolean({ default: false }),
    bundle: Type.Optional(Type.String({ minLength: 1, description: 'AnomalyGPT bundle folder (models/anomalygpt/README.md); relative to the config file' })),
    part: Type.String({ minLength: 1, default: 'object', description: 'part name for the text prototypes (SPEC §3), resolved exactly; "object" is the seed\'s generic class' }),
    question: Type.Optional(Type.String({ minLength: 1, description: 'default: the seed\'s description of the part + "Is there any anomaly in the image?" (SPEC §6)' })),
    mode: Type.Union(ASSISTANT_MODES.map((m) => Type.Literal(m)), { default: 'fails-only' }),
    overrule: Type.Union(OVERRULE_POLICIES.map((m) => Type.Literal(m)), {
      default: 'pass-to-fail',
      description: "who may change the judge's decision: never (the LLM only advises), pass-to-fail (default: stricter only), both",
    }),
    maxPerSecond: Type.Number({ exclusiveMinimum: 0, default: 1, description: 'mode rate: LLM verdicts per second per camera' }),
    recentInspections: Type.Integer({ minimum: 1, maximum: 10000, default: 64, description: 'inspections whose LLM inputs (or frame) are kept in memory for questions' }),
    recentFrames: Type.Integer({ minimum: 0, maximum: 1000, default: 8, description: 'frames not analysed by the LLM kept (as copies) so questions about them need no archive' }),
    dialogue: DialogueSchema,
  },
  { ...Strict, default: {} },
);

export type AssistantConfig = Static<typeof AssistantConfigSchema>;
export type DialogueConfig = Static<typeof DialogueSchema>;
