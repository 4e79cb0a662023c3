/**
 * The generic dialogue service over any Askable: the bounds it keeps whoever answers (open
 * conversations LRU, idle expiry, question length, answers at once) and what it passes through
 * (pieces, history, mode). The Askable here is a small real implementation whose answers wait
 * on a gate the test opens, so "answers at once" can be observed deterministically.
 */
import t from 'tap';
import { DialogueService } from '../../src/dialogue/dialogue-service.js';
import type { AskOptions, AskResult, Askable, ConversationLimits, ConversationSource, Turn } from '../../src/dialogue/types.js';
import { AppError, ErrorCodes, isAppError } from '../../src/errors.js';
import { silentLogger } from '../support/logger.js';

class EchoConversation implements Askable {
  readonly history: Turn[] = [];
  constructor(
    readonly inspectionId: string,
    private readonly limits: ConversationLimits,
    private readonly gate: () => Promise<void>,
  ) {}

  async ask(question: string, opts: AskOptions = {}): Promise<AskResult> {
    await this.gate();
    const words = `about ${this.inspectionId}: ${question}`.match(/\S+\s*/g)!;
    words.forEach((text, index) => opts.onToken?.({ text, index }));
    const answer = words.join('');
    this.history.push({ question, answer });
    if (this.history.length > this.limits.maxTurns) this.history.shift();
    return { answer, tokens: words.length, timings: { composeMs: 0 } };
  }
}

class EchoSource implements ConversationSource {
  readonly mode = 'grounded' as const;
  gates: (() => void)[] = [];
  gated = false;
  async conversationFor(inspectionId: string, limits: ConversationLimits): Promise<Askable> {
    if (inspectionId === 'nope') throw new AppError(ErrorCodes.INSPECTION_UNKNOWN, 'unknown');
    return new EchoConversation(inspectionId, limits, () => (this.gated ? new Promise<void>((r) => this.gates.push(r)) : Promise.resolve()));
  }
}

const config = { maxConversations: 2, idleTimeoutMs: 1000, maxTurns: 2, maxHistoryTokens: 64, maxAnswerTokens: 16, maxQuestionChars: 20, maxConcurrent: 1, maxQueued: 1 };

t.test('conversations: created per inspection, answered with pieces, history bounded, closed', async (t) => {
  const svc = new DialogueService(config, new EchoSource(), silentLogger());
  t.equal(svc.mode, 'grounded');
  const c = await svc.create('insp-1');
  t.match(c, { inspectionId: 'insp-1', mode: 'grounded', turns: [] });
  const pieces: string[] = [];
  const a = await svc.ask(c.id, '  where?  ', { onToken: (p) => pieces.push(p.text) });
  t.equal(a.answer, 'about insp-1: where?', 'the question is trimmed');
  t.equal(pieces.join(''), a.answer, 'the pieces make the answer');
  t.equal(a.tokens, 3);
  await svc.ask(c.id, 'why?');
  const third = await svc.ask(c.id, 'how sure?');
  t.same(third.conversation.turns.map((x) => x.question), ['why?', 'how sure?'], 'maxTurns 2 keeps the last two');
  t.equal(svc.status().answers, 3);
  await t.rejects(svc.create('nope'), { code: 'E_INSPECTION_UNKNOWN' });
  svc.close(c.id);
  t.throws(() => svc.get(c.id), { code: 'E_CONVERSATION_UNKNOWN' });
  t.throws(() => svc.close(c.id), { code: 'E_CONVERSATION_UNKNOWN' });
});

t.test('bounds: question length, LRU of open conversations, idle expiry', async (t) => {
  let now = 0;
  const svc = new DialogueService(config, new EchoSource(), silentLogger(), () => now);
  const a = await svc.create('a');
  await t.rejects(svc.ask(a.id, '   '), { code: 'E_REQUEST_INVALID', message: /must not be empty/ });
  await t.rejects(svc.ask(a.id, 'x'.repeat(21)), { code: 'E_REQUEST_INVALID', message: /21 characters, at most 20/ });
  const b = await svc.create('b');
  svc.get(a.id); // a is now the most recently used
  await svc.create('c');
  t.throws(() => svc.get(b.id), { code: 'E_CONVERSATION_UNKNOWN' }, 'the least recently used of three is closed (maxConversations 2)');
  t.equal(svc.get(a.id).inspectionId, 'a');
  now = 1001;
  t.throws(() => svc.get(a.id), { code: 'E_CONVERSATION_UNKNOWN' }, 'idle past idleTimeoutMs');
  t.equal(svc.status().expired, 1);
});

t.test('answers at once: one running, one queued, the next refused with E_LLM_BUSY', async (t) => {
  const source = new EchoSource();
  const svc = new DialogueService({ ...config, maxConversations: 3 }, source, silentLogger());
  const ids = await Promise.all(['a', 'b', 'c'].map(async (x) => (await svc.create(x)).id));
  source.gated = true;
  const first = svc.ask(ids[0], 'one');
  const second = svc.ask(ids[1], 'two');
  await new Promise((r) => setImmediate(r));
  t.match(svc.status(), { active: 1, waiting: 1 });
  const third = await svc.ask(ids[2], 'three').then(() => undefined, (e: unknown) => e);
  t.ok(isAppError(third, ErrorCodes.LLM_BUSY), 'the third is refused');
  t.equal(svc.status().refusedBusy, 1);
  source.gates.shift()!();
  t.equal((await first).answer, 'about a: one');
  await new Promise((r) => setImmediate(r));
  source.gates.shift()!();
  t.equal((await second).answer, 'about b: two', 'the queued one got the slot next');
  t.match(svc.status(), { active: 0, waiting: 0, answers: 2 });
});
