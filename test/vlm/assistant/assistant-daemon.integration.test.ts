/**
 * The assistant inside the real daemon (issue 4): the default bundle's few-shot judge on a
 * simulated on-demand camera, the tiny AnomalyGPT bundle (tools/fixtures/anomalygpt/build-tiny-bundle.ts)
 * giving LLM verdicts per assistant.mode, and the dialogue API over real HTTP (JSON and SSE).
 * The tiny bundle has random weights: what is checked is the plumbing (who decides, P(yes)
 * consistency, KV reuse across turns, bounds, errors), not the answers' wording.
 */
import t, { type Test } from 'tap';
import { join } from 'node:path';
import { buildTinyBundle } from '../../../tools/fixtures/anomalygpt/build-tiny-bundle.js';
import { validateConfig } from '../../../src/config/index.js';
import { App } from '../../../src/daemon/app.js';
import { isAppError } from '../../../src/errors.js';
import type { Verdict } from '../../../src/judge/verdict.js';
import { defaultBundleDir, silentLogger } from '../../pipeline/helpers.js';
import { daemonTestdir } from '../../support/testdir.js';

const root = daemonTestdir(t, {});
const tiny = join(root, 'tiny');
t.before(() => buildTinyBundle(tiny, { seed: 3 }));

async function daemon(t: Test, name: string, assistant: Record<string, unknown>, archive: Record<string, unknown> = {}): Promise<{ app: App; base: string }> {
  const dir = join(root, name);
  const config = validateConfig(
    {
      stateDirectory: join(dir, 'state'),
      logging: { level: 'warn' },
      inference: { bundle: await defaultBundleDir(), executionProviders: ['cpu'], warmupRuns: 1, intraOpThreads: 1 },
      cameras: [{ id: 'cam1', recipe: 'sim-part', source: { kind: 'sim', width: 320, height: 240, defectRate: 0.5, seed: 11 }, trigger: { mode: 'on-demand' } }],
      http: { enabled: true, host: '127.0.0.1', port: 0 },
      archive,
      assistant: { enabled: true, bundle: tiny, part: 'bottle', ...assistant },
    },
    'test',
    { baseDir: dir, env: {} },
  );
  const app = new App({ config, logger: silentLogger(), env: {} });
  const started = await app.start();
  t.ok(started.ok, `daemon started (${started.failures.map((f) => f.error.message).join('; ')})`);
  t.teardown(() => app.stop());
  const a = app.httpAddress()!;
  return { app, base: `http://${a.host}:${a.port}` };
}

// Response bodies are checked field by field below.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const asAny = (x: unknown): any => x;
const post = (url: string, body?: unknown, headers: Record<string, string> = {}) =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }) });

async function trigger(app: App, n: number): Promise<Verdict[]> {
  const out: Verdict[] = [];
  for (let i = 0; i < n; i++) out.push(await app.pipeline('cam1')!.trigger());
  return out;
}

/** Server-sent events of a response, parsed. */
async function sse(res: Response): Promise<{ event: string; data: any }[]> {
  const text = await res.text();
  return text
    .split('\n\n')
    .filter((b) => b.trim())
    .map((b) => {
      const event = /^event: (.*)$/m.exec(b)![1];
      const data = JSON.parse(/^data: (.*)$/m.exec(b)![1]);
      return { event, data };
    });
}

t.test('every-frame, overrule both: the LLM decides each frame; on-request P(yes) agrees; multi-turn SSE dialogue reuses the cache', async (t) => {
  const { app, base } = await daemon(t, 'every', { mode: 'every-frame', overrule: 'both', dialogue: { maxAnswerTokens: 12 } });
  const verdicts = await trigger(app, 4);
  for (const v of verdicts) {
    t.ok(v.llm && v.llm.pYes > 0 && v.llm.pYes < 1, 'P(yes) in (0, 1)');
    t.equal(v.pass, v.llm!.pYes < 0.5, 'pass ⇔ P(yes) < ½');
    t.equal(v.confidence, Math.max(v.llm!.pYes, 1 - v.llm!.pYes), 'confidence from P(yes)');
    if (v.pass) t.same(v.locations, [], 'an LLM pass has no locations');
    // Coherent for every reader: fail ⇔ score > threshold with the decider's own figures.
    t.equal(v.pass, !(v.score > v.threshold), 'fail ⇔ score > threshold');
    t.ok(v.judge && typeof v.judge.score === 'number', 'the judge\'s figures are kept under their own name');
    if (v.pass !== v.judge!.pass) {
      t.equal(v.decidedBy, 'llm', `${v.id}: the LLM changed the decision and says so`);
      t.same([v.score, v.threshold], [v.llm!.pYes, 0.5], 'with its own score and boundary');
      t.equal(v.model.id, 'anomalygpt-tiny-random', 'and its own model');
    }
  }
  const st = app.status().assistant as { counters: { llmVerdicts: number; judgeOnly: number; fewShotMaps: number }; fewShot: string[] };
  t.equal(st.counters.llmVerdicts, 4 + 0, 'counted (the warm-up is not an inspection)');
  t.equal(st.counters.judgeOnly, 0);
  // SPEC §4: the recipe keeps its reference images, so the bundle's few-shot map, built from
  // them before READY, replaced the text-prototype map on every frame.
  const recipe = verdicts[0].recipe;
  t.same(st.fewShot, [`${recipe.id}@${recipe.version}`], 'the few-shot map of the recipe version in use is ready');
  t.equal(st.counters.fewShotMaps, 4, 'every LLM verdict saw the few-shot map');

  const v0 = verdicts[0];
  const onRequest = await (await post(`${base}/api/inspections/${v0.id}/llm-verdict`)).json().then(asAny);
  t.ok(Math.abs(onRequest.pYes - v0.llm!.pYes) < 1e-5, `on request, P(yes) ${onRequest.pYes} = hot path ${v0.llm!.pYes}`);

  const created = await post(`${base}/api/inspections/${v0.id}/conversations`);
  t.equal(created.status, 201);
  const conv = await created.json().then(asAny);
  t.equal(conv.inspectionId, v0.id);

  const r1 = await post(`${base}/api/conversations/${conv.id}/messages`, { question: 'Is there any anomaly in the image?' }, { accept: 'text/event-stream' });
  t.equal(r1.status, 200);
  t.match(r1.headers.get('content-type'), /text\/event-stream/);
  const ev1 = await sse(r1);
  const tokens = ev1.filter((e) => e.event === 'token');
  const done1 = ev1.find((e) => e.event === 'done')!.data;
  t.ok(tokens.length >= 1, `${tokens.length} token events streamed`);
  t.equal(ev1[ev1.length - 1].event, 'done', 'ends with done');
  t.equal(done1.tokens, 12, 'the answer budget bounds the answer (random weights never say ###)');
  t.equal(tokens.map((e) => e.data.text).join('').trim().startsWith(done1.answer.slice(0, 5)), true, 'the streamed text is the answer');

  const r2 = await post(`${base}/api/conversations/${conv.id}/messages`, { question: 'Where is it?' });
  t.equal(r2.status, 200, 'JSON answer without text/event-stream');
  const done2 = await r2.json().then(asAny);
  t.equal(done2.turns.length, 2, 'two turns in the history');
  t.equal(done2.turns[0].question, 'Is there any anomaly in the image?');
  t.ok(done2.timings.reusedPositions > done1.timings.reusedPositions, `turn 2 reused ${done2.timings.reusedPositions} cached positions (turn 1: ${done1.timings.reusedPositions})`);
  t.ok(done2.timings.fedPositions < done2.timings.reusedPositions, `and fed only ${done2.timings.fedPositions} new ones`);

  const got = await (await fetch(`${base}/api/conversations/${conv.id}`)).json().then(asAny);
  t.same(got.turns.map((x: { question: string }) => x.question), ['Is there any anomaly in the image?', 'Where is it?']);
  t.equal((await fetch(`${base}/api/conversations/${conv.id}`, { method: 'DELETE' })).status, 204);
  const gone = await fetch(`${base}/api/conversations/${conv.id}`);
  t.equal(gone.status, 404);
  t.equal((await gone.json().then(asAny)).error.code, 'E_CONVERSATION_UNKNOWN');
});

t.test('bad requests get named errors and the daemon keeps running', async (t) => {
  const { app, base } = await daemon(t, 'errors', { mode: 'on-request', dialogue: { maxQuestionChars: 50, maxConcurrent: 1, maxQueued: 0, maxAnswerTokens: 200 } });
  const [v] = await trigger(app, 1);
  const unknown = await post(`${base}/api/inspections/cam1-0-999/conversations`);
  t.equal(unknown.status, 404);
  t.equal((await unknown.json().then(asAny)).error.code, 'E_INSPECTION_UNKNOWN');
  const conv = await (await post(`${base}/api/inspections/${v.id}/conversations`)).json().then(asAny);
  const url = `${base}/api/conversations/${conv.id}/messages`;
  const bad = await post(url, '{nope');
  t.equal(bad.status, 400);
  t.equal((await bad.json().then(asAny)).error.code, 'E_REQUEST_INVALID');
  t.equal((await post(url, { q: 'x' })).status, 400, 'missing question');
  const long = await post(url, { question: 'x'.repeat(51) });
  t.equal(long.status, 400);
  t.match((await long.json().then(asAny)).error.message, /at most 50/);
  t.equal((await post(url, { question: 'y'.repeat(70_000) })).status, 413, 'body over 64 kB');

  // Four answers at once with one slot and no queue: the others are refused with 429.
  const convs = await Promise.all([0, 1, 2, 3].map(async () => (await post(`${base}/api/inspections/${v.id}/conversations`)).json().then(asAny)));
  const results = await Promise.all(convs.map((c) => post(`${base}/api/conversations/${c.id}/messages`, { question: 'Any defect?' })));
  const statuses = results.map((r) => r.status).sort();
  t.ok(statuses.includes(200) && statuses.includes(429), `one answered, the rest refused (${statuses.join(', ')})`);
  const refused = results.find((r) => r.status === 429)!;
  t.equal(refused.headers.get('retry-after'), '1');
  t.equal((await refused.json().then(asAny)).error.code, 'E_LLM_BUSY');
  t.equal(app.state, 'running');
});

t.test('fails-only with the default overrule: the LLM second-guesses the judge\'s fails but never releases one', async (t) => {
  const { app } = await daemon(t, 'fails', { mode: 'fails-only' });
  const verdicts = await trigger(app, 8);
  const asked = verdicts.filter((v) => v.llm !== undefined);
  const judgeFails = verdicts.filter((v) => v.judge && !v.judge.pass);
  t.ok(judgeFails.length > 0 && judgeFails.length < verdicts.length, `the judge passed some and failed some (${judgeFails.length} fails of ${verdicts.length})`);
  t.same(asked.map((v) => v.id), judgeFails.map((v) => v.id), 'the LLM is asked exactly about the judge\'s fails');
  t.ok(verdicts.every((v) => v.decidedBy === 'judge'), 'the judge decides every frame');
  t.ok(judgeFails.every((v) => !v.pass), 'no judge fail became a pass, whatever the LLM said');
  const st = app.status().assistant as { overrule: string; counters: { overruled: number; overruleRefused: number } };
  t.equal(st.overrule, 'pass-to-fail', 'the default policy, shown in status');
  t.equal(st.counters.overruled, 0);
  t.equal(st.counters.overruleRefused, asked.filter((v) => v.llm!.pYes < 0.5).length, 'LLM passes of judge fails counted as refused overrules');
});

t.test('every-frame with the default overrule: the LLM may fail a judge pass, never pass a judge fail', async (t) => {
  const { app } = await daemon(t, 'stricter', { mode: 'every-frame' });
  const verdicts = await trigger(app, 8);
  t.ok(verdicts.every((v) => v.llm !== undefined), 'the LLM was asked about every frame');
  t.ok(verdicts.every((v) => v.judge!.pass || !v.pass), 'a judge fail stays a fail');
  t.ok(verdicts.filter((v) => v.decidedBy === 'llm').every((v) => v.judge!.pass && !v.pass && v.llm!.pYes >= 0.5), 'the LLM decided only where it made a pass a fail');
  t.ok(verdicts.every((v) => v.pass === !(v.score > v.threshold)), 'fail ⇔ score > threshold for every verdict');
});

t.test('on-request: the judge decides every frame; the kept frame or the archived one answers later', async (t) => {
  const { app, base } = await daemon(t, 'on-request', { mode: 'on-request', recentFrames: 1 }, { saveFrames: 'all' });
  const verdicts = await trigger(app, 3);
  t.ok(verdicts.every((v) => v.decidedBy === 'judge' && v.llm === undefined), 'no LLM on the hot path');
  const deadline = Date.now() + 10_000;
  while ((app.status().archive as { records: number }).records < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  // The newest frame is in memory; the first is only in the archive (recentFrames: 1).
  for (const v of [verdicts[2], verdicts[0]]) {
    const res = await post(`${base}/api/inspections/${v.id}/llm-verdict`);
    t.equal(res.status, 200, `${v.id} answered`);
    const body = await res.json().then(asAny);
    t.ok(body.pYes > 0 && body.pYes < 1 && body.anomalous === body.pYes >= 0.5, `P(yes) ${body.pYes}`);
    t.ok(body.visionMs > 0, 'the image was analysed on request');
  }
  const again = await (await post(`${base}/api/inspections/${verdicts[0].id}/llm-verdict`)).json().then(asAny);
  t.equal(again.visionMs < 5, true, 'the second request reuses the kept LLM inputs');
  const st = app.status().assistant as { counters: { llmVerdicts: number; judgeOnly: number } };
  t.same([st.counters.llmVerdicts, st.counters.judgeOnly], [0, 3], 'hot-path counters');
});

t.test('configuration: bundle required, unknown part fails the start with E_PART_UNKNOWN', async (t) => {
  const dir = join(root, 'cfg');
  t.throws(
    () =>
      validateConfig(
        { inference: { bundle: 'b' }, cameras: [{ id: 'c', recipe: 'r', source: { kind: 'sim' } }], assistant: { enabled: true } },
        'test',
        { baseDir: dir, env: {} },
      ),
    /assistant\.bundle/,
  );
  const config = validateConfig(
    {
      stateDirectory: join(dir, 'state'),
      logging: { level: 'warn' },
      inference: { bundle: await defaultBundleDir(), executionProviders: ['cpu'], warmupRuns: 1 },
      cameras: [{ id: 'cam1', recipe: 'sim-part', source: { kind: 'sim' }, trigger: { mode: 'on-demand' } }],
      http: { enabled: false },
      assistant: { enabled: true, bundle: tiny, part: 'gearbox' },
    },
    'test',
    { baseDir: dir, env: {} },
  );
  const app = new App({ config, logger: silentLogger(), env: {} });
  const r = await app.start();
  t.equal(r.ok, false, 'the start fails');
  const f = r.failures.find((x) => x.component === 'assistant');
  t.ok(f && isAppError(f.error, 'E_PART_UNKNOWN'), `assistant failed with E_PART_UNKNOWN (${f?.error.message})`);
  t.equal(app.state === 'running', false);
});
