/**
 * The grounded answerer in the real daemon, wired by default (no assistant configured): the
 * default bundle's few-shot judge on a simulated on-demand camera, verdicts recorded in the
 * real inspection record, questions over real HTTP, the recipe looked up in the real recipe
 * book. What is asserted are the figures the daemon itself produced (the verdicts, the recipe
 * file on disk).
 */
import t from 'tap';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { validateConfig } from '../../src/config/index.js';
import { App } from '../../src/daemon/app.js';
import { formatScore } from '../../src/dialogue/grounded/facts.js';
import type { Verdict } from '../../src/judge/verdict.js';
import { defaultBundleDir, silentLogger } from '../pipeline/helpers.js';
import { daemonTestdir } from '../support/testdir.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;
const asJson = (x: unknown): Json => x;

t.test('without an assistant, the conversation routes answer from the record', async (t) => {
  const dir = daemonTestdir(t);
  const config = validateConfig(
    {
      stateDirectory: join(dir, 'state'),
      logging: { level: 'warn' },
      inference: { bundle: await defaultBundleDir(), executionProviders: ['cpu'], warmupRuns: 1, intraOpThreads: 1 },
      cameras: [{ id: 'cam1', recipe: 'sim-part', source: { kind: 'sim', width: 320, height: 240, defectRate: 0.5, seed: 11 }, trigger: { mode: 'on-demand' } }],
      http: { enabled: true, host: '127.0.0.1', port: 0 },
    },
    'test',
    { baseDir: dir, env: {} },
  );
  const app = new App({ config, logger: silentLogger(), env: {} });
  const started = await app.start();
  t.ok(started.ok, `daemon started (${started.failures.map((f) => f.error.message).join('; ')})`);
  t.teardown(() => app.stop());
  t.ok(app.started.includes('dialogue'), 'the dialogue runs by default');
  const { host, port } = app.httpAddress()!;
  const base = `http://${host}:${port}`;
  const post = (path: string, body?: unknown) => fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, ...(body ? { body: JSON.stringify(body) } : {}) });

  const verdicts: Verdict[] = [];
  for (let i = 0; i < 8; i++) verdicts.push(await app.pipeline('cam1')!.trigger());
  const fail = verdicts.find((v) => !v.pass);
  t.ok(fail, `a fail among ${verdicts.length} simulated parts`);

  t.match(await (await fetch(`${base}/api/assistant`)).json().then(asJson), { mode: 'grounded', notice: /No language model is loaded/ });
  t.match(app.status().assistant, { mode: 'grounded', dialogue: { open: 0 } }, 'shown in /status');
  const llm = await post(`/api/inspections/${encodeURIComponent(fail!.id)}/llm-verdict`);
  t.equal(llm.status, 409);
  t.equal((await llm.json().then(asJson)).error.code, 'E_LLM_UNAVAILABLE');

  const created = await post(`/api/inspections/${encodeURIComponent(fail!.id)}/conversations`);
  t.equal(created.status, 201);
  const conv = await created.json().then(asJson);
  t.equal(conv.mode, 'grounded');
  const ask = async (question: string): Promise<Json> => (await post(`/api/conversations/${conv.id}/messages`, { question })).json().then(asJson);

  const why = await ask('Why did it fail?');
  t.match(why.answer, `its anomaly score ${formatScore(fail!.score)} is above the boundary ${formatScore(fail!.threshold)} by ${formatScore(fail!.score - fail!.threshold)}`, 'the verdict\'s own figures');
  t.match(why.answer, `recipe sim-part version ${fail!.recipe.version}`);

  const recipe = JSON.parse(await readFile(join(dir, 'state', 'recipes', 'sim-part', 'recipe.json'), 'utf8')) as { references: unknown[]; boundary: { threshold: number; rule: string } };
  const which = await ask('which recipe and references decided?');
  t.match(which.answer, `made from ${recipe.references.length} good references`, 'the recipe book\'s recipe');
  t.match(which.answer, `Its boundary ${formatScore(recipe.boundary.threshold)} was derived from those references alone, by the rule "${recipe.boundary.rule}"`);

  const where = await ask('and where?');
  t.match(where.answer, `${fail!.locations.length} defect region`);
  t.match(where.answer, `- ${[...fail!.locations].sort((a, b) => b.peak - a.peak)[0].grid}: box at x `);

  const counts = await ask('how many failed in the last hour?');
  const fails = verdicts.filter((v) => !v.pass).length;
  t.match(counts.answer, `Camera cam1, from `);
  t.match(counts.answer, `: ${verdicts.length} inspected, ${verdicts.length - fails} passed, ${fails} failed: yield ${(((verdicts.length - fails) / verdicts.length) * 100).toFixed(1)} %.`);
  t.equal(counts.turns.length, 4);
});
