/** The aggregate and score queries of the inspection record, on real SQLite. */
import t from 'tap';
import { InspectionRecord } from '../../src/archive/inspection-record.js';
import type { Verdict } from '../../src/judge/verdict.js';
import { silentLogger } from '../support/logger.js';
import { DAY0, recordConfig, verdict } from './fixtures.js';

t.test('counts per camera over a time range, judge scores whoever decided, the oldest kept capture', async (t) => {
  const r = new InspectionRecord(recordConfig(t.testdir(), { saveFrames: 'none' }), silentLogger());
  await r.start();
  t.teardown(() => r.stop());
  t.same(r.counts(), [], 'empty');
  t.equal(r.oldestCapturedAt(), null);
  // cam/1: seqs 1–6 at DAY0 + seq s; 2 and 5 fail. cam/2: seqs 7–9; 8 fails.
  for (let i = 1; i <= 6; i++) await r.append(verdict(i, i !== 2 && i !== 5));
  for (let i = 7; i <= 9; i++) await r.append(verdict(i, i !== 8, { camera: 'cam/2', recipe: 'cap' }));
  // The LLM decided seq 10 (a fail): its score is P(yes); the judge's own figures are kept.
  const v = verdict(10, false);
  const llm: Verdict = { ...v, score: 0.93, threshold: 0.5, decidedBy: 'llm', judge: { pass: true, score: 0.35, threshold: 0.4, confidence: 0.6, model: v.model } };
  await r.append(llm);

  t.same(r.counts(), [
    { camera: 'cam/1', inspected: 7, passed: 4, failed: 3, firstAt: DAY0 + 1000, lastAt: DAY0 + 10_000 },
    { camera: 'cam/2', inspected: 3, passed: 2, failed: 1, firstAt: DAY0 + 7000, lastAt: DAY0 + 9000 },
  ]);
  t.same(r.counts({ from: DAY0 + 5000, to: DAY0 + 8000 }).map((c) => [c.camera, c.inspected, c.passed, c.failed]), [['cam/1', 2, 1, 1], ['cam/2', 1, 1, 0]], 'from inclusive, to exclusive');
  t.same(r.counts({ camera: 'cam/2', pass: false }).map((c) => c.inspected), [1]);
  t.equal(r.oldestCapturedAt(), DAY0 + 1000);

  const scores = r.judgeScores({ camera: 'cam/1', limit: 3 });
  t.same(scores.map((s) => [s.seq, s.pass, s.score, s.threshold]), [[10, false, 0.35, 0.4], [6, true, 0.1, 0.4], [5, false, 0.8, 0.4]], "the judge's score for the LLM's decision");
  t.same(r.judgeScores({ camera: 'cam/1', pass: true, before: 6 }).map((s) => s.seq), [4, 3, 1], 'passes before seq 6');
});
