/** The drift watch's rule (src/judge/drift.ts): margin m = (b − median passes) / (b − median references). */
import t from 'tap';
import { DRIFT_MINIMUM, DRIFT_WINDOW, driftOf, median, stateOfMargin } from '../../src/judge/drift.js';

const refs = [0.2, 0.3, 0.4]; // median 0.3; boundary 0.5 → M₀ = 0.2
const passesAt = (score: number, n = 100) => new Array<number>(n).fill(score);

t.test('the margin is the share of the references\' margin that recent passes keep', async (t) => {
  const r = driftOf({ passScores: passesAt(0.3), boundary: 0.5, normalScores: refs });
  t.equal(r.state, 'ok');
  t.ok(Math.abs(r.margin! - 1) < 1e-12, 'passes like the references: m = 1');
  t.equal(r.medianReference, 0.3);
  t.equal(r.medianPass, 0.3);
  t.equal(r.passes, 100);
  // Exact in binary: boundary 1, references' median 0.5 (M₀ = 0.5).
  const refs1 = [0.25, 0.5, 0.75];
  // m = (1 − 0.75) / 0.5 = ½: exactly half the margin used → still ok (≥ ½).
  t.equal(driftOf({ passScores: passesAt(0.75), boundary: 1, normalScores: refs1 }).state, 'ok');
  t.equal(driftOf({ passScores: passesAt(0.7500001), boundary: 1, normalScores: refs1 }).state, 'watch');
  // m = (0.5 − 0.42) / 0.2 = 0.4 → watch.
  const w = driftOf({ passScores: passesAt(0.42), boundary: 0.5, normalScores: refs });
  t.equal(w.state, 'watch');
  t.ok(Math.abs(w.margin! - 0.4) < 1e-9);
  // m = (1 − 0.875) / 0.5 = ¼ exactly → watch; just below → drifting.
  t.equal(driftOf({ passScores: passesAt(0.875), boundary: 1, normalScores: refs1 }).state, 'watch');
  t.equal(driftOf({ passScores: passesAt(0.8750001), boundary: 1, normalScores: refs1 }).state, 'drifting');
  // Passes scoring lower than the references: more margin than at calibration, m > 1.
  t.ok(driftOf({ passScores: passesAt(0.1), boundary: 0.5, normalScores: refs }).margin! > 1);
});

t.test('states of the margin: ½ and ¼ are the edges', async (t) => {
  t.equal(stateOfMargin(0.5), 'ok');
  t.equal(stateOfMargin(0.4999), 'watch');
  t.equal(stateOfMargin(0.25), 'watch');
  t.equal(stateOfMargin(0.2499), 'drifting');
  t.equal(stateOfMargin(-1), 'drifting', 'passes above the boundary (only possible when the LLM overrules) are drifting');
});

t.test('insufficient: too few passes, no references, no margin to measure against', async (t) => {
  const few = driftOf({ passScores: passesAt(0.3, DRIFT_MINIMUM - 1), boundary: 0.5, normalScores: refs });
  t.equal(few.state, 'insufficient');
  t.equal(few.margin, null);
  t.match(few.reason, /29 of the 30 passes/);
  t.equal(driftOf({ passScores: passesAt(0.3, DRIFT_MINIMUM), boundary: 0.5, normalScores: refs }).state, 'ok', '30 passes are enough');
  t.match(driftOf({ passScores: passesAt(0.3), boundary: 0.5, normalScores: [] }), { state: 'insufficient', reason: /no calibration normal scores/ });
  t.match(driftOf({ passScores: passesAt(0.3), boundary: 0.3, normalScores: refs }), { state: 'insufficient', reason: /not above/ }, 'M₀ = 0');
  t.match(driftOf({ passScores: passesAt(0.3), boundary: 0.2, normalScores: refs }), { state: 'insufficient' }, 'M₀ < 0');
});

t.test('only the newest `window` passes count (newest first)', async (t) => {
  // 200 recent passes at the references' level, then 300 old ones near the boundary.
  const scores = [...passesAt(0.3, DRIFT_WINDOW), ...passesAt(0.49, 300)];
  const r = driftOf({ passScores: scores, boundary: 0.5, normalScores: refs });
  t.equal(r.passes, DRIFT_WINDOW);
  t.equal(r.state, 'ok', 'the old passes are outside the window');
  t.equal(driftOf({ passScores: scores, boundary: 0.5, normalScores: refs }, { window: 500 }).state, 'drifting', 'a wider window sees them');
});

t.test('the median ignores non-finite values and handles even counts', async (t) => {
  t.equal(median([]), null);
  t.equal(median([3, 1, 2]), 2);
  t.equal(median([4, 1, 3, 2]), 2.5);
  t.equal(median([1, Number.NaN, 3]), 2);
});
