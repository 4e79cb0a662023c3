/**
 * Similar past fails on this camera. Of the last SEARCHED fails recorded before this part (or in
 * the range the question named), a fail is similar when
 *   - a region of it overlaps a region of this part (boxes compared as shares of their frames,
 *     so a resized camera still matches), or shares its 3×3 grid word, and
 *   - its judge score is within SCORE_TOLERANCE × this part's boundary of this part's score.
 * Overlapping boxes rank before shared words, then the closer score, then the newer. Judge
 * scores throughout (a P(yes) is not on the same scale).
 */
import type { RecordedInspection } from '../../../archive/record-schema.js';
import type { DefectLocation } from '../../../judge/verdict.js';
import { type AnswerContext, judgeView, list, plural } from './context.js';

export const SEARCHED = 500;
export const SCORE_TOLERANCE = 0.25;
export const LISTED = 5;

type Rel = { x0: number; y0: number; x1: number; y1: number };

function rel(l: DefectLocation, w: number, h: number): Rel {
  return { x0: l.box.x / w, y0: l.box.y / h, x1: (l.box.x + l.box.width) / w, y1: (l.box.y + l.box.height) / h };
}

const overlaps = (a: Rel, b: Rel) => Math.min(a.x1, b.x1) > Math.max(a.x0, b.x0) && Math.min(a.y1, b.y1) > Math.max(a.y0, b.y0);

interface Match {
  readonly inspection: RecordedInspection;
  readonly score: number;
  readonly how: 'overlap' | 'word';
  readonly words: readonly string[];
}

export function similarAnswer(c: AnswerContext): string {
  const v = c.inspection.verdict;
  const f = c.f;
  const j = judgeView(c.inspection);
  if (v.pass) return 'This part passed: it has no defect to look for among past fails. Ask "how many failed today?" for the fails themselves.';
  if (!j) return 'The few-shot judge\'s score of this part is not recorded (the language model decided alone), so fails cannot be matched by score.';
  if (v.locations.length === 0) return 'This part failed without recorded defect regions, so there is no place to match past fails by.';
  const mine = v.locations.map((l) => rel(l, v.frame.width, v.frame.height));
  const myWords = new Set(v.locations.map((l) => l.grid));
  const page = c.archive.history({
    camera: v.cameraId,
    pass: false,
    before: c.inspection.seq,
    limit: SEARCHED,
    ...(c.range ? { from: c.range.from, to: c.range.to } : {}),
  });
  const tol = SCORE_TOLERANCE * j.threshold;
  const matches: Match[] = [];
  for (const other of page.items) {
    const o = judgeView(other);
    if (!o || Math.abs(o.score - j.score) > tol) continue;
    const ov = other.verdict;
    const boxes = ov.locations.map((l) => rel(l, ov.frame.width, ov.frame.height));
    const how = boxes.some((b) => mine.some((m) => overlaps(m, b))) ? 'overlap' : ov.locations.some((l) => myWords.has(l.grid)) ? 'word' : undefined;
    if (how) matches.push({ inspection: other, score: o.score, how, words: [...new Set(ov.locations.map((l) => l.grid))] });
  }
  matches.sort((a, b) => (a.how === b.how ? 0 : a.how === 'overlap' ? -1 : 1) || Math.abs(a.score - j.score) - Math.abs(b.score - j.score) || b.inspection.seq - a.inspection.seq);
  const searched = f.count('similar.searched', page.items.length, 'archive');
  const when = c.range ? ` from ${f.time('range.from', c.range.from, 'question')} to ${f.time('range.to', c.range.to, 'question')}` : '';
  const rule = `a region overlapping one of this part's or in the same place (${f.name('regionWords', list([...myWords]), 'inspection')}), and a judge score within ${f.score('similar.tolerance', tol)} of its ${f.score('judge.score', j.score)}`;
  if (page.items.length === 0) return `No earlier fails are recorded on camera ${f.name('camera', v.cameraId, 'inspection')}${when}.`;
  if (matches.length === 0) return `None of the last ${searched} fails on camera ${f.name('camera', v.cameraId, 'inspection')}${when} is similar to this part — ${rule}.`;
  const lines = [`${f.count('similar.found', matches.length, 'archive')} of the last ${searched} fails on camera ${f.name('camera', v.cameraId, 'inspection')}${when} ${plural(matches.length, 'is', 'are')} similar to this part — ${rule}${matches.length > LISTED ? `; the closest ${f.count('similar.listed', LISTED, 'archive')}` : ''}:`];
  matches.slice(0, LISTED).forEach((m, i) => {
    const k = `similar[${i}].`;
    lines.push(
      `- ${f.name(`${k}id`, m.inspection.id, 'archive')} at ${f.time(`${k}capturedAt`, m.inspection.verdict.capturedAt, 'archive')}: score ${f.score(`${k}score`, m.score, 'archive')}, ` +
        `${f.name(`${k}grid`, list(m.words), 'archive')}, ${m.how === 'overlap' ? 'overlapping box' : 'same place word'}`,
    );
  });
  return lines.join('\n');
}
