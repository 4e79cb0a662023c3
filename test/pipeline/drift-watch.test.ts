/**
 * The drift watch (src/pipeline/drift-watch.ts) over a stream of verdicts: the window per
 * recipe version, the judge's own pass/score (not the LLM's), seeding from the record, and
 * change events.
 */
import t from 'tap';
import type { Verdict } from '../../src/judge/verdict.js';
import { DriftWatch, type DriftRecipe, type RecipeDrift } from '../../src/pipeline/drift-watch.js';
import { capturingLogger } from '../support/logger.js';

let n = 0;
function verdict(score: number, opts: { pass?: boolean; version?: string; recipe?: string; llmFail?: boolean } = {}): Verdict {
  const seq = ++n;
  const judgePass = opts.pass ?? score <= 1;
  return {
    id: `cam-${seq}`, cameraId: 'cam', seq, capturedAt: seq, decidedAt: seq,
    pass: opts.llmFail ? false : judgePass, confidence: 0.9, score: opts.llmFail ? 0.9 : score, threshold: opts.llmFail ? 0.5 : 1, locations: [],
    recipe: { id: opts.recipe ?? 'part', version: opts.version ?? 'v1' }, model: { id: 'm', version: '1' },
    timings: { preprocessMs: 0, encoderMs: 0, mapMs: 0, judgeMs: 0, totalMs: 0 },
    frame: { width: 8, height: 8, origin: 't' },
    judge: { pass: judgePass, score, threshold: 1, confidence: 0.9, model: { id: 'm', version: '1' } },
    ...(opts.llmFail ? { decidedBy: 'llm' as const, llm: { pYes: 0.9, judgePass, visionMs: 1, prefillMs: 1 } } : {}),
  };
}

function setup(history: Record<string, number[]> = {}) {
  const recipes = new Map<string, DriftRecipe>([['part', { version: 'v1', boundary: 1, normalScores: [0.25, 0.5, 0.75] }]]);
  const asked: string[] = [];
  const { logger, lines } = capturingLogger('info');
  const watch = new DriftWatch({
    recipe: (id) => recipes.get(id),
    history: (id, version, limit) => {
      asked.push(`${id}@${version}:${limit}`);
      return history[`${id}@${version}`] ?? [];
    },
    logger,
  });
  const events: { report: RecipeDrift; previous: RecipeDrift | undefined }[] = [];
  watch.onChange((report, previous) => events.push({ report, previous }));
  return { watch, recipes, asked, events, lines };
}

t.test('judge-passed scores fill the window; the state follows the rule and changes are told once', async (t) => {
  const { watch, events, lines } = setup();
  t.equal(watch.report('part')?.state, 'insufficient', 'nothing seen yet');
  for (let i = 0; i < 29; i++) watch.publish(verdict(0.5));
  t.equal(watch.report('part')?.passes, 29);
  t.equal(watch.report('part')?.state, 'insufficient');
  watch.publish(verdict(0.5));
  t.match(watch.report('part'), { state: 'ok', margin: 1, passes: 30, recipe: 'part', version: 'v1' });
  t.same(events.map((e) => [e.previous?.state, e.report.state]), [['insufficient', 'ok']]);
  // Fails never enter the window; an LLM fail of a judge pass does (the judge's figures count).
  for (let i = 0; i < 50; i++) watch.publish(verdict(3, { pass: false }));
  t.equal(watch.report('part')?.passes, 30, 'judge fails are not passes');
  watch.publish(verdict(0.5, { llmFail: true }));
  t.equal(watch.report('part')?.passes, 31, 'a judge pass the LLM overruled still counts, with the judge\'s score');
  // Creep toward the boundary: the median moves past 0.75 (watch), then 0.875 (drifting).
  for (let i = 0; i < 40; i++) watch.publish(verdict(0.8));
  t.equal(watch.report('part')?.state, 'watch');
  for (let i = 0; i < 200; i++) watch.publish(verdict(0.95));
  t.equal(watch.report('part')?.state, 'drifting');
  t.equal(watch.report('part')?.passes, 200, 'the window holds the last 200');
  t.same(events.map((e) => e.report.state), ['ok', 'watch', 'drifting']);
  t.ok(lines.some((l) => l.msg === 'drift watch: recipe part is drifting' && l.level === 40), 'drifting is logged at warn');
});

t.test('seeded from the record at first use; a new recipe version starts its own window', async (t) => {
  const seeded = new Array<number>(40).fill(0.5);
  const { watch, recipes, asked, events } = setup({ 'part@v1': seeded, 'part@v2': [0.9, 0.9] });
  t.match(watch.report('part'), { state: 'ok', passes: 40 }, 'the record\'s passes count after a restart');
  t.same(asked, ['part@v1:200']);
  watch.publish(verdict(0.5));
  t.equal(watch.report('part')?.passes, 41);
  t.same(asked, ['part@v1:200'], 'the record is read once per version');
  // Taught / recalibrated: version v2 is loaded; v1's window is not carried over.
  recipes.set('part', { version: 'v2', boundary: 1, normalScores: [0.25, 0.5, 0.75] });
  t.match(watch.report('part'), { version: 'v2', passes: 2, state: 'insufficient' });
  t.same(events.map((e) => [e.previous?.version, e.report.version, e.report.state]), [['v1', 'v2', 'insufficient']], 'the switch is an event');
  watch.publish(verdict(0.5, { version: 'v1' }));
  t.equal(watch.report('part')?.passes, 2, 'a late verdict of the old version is not mixed in');
  t.equal(watch.report('other'), undefined, 'an unknown recipe has no report');
  watch.publish(verdict(0.5, { recipe: 'other' }));
  t.same(watch.reports().map((r) => r.recipe), ['part'], 'nor does it get a window');
});

t.test('a record that cannot be read starts the window empty and says so', async (t) => {
  const { logger, lines } = capturingLogger('info');
  const watch = new DriftWatch({
    recipe: () => ({ version: 'v1', boundary: 1, normalScores: [0.5] }),
    history: () => {
      throw new Error('the inspection record is not open');
    },
    logger,
  });
  t.match(watch.report('part'), { state: 'insufficient', passes: 0 });
  t.ok(lines.some((l) => /could not read recent passes/.test(String(l.msg))));
});
