/**
 * The grounded answerer against real peers: a real inspection record (SQLite, writer thread) in
 * a temp folder filled with the hand-made line history (line-history.ts), the real HTTP server
 * with the dialogue routes, questions over loopback as JSON and as Server-Sent Events. Every
 * figure asserted is worked out by hand in line-history.ts. TZ=UTC for this process, so the
 * times the answers show are the UTC times written there.
 */
process.env.TZ = 'UTC';
import t, { type Test } from 'tap';
import { InspectionRecord } from '../../../src/archive/inspection-record.js';
import { DialogueService } from '../../../src/dialogue/dialogue-service.js';
import { GroundedConversations, groundedAssistantInfo } from '../../../src/dialogue/grounded/grounded-conversation.js';
import type { DialogueConfig } from '../../../src/config/assistant.js';
import { dialogueRoutes } from '../../../src/http/dialogue-routes.js';
import { HttpServer } from '../../../src/http/http-server.js';
import { silentLogger } from '../../support/logger.js';
import { recordConfig } from '../../archive/fixtures.js';
import { F1, F2, F7, G, NOW, P9, T, lineHistory, recipeLookup } from './line-history.js';

const DIALOGUE: DialogueConfig = { maxConversations: 16, idleTimeoutMs: 900_000, maxTurns: 8, maxHistoryTokens: 1024, maxAnswerTokens: 128, maxQuestionChars: 200, maxConcurrent: 1, maxQueued: 0 };

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;
const asJson = (x: unknown): Json => x;

async function serve(t: Test): Promise<{ base: string; record: InspectionRecord; dialogue: DialogueService }> {
  const record = new InspectionRecord(recordConfig(t.testdir(), { saveFrames: 'none' }), silentLogger());
  await record.start();
  for (const v of lineHistory()) await record.append(v);
  const dialogue = new DialogueService(DIALOGUE, new GroundedConversations({ archive: record, recipes: recipeLookup, cameras: () => ['cam1', 'cam2'], now: () => NOW }), silentLogger());
  dialogue.start();
  const http = new HttpServer({ host: '127.0.0.1', port: 0, logger: silentLogger(), routes: [dialogueRoutes(dialogue, { assistant: groundedAssistantInfo })] });
  await http.start();
  t.teardown(async () => {
    await http.stop();
    dialogue.stop();
    await record.stop();
  });
  const a = http.address();
  return { base: `http://${a.host}:${a.port}`, record, dialogue };
}

const post = (url: string, body?: unknown, headers: Record<string, string> = {}) =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });

async function sse(res: Response): Promise<{ event: string; data: Json }[]> {
  return (await res.text())
    .split('\n\n')
    .filter((b) => b.trim() && !b.startsWith(':'))
    .map((b) => ({ event: /^event: (.*)$/m.exec(b)![1], data: JSON.parse(/^data: (.*)$/m.exec(b)![1]) }));
}

/** Every digit in the answer lies inside the text shown for one of its facts. */
function onlyLookedUpNumbers(t: Test, done: Json): void {
  let rest: string = done.answer;
  const shown = (done.grounded.facts as { shown: string }[]).map((f) => f.shown).sort((a, b) => b.length - a.length);
  for (const s of shown) rest = rest.split(s).join('');
  t.notMatch(rest, /\d/, `no number that was not looked up (left: ${JSON.stringify(rest.match(/.{0,20}\d.{0,20}/)?.[0] ?? '')})`);
}

async function conversation(base: string, inspectionId: string): Promise<(q: string) => Promise<Json>> {
  const res = await post(`${base}/api/inspections/${encodeURIComponent(inspectionId)}/conversations`);
  const c = await res.json().then(asJson);
  return async (question: string) => {
    const r = await post(`${base}/api/conversations/${c.id}/messages`, { question });
    const body = await r.json().then(asJson);
    if (r.status !== 200) throw new Error(`${r.status} ${JSON.stringify(body)}`);
    return body;
  };
}

t.test('the assistant says who answers; a conversation is grounded', async (t) => {
  const { base } = await serve(t);
  const info = await (await fetch(`${base}/api/assistant`)).json().then(asJson);
  t.equal(info.mode, 'grounded');
  t.match(info.notice, /No language model is loaded/);
  t.same(info.topics.map((x: Json) => x.topic), ['why', 'where', 'confidence', 'recipe', 'compare', 'similar', 'counts', 'timing', 'verdict', 'help']);
  const res = await post(`${base}/api/inspections/${encodeURIComponent(T.id)}/conversations`);
  t.equal(res.status, 201);
  t.match(await res.json().then(asJson), { inspectionId: T.id, mode: 'grounded', turns: [] });
  const llm = await post(`${base}/api/inspections/${encodeURIComponent(T.id)}/llm-verdict`);
  t.equal(llm.status, 409);
  t.equal((await llm.json().then(asJson)).error.code, 'E_LLM_UNAVAILABLE');
  const unknown = await post(`${base}/api/inspections/nope/conversations`);
  t.equal(unknown.status, 404);
  t.equal((await unknown.json().then(asJson)).error.code, 'E_INSPECTION_UNKNOWN');
});

t.test('streamed: token events word by word, then done whose answer is their concatenation', async (t) => {
  const { base } = await serve(t);
  const c = await (await post(`${base}/api/inspections/${encodeURIComponent(T.id)}/conversations`)).json().then(asJson);
  const res = await post(`${base}/api/conversations/${c.id}/messages`, { question: 'Why did it fail?' }, { accept: 'text/event-stream' });
  t.equal(res.status, 200);
  t.match(res.headers.get('content-type'), /text\/event-stream/);
  const events = await sse(res);
  const tokens = events.filter((e) => e.event === 'token');
  const done = events[events.length - 1];
  t.equal(done.event, 'done', 'ends with done');
  t.ok(tokens.length >= 2, `${tokens.length} token events`);
  t.same(tokens.map((e) => e.data.index), tokens.map((_, i) => i), 'indexed in order');
  t.equal(tokens.map((e) => e.data.text).join(''), done.data.answer, 'the answer is the concatenation of the tokens');
  t.ok(tokens.every((e) => e.data.text.trim().split(/\s+/).length === 1), 'each token one word');
  t.equal(done.data.tokens, tokens.length);
  t.equal(done.data.mode, 'grounded');
  t.equal(done.data.grounded.topic, 'why');
  t.same(done.data.turns, [{ question: 'Why did it fail?', answer: done.data.answer }]);
});

t.test('one conversation, many turns: every topic with its exact figures, follow-ups included', async (t) => {
  const { base } = await serve(t);
  const ask = await conversation(base, T.id);
  const check = async (q: string, topic: string, ...want: (string | RegExp)[]) => {
    const a = await ask(q);
    t.equal(a.grounded.topic, topic, `${q} → ${topic}`);
    for (const w of want) t.match(a.answer, w, `${q}: ${w}`);
    onlyLookedUpNumbers(t, a);
    return a;
  };

  const why = await check('Why did it fail?', 'why', 'anomaly score 0.520 is above the boundary 0.400 by 0.120 (30.0 % of the boundary)', 'The few-shot judge decided, with recipe bottle version 1.', 'strongest region (top left) peaks at 0.610');
  t.ok(why.grounded.facts.some((f: Json) => f.key === 'score' && f.value === 0.52 && f.source === 'inspection' && f.shown === '0.520'), 'the facts beside the words');
  t.ok(why.grounded.facts.some((f: Json) => f.key === 'threshold' && f.value === 0.4), 'the boundary among them');
  await check('and where?', 'where',
    '2 defect regions in the frame (320×240 px)',
    '- top left: box at x 40, y 20, 30×20 px; area 600 px = 0.8 % of the frame; peak score 0.610',
    '- bottom right: box at x 200, y 150, 10×10 px; area 90 px = 0.1 % of the frame; peak score 0.450',
    'Together 690 px = 0.9 % of the frame.',
    'the record keeps no outline of the part');
  await check('how sure?', 'confidence', 'Confidence 0.910 in the FAIL', 'the score 0.520 is above the boundary 0.400 by 0.120 (30.0 % of the boundary)');
  await check('Which recipe and references decided?', 'recipe',
    'Recipe bottle, version 1, decided with the few-shot judge on model mobilenetv2-nsfwjs 1.0.0',
    'made from 4 good references: good-01.png, good-02.png, good-03.png and good-04.png',
    'boundary 0.400 was derived from those references alone, by the rule "held-out + 0.25·(synthetic − normal)": normal level 0.300, synthetic-defect level 0.700');
  await check('How does it compare with recent passes?', 'compare',
    'last 12 passes of recipe bottle on camera cam1 (2025-03-10 08:00:00 to 2025-03-14 09:45:00): this part\'s score 0.520 is higher than 100.0 % of them',
    'Their median is 0.200 (50.0 % of this part\'s boundary 0.400), their highest 0.380');
  await check('and today?', 'compare', 'last 10 passes', 'from 2025-03-14 00:00:00 to 2025-03-14 10:30:00', 'median is 0.200');
  const similar = await check('Have we seen this defect before?', 'similar',
    '3 of the last 6 fails on camera cam1 are similar to this part',
    'in the same place (top left and bottom right), and a judge score within 0.100 of its 0.520:');
  const listed = similar.answer.split('\n').slice(1);
  t.same(listed, [
    `- ${F1.id} at 2025-03-14 08:00:00: score 0.500, top left, overlapping box`,
    `- ${F7.id} at 2025-03-14 09:55:00: score 0.450, bottom right, overlapping box`,
    `- ${F2.id} at 2025-03-14 08:30:00: score 0.550, top left, same place word`,
  ], 'overlaps first, closest score first; later fails, other cameras, far scores and other places left out');
  await check('How many failed today?', 'counts', 'Camera cam1, from 2025-03-14 00:00:00 to 2025-03-14 10:30:00 (today): 18 inspected, 11 passed, 7 failed: yield 61.1 %.');
  await check('and yesterday?', 'counts', 'Camera cam1, from 2025-03-13 00:00:00 to 2025-03-14 00:00:00 (yesterday): 1 inspected, 1 passed, 0 failed: yield 100.0 %.');
  await check('what about cam2?', 'counts', /^Camera cam2, from 2025-03-13 10:30:00 to 2025-03-14 10:30:00 \(you named no time range, so the last 24 hours\): 7 inspected, 4 passed, 3 failed: yield 57\.1 %\.$/);
  await check('and today?', 'counts', 'Camera cam2, from 2025-03-14 00:00:00 to 2025-03-14 10:30:00 (today): 4 inspected, 2 passed, 2 failed: yield 50.0 %.');
  const all = await check('yield on all cameras this week', 'counts', 'All cameras, from 2025-03-10 00:00:00 to 2025-03-14 10:30:00 (this week, from Monday): 27 inspected, 17 passed, 10 failed: yield 63.0 %.');
  t.same(all.answer.split('\n').slice(1), ['- cam1: 20 inspected, 13 passed, 7 failed: yield 65.0 %', '- cam2: 7 inspected, 4 passed, 3 failed: yield 57.1 %']);
  await check('how many in the last hour on cam1', 'counts', 'Camera cam1, from 2025-03-14 09:30:00 to 2025-03-14 10:30:00 (the last hour): 8 inspected, 5 passed, 3 failed: yield 62.5 %.');
  await check('how many failed since 06:00 on cam2', 'counts', 'Camera cam2, from 2025-03-14 06:00:00 to 2025-03-14 10:30:00: 4 inspected, 2 passed, 2 failed');
  await check('How many failed?', 'counts', 'Camera cam1, from 2025-03-13 10:30:00 to 2025-03-14 10:30:00 (you named no time range, so the last 24 hours): 19 inspected, 12 passed, 7 failed: yield 63.2 %.');
  await check('yeild this month', 'counts', '(this month)', 'The record holds nothing captured before 2025-03-09 12:00:00');
  await check('When was it inspected and how long did it take?', 'timing', 'Captured 2025-03-14 10:00:00 on camera cam1, decided 12.0 ms later', 'encoder 3.9 ms', 'inspection total 8.0 ms');
  const two = await check('why did it fial and where?', 'why', 'above the boundary 0.400 by 0.120', 'top left: box at x 40');
  t.same(two.grounded.topics, ['why', 'where'], 'two topics answered in one');
  await check('did it pass?', 'verdict', `Inspection ${T.id} (camera cam1, 2025-03-14 10:00:00): FAIL.`, 'Score 0.520 against the boundary 0.400', '2 defect regions: top left and bottom right');

  const turns = (await (await fetch(`${base}/api/conversations/${(await (await post(`${base}/api/inspections/${encodeURIComponent(T.id)}/conversations`)).json().then(asJson)).id}`)).json().then(asJson)).turns;
  t.same(turns, [], 'a new conversation starts empty');
});

t.test('unanswerable questions get the list of what can be asked, never a number', async (t) => {
  const { base } = await serve(t);
  const ask = await conversation(base, T.id);
  for (const q of ["What's the temperature?", 'Who made this part?', 'Will the next one fail?', 'what is the serial number']) {
    const a = await ask(q);
    t.equal(a.grounded.topic, 'unknown', q);
    t.same(a.grounded.facts, []);
    t.notMatch(a.answer, /\d/, `${q}: no digits at all`);
    t.match(a.answer, /No language model is loaded/);
    t.match(a.answer, /I can answer:\n- why it failed or passed/);
    t.equal(a.answer.split('\n').filter((l: string) => l.startsWith('- ')).length, 9, 'every topic listed');
  }
  const help = await ask('what can I ask?');
  t.equal(help.grounded.topic, 'help');
  t.notMatch(help.answer, /\d/);
  const after = await ask('and yesterday?');
  t.equal(after.grounded.topic, 'counts', 'an unanswered turn does not break the follow-ups');
});

t.test('another inspection: an LLM decision, a recipe changed since, a pass', async (t) => {
  const { base } = await serve(t);
  const g = await conversation(base, G.id);
  const why = await g('why did it fail');
  t.match(why.answer, 'because the language model (agpt-tiny 1) answered "yes" to whether there is an anomaly: its P(yes) 0.810 is above the boundary 0.500 by 0.310 (62.0 % of the boundary)');
  t.match(why.answer, "the few-shot judge's score 0.300 is below its boundary 0.350 by 0.0500 (14.3 % of the boundary): it would have passed the part");
  onlyLookedUpNumbers(t, why);
  const recipe = await g('which recipe?');
  t.match(recipe.answer, 'The language model decided (model agpt-tiny 1). The few-shot judge beside it used recipe cap version 7 on model mobilenetv2-nsfwjs 1.0.0 and would have passed the part.');
  t.match(recipe.answer, 'The recipe has changed since: the version loaded now is 8');
  t.match(recipe.answer, 'made from 2 good references: cap-a.png and cap-b.png');
  const sure = await g('how confident?');
  t.match(sure.answer, 'Confidence 0.810 in the FAIL');
  t.match(sure.answer, 'The few-shot judge on its own was 0.700 confident that the part passes.');
  const where = await g('where?');
  t.match(where.answer, 'area 320 px = 0.4 % of the frame');
  t.match(where.answer, "The regions are the few-shot judge's");
  const timing = await g('how long did it take');
  t.match(timing.answer, 'The language model took 7.8 ms for its vision path and 2.3 ms for its prefill.');

  const p = await conversation(base, P9.id);
  t.match((await p('why did it pass?')).answer, 'It passed because its anomaly score 0.380 is below the boundary 0.400 by 0.0200 (5.0 % of the boundary)');
  t.equal((await p('where is the defect?')).answer, 'It passed: no defect regions were recorded.');
  t.match((await p('seen this before?')).answer, /^This part passed: it has no defect to look for/);
  t.match((await p('how does it compare with the others?')).answer, 'last 11 passes');
});

t.test('bounds hold: question length, answers at once', async (t) => {
  const { base } = await serve(t);
  const c = await (await post(`${base}/api/inspections/${encodeURIComponent(T.id)}/conversations`)).json().then(asJson);
  const long = await post(`${base}/api/conversations/${c.id}/messages`, { question: 'why '.repeat(60) });
  t.equal(long.status, 400);
  t.match((await long.json().then(asJson)).error.message, /at most 200/);
  t.equal((await post(`${base}/api/conversations/${c.id}/messages`, { question: ' ' })).status, 400);
  t.equal((await post(`${base}/api/conversations/nope/messages`, { question: 'why?' })).status, 404);
  // maxConcurrent 1, maxQueued 0: an answer holds its slot while its words stream, so
  // questions sent at once are refused beyond the first.
  const convs = await Promise.all(Array.from({ length: 6 }, async () => (await post(`${base}/api/inspections/${encodeURIComponent(T.id)}/conversations`)).json().then(asJson)));
  const results = await Promise.all(convs.map((x) => post(`${base}/api/conversations/${x.id}/messages`, { question: 'Have we seen this defect before, and where is it?' })));
  const statuses = results.map((r) => r.status);
  t.ok(statuses.includes(200) && statuses.includes(429), `answered and refused (${statuses.join(', ')})`);
  const refused = results.find((r) => r.status === 429)!;
  t.equal(refused.headers.get('retry-after'), '1');
  t.equal((await refused.json().then(asJson)).error.code, 'E_LLM_BUSY');
});
