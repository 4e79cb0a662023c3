/**
 * This part against the recent passes of the same camera and recipe: the judge's scores of the
 * last RECENT_PASSES passes recorded before it (or those in the range the question named), the
 * share of them that scored lower than this part, their median and highest against the
 * boundary. Judge scores throughout, whoever decided (a P(yes) is not on the same scale).
 */
import { type AnswerContext, judgeView, plural } from './context.js';

/** Passes compared with (one indexed query, newest first). */
export const RECENT_PASSES = 200;

function median(sorted: readonly number[]): number {
  const m = sorted.length >> 1;
  return sorted.length % 2 ? sorted[m] : (sorted[m - 1] + sorted[m]) / 2;
}

export function compareAnswer(c: AnswerContext): string {
  const v = c.inspection.verdict;
  const f = c.f;
  const j = judgeView(c.inspection);
  if (!j) return 'The few-shot judge\'s score of this part is not recorded (the language model decided alone), so it cannot be compared with other parts\' scores.';
  const rows = c.archive.judgeScores({
    camera: v.cameraId,
    recipe: v.recipe.id,
    pass: true,
    before: c.inspection.seq,
    limit: RECENT_PASSES,
    ...(c.range ? { from: c.range.from, to: c.range.to } : {}),
  });
  const where = `recipe ${f.name('recipe', v.recipe.id, 'inspection')} on camera ${f.name('camera', v.cameraId, 'inspection')}`;
  const when = c.range ? ` from ${f.time('range.from', c.range.from, 'question')} to ${f.time('range.to', c.range.to, 'question')}` : '';
  if (rows.length === 0) return `No passes of ${where} are recorded before this part${when}, so there is nothing to compare it with.`;
  const scores = rows.map((r) => r.score).sort((a, b) => a - b);
  const lower = scores.filter((s) => s < j.score).length;
  const n = f.count('compare.passes', rows.length, 'archive');
  const span = `${f.time('compare.oldest', rows[rows.length - 1].capturedAt, 'archive')} to ${f.time('compare.newest', rows[0].capturedAt, 'archive')}`;
  const med = median(scores);
  const out = [
    `Compared with the last ${n} ${plural(rows.length, 'pass', 'passes')} of ${where}${when} (${span}): this part's score ${f.score('judge.score', j.score)} is higher than ${f.percent('compare.percentBelow', (lower / rows.length) * 100, 'archive')} of them.`,
    `Their median is ${f.score('compare.median', med, 'archive')}${j.threshold > 0 ? ` (${f.percent('compare.medianPercentOfBoundary', (med / j.threshold) * 100, 'archive')} of this part's boundary ${f.score('judge.threshold', j.threshold)})` : ''}, their highest ${f.score('compare.highest', scores[scores.length - 1], 'archive')}.`,
  ];
  const thresholds = new Set(rows.map((r) => r.threshold));
  if (thresholds.size > 1) out.push(`They were judged against ${f.count('compare.boundaries', thresholds.size, 'archive')} different boundaries (the recipe changed in between).`);
  return out.join(' ');
}
