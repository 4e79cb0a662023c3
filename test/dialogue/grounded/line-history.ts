/**
 * A small, hand-made line history for the grounded answerer's tests: two cameras with their
 * recipes, passes and fails at known times (UTC; the tests run with TZ=UTC), regions, an LLM
 * decision. Every figure the tests expect is worked out by hand in the comments below.
 *
 * cam1, recipe bottle v1, boundary 0.40 (frames 320×240 = 76 800 px):
 *   2025-03-09 12:00 fail (Sunday: outside "this week")    2025-03-10 08:00 pass (Monday)
 *   2025-03-13 22:00 pass (yesterday)
 *   2025-03-14 07:00 F3 fail 0.90 top left, overlapping T  07:30 F4 fail 0.48 center
 *              08:00 F1 fail 0.50 top left, overlapping T  08:30 F2 fail 0.55 top left, not overlapping
 *              09:00 … 09:45 P0–P9 passes every 5 min: 0.10 0.12 0.14 0.16 0.18 0.22 0.24 0.26 0.28 0.38
 *              09:55 F7 fail 0.45 bottom right, overlapping T's second region
 *              10:00 T  fail 0.52 (the inspection asked about): top left 30×20 box area 600, bottom right area 90
 *              10:10 P10 pass 0.05 (after T)               10:15 F6 fail 0.52 top left (after T)
 * cam2, recipe cap v7, boundary 0.35:
 *   2025-03-13 15:00 pass, 15:10 pass, 15:20 fail (yesterday)
 *   2025-03-14 06:00 F5 fail 0.52 top left (another camera)  09:00 pass  09:30 pass
 *              10:05 G fail decided by the LLM: P(yes) 0.81 against 0.5; the judge alone 0.30 < 0.35 (pass)
 */
import type { DefectLocation, GridWord, Verdict } from '../../../src/judge/verdict.js';

export const NOW = Date.UTC(2025, 2, 14, 10, 30);
const at = (d: number, h: number, m = 0) => Date.UTC(2025, 2, d, h, m);
const JUDGE_MODEL = { id: 'mobilenetv2-nsfwjs', version: '1.0.0' };

function loc(grid: GridWord, x: number, y: number, width: number, height: number, area: number, peak: number): DefectLocation {
  return { box: { x, y, width, height }, centroid: { x: x + width / 2, y: y + height / 2 }, grid, area, peak };
}

let seq = 0;
function v(camera: string, capturedAt: number, pass: boolean, score: number, locations: DefectLocation[] = [], over: Partial<Verdict> = {}): Verdict {
  seq++;
  const cam1 = camera === 'cam1';
  const threshold = cam1 ? 0.4 : 0.35;
  const confidence = over.confidence ?? 0.8;
  return {
    id: `${camera}-${capturedAt}-${seq}`, cameraId: camera, seq, capturedAt, decidedAt: capturedAt + 12, pass, confidence, score, threshold,
    locations, recipe: cam1 ? { id: 'bottle', version: '1' } : { id: 'cap', version: '7' }, model: JUDGE_MODEL,
    timings: { preprocessMs: 0.6, encoderMs: 3.9, mapMs: 3.1, judgeMs: 0.2, totalMs: 8.0 },
    frame: { width: 320, height: 240, origin: 'sim' }, decidedBy: 'judge',
    judge: { pass, score, threshold, confidence, model: JUDGE_MODEL },
    ...over,
  };
}

const TOP_LEFT_T = loc('top left', 40, 20, 30, 20, 600, 0.61);
const BOTTOM_RIGHT_T = loc('bottom right', 200, 150, 10, 10, 90, 0.45);

export const T = v('cam1', at(14, 10), false, 0.52, [TOP_LEFT_T, BOTTOM_RIGHT_T], { confidence: 0.91 });
export const F1 = v('cam1', at(14, 8), false, 0.5, [loc('top left', 50, 25, 20, 20, 300, 0.55)]);
export const F2 = v('cam1', at(14, 8, 30), false, 0.55, [loc('top left', 0, 0, 10, 10, 80, 0.6)]);
export const F7 = v('cam1', at(14, 9, 55), false, 0.45, [loc('bottom right', 195, 145, 10, 10, 70, 0.46)]);
export const P9 = v('cam1', at(14, 9, 45), true, 0.38);
export const G = v('cam2', at(14, 10, 5), false, 0.81, [loc('center', 150, 110, 20, 20, 320, 0.33)], {
  threshold: 0.5, confidence: 0.81, decidedBy: 'llm', model: { id: 'agpt-tiny', version: '1' },
  judge: { pass: true, score: 0.3, threshold: 0.35, confidence: 0.7, model: JUDGE_MODEL },
  llm: { pYes: 0.81, judgePass: true, visionMs: 7.8, prefillMs: 2.3 },
});

const PASS_SCORES = [0.1, 0.12, 0.14, 0.16, 0.18, 0.22, 0.24, 0.26, 0.28];

/** In capture order (the record's seq follows append order; the tests append in this order). */
export function lineHistory(): Verdict[] {
  return [
    v('cam1', at(9, 12), false, 0.7, [loc('center', 150, 100, 20, 20, 300, 0.7)]),
    v('cam1', at(10, 8), true, 0.2),
    v('cam2', at(13, 15), true, 0.2),
    v('cam2', at(13, 15, 10), true, 0.25),
    v('cam2', at(13, 15, 20), false, 0.6, [loc('left', 10, 100, 20, 20, 300, 0.6)]),
    v('cam1', at(13, 22), true, 0.2),
    v('cam2', at(14, 6), false, 0.52, [loc('top left', 40, 20, 30, 20, 600, 0.6)]),
    v('cam1', at(14, 7), false, 0.9, [loc('top left', 45, 22, 10, 10, 90, 0.95)]),
    v('cam1', at(14, 7, 30), false, 0.48, [loc('center', 150, 100, 20, 20, 300, 0.5)]),
    F1,
    F2,
    ...PASS_SCORES.map((s, i) => v('cam1', at(14, 9, 5 * i), true, s)),
    v('cam2', at(14, 9), true, 0.2),
    v('cam2', at(14, 9, 30), true, 0.22),
    P9,
    F7,
    T,
    G,
    v('cam1', at(14, 10, 10), true, 0.05),
    v('cam1', at(14, 10, 15), false, 0.52, [loc('top left', 40, 20, 30, 20, 600, 0.6)]),
  ];
}

/** The recipes as the daemon would look them up: bottle is loaded at v1; cap changed to v8 since. */
export function recipeLookup(id: string): { id: string; version: string; createdAt: string; references: string[]; boundary: { threshold: number; rule: string; normalLevel: number; defectLevel: number }; model: typeof JUDGE_MODEL } | undefined {
  const rule = 'held-out + 0.25·(synthetic − normal)';
  if (id === 'bottle') return { id, version: '1', createdAt: '2025-03-01T08:00:00.000Z', references: ['good-01.png', 'good-02.png', 'good-03.png', 'good-04.png'], boundary: { threshold: 0.4, rule, normalLevel: 0.3, defectLevel: 0.7 }, model: JUDGE_MODEL };
  if (id === 'cap') return { id, version: '8', createdAt: '2025-03-14T10:20:00.000Z', references: ['cap-a.png', 'cap-b.png'], boundary: { threshold: 0.36, rule, normalLevel: 0.25, defectLevel: 0.69 }, model: JUDGE_MODEL };
  return undefined;
}
