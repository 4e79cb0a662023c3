/**
 * Where the defects are and how big (the judge's regions, src/judge/regions.ts): per region its
 * 3×3 grid word (SPEC §7), box, area in frame pixels and its share of the frame — and of the
 * inspected crop when the verdict records one (`crop`). The record keeps no outline of the part
 * itself, so the answer says which whole it is a share of.
 */
import { type AnswerContext, plural } from './context.js';

interface Box {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

/** The inspected crop in frame pixels, when the verdict carries one. */
function cropOf(verdict: object): Box | undefined {
  const c = (verdict as { crop?: Partial<Box> }).crop;
  if (!c || typeof c !== 'object') return undefined;
  const ok = [c.x, c.y, c.width, c.height].every((n) => typeof n === 'number' && Number.isFinite(n)) && c.width! > 0 && c.height! > 0;
  return ok ? (c as Box) : undefined;
}

/** Regions listed one by one; the rest are summed. */
const LISTED = 5;

export function whereAnswer(c: AnswerContext): string {
  const v = c.inspection.verdict;
  const f = c.f;
  const locs = [...v.locations].sort((a, b) => b.peak - a.peak);
  if (locs.length === 0) {
    if (!v.pass) return 'It failed, but no defect regions were recorded for it.';
    const judgeFailed = v.decidedBy === 'llm' && v.judge && !v.judge.pass;
    return judgeFailed
      ? 'It passed: the language model passed it, and a part the language model passes keeps no defect regions (the few-shot judge had failed it — ask "why?").'
      : 'It passed: no defect regions were recorded.';
  }
  const W = v.frame.width;
  const H = v.frame.height;
  const crop = cropOf(v);
  const frame = `${f.count('frame.width', W, 'inspection', 'px')}×${f.count('frame.height', H, 'inspection', 'px')} px`;
  const lines = [`${f.count('regions', locs.length, 'inspection')} defect ${plural(locs.length, 'region')} in the frame (${frame}), strongest first:`];
  locs.slice(0, LISTED).forEach((l, i) => {
    const k = `regions[${i}].`;
    const b = l.box;
    const share = f.percent(`${k}areaPercentOfFrame`, (l.area / (W * H)) * 100, 'inspection');
    const cropShare = crop ? `, ${f.percent(`${k}areaPercentOfCrop`, (l.area / (crop.width * crop.height)) * 100, 'inspection')} of the inspected crop` : '';
    lines.push(
      `- ${f.name(`${k}grid`, l.grid, 'inspection')}: box at x ${f.count(`${k}box.x`, b.x, 'inspection', 'px')}, y ${f.count(`${k}box.y`, b.y, 'inspection', 'px')}, ` +
        `${f.count(`${k}box.width`, b.width, 'inspection', 'px')}×${f.count(`${k}box.height`, b.height, 'inspection', 'px')} px; ` +
        `area ${f.count(`${k}area`, l.area, 'inspection', 'px')} px = ${share} of the frame${cropShare}; peak score ${f.score(`${k}peak`, l.peak)}`,
    );
  });
  if (locs.length > LISTED) lines.push(`- and ${f.count('regionsNotListed', locs.length - LISTED, 'inspection')} smaller ${plural(locs.length - LISTED, 'one')}`);
  const total = locs.reduce((s, l) => s + l.area, 0);
  if (locs.length > 1) lines.push(`Together ${f.count('totalArea', total, 'inspection', 'px')} px = ${f.percent('totalAreaPercentOfFrame', (total / (W * H)) * 100, 'inspection')} of the frame.`);
  if (!crop) lines.push('Shares are of the whole frame: the record keeps no outline of the part itself.');
  if (v.decidedBy === 'llm') lines.push('The regions are the few-shot judge\'s (its anomaly map); the language model made the decision.');
  return lines.join('\n');
}
