/**
 * When the part was inspected and how long each stage took (verdict.timings, and the language
 * model's vision and prefill times when it was asked).
 */
import type { AnswerContext } from './context.js';

export function timingAnswer(c: AnswerContext): string {
  const v = c.inspection.verdict;
  const f = c.f;
  const t = v.timings;
  const out = [
    `Captured ${f.time('capturedAt', v.capturedAt, 'inspection')} on camera ${f.name('camera', v.cameraId, 'inspection')}, decided ${f.ms('decidedAfter', v.decidedAt - v.capturedAt)} later, recorded ${f.time('recordedAt', c.inspection.recordedAt, 'inspection')}.`,
    `Stages: preprocess ${f.ms('timings.preprocessMs', t.preprocessMs)}, encoder ${f.ms('timings.encoderMs', t.encoderMs)}, anomaly map ${f.ms('timings.mapMs', t.mapMs)}, judge ${f.ms('timings.judgeMs', t.judgeMs)}; inspection total ${f.ms('timings.totalMs', t.totalMs)}.`,
  ];
  if (v.llm) out.push(`The language model took ${f.ms('llm.visionMs', v.llm.visionMs)} for its vision path and ${f.ms('llm.prefillMs', v.llm.prefillMs)} for its prefill.`);
  return out.join(' ');
}
