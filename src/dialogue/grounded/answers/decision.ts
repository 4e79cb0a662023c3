/**
 * The decision itself, from the inspection record alone: the verdict in short, why (score
 * against boundary, by how much, who decided), and how confident. When the language model
 * decided, its P(yes) against ½ is the decision and the judge's own figures are given beside
 * it (verdict.judge); when it was asked but the policy kept the judge's decision, its opinion is
 * said too (verdict.llm).
 */
import { type AnswerContext, against, judgeView, list, plural, result } from './context.js';

function regionsPhrase(c: AnswerContext): string {
  const locs = c.inspection.verdict.locations;
  if (locs.length === 0) return 'no defect regions were recorded';
  const n = c.f.count('regions', locs.length, 'inspection');
  const grids = [...new Set(locs.map((l) => l.grid))];
  return `${n} defect ${plural(locs.length, 'region')}: ${c.f.name('regionWords', list(grids), 'inspection')}`;
}

export function verdictAnswer(c: AnswerContext): string {
  const v = c.inspection.verdict;
  const f = c.f;
  const head = `Inspection ${f.name('inspection', v.id, 'inspection')} (camera ${f.name('camera', v.cameraId, 'inspection')}, ${f.time('capturedAt', v.capturedAt, 'inspection')}): ${f.name('result', result(v.pass), 'inspection')}.`;
  const what = v.decidedBy === 'llm'
    ? `The language model decided: P(yes) ${f.score('pYes', v.score)} against ${f.score('threshold', v.threshold)}`
    : `Score ${f.score('score', v.score)} against the boundary ${f.score('threshold', v.threshold)}, decided by the few-shot judge`;
  return `${head} ${what}; confidence ${f.score('confidence', v.confidence)}; ${regionsPhrase(c)}.`;
}

/** The LLM's opinion when it was asked but did not decide. */
function llmAside(c: AnswerContext): string {
  const v = c.inspection.verdict;
  if (!v.llm || v.decidedBy === 'llm') return '';
  const p = v.llm.pYes;
  return ` The language model was asked too: P(yes) ${c.f.score('llm.pYes', p)} (it would ${p >= 0.5 ? 'fail' : 'pass'} the part); the overrule policy kept the judge's decision.`;
}

export function whyAnswer(c: AnswerContext): string {
  const v = c.inspection.verdict;
  const f = c.f;
  const verb = v.pass ? 'passed' : 'failed';
  if (v.decidedBy === 'llm') {
    const j = judgeView(c.inspection);
    const judge = j
      ? ` On its own, the few-shot judge's score ${f.score('judge.score', j.score)} ${against(f, 'judge.', j.score, j.threshold, 'its boundary')}: it would have ${j.pass ? 'passed' : 'failed'} the part.`
      : '';
    return `It ${verb} because the language model (${f.name('model', `${v.model.id} ${v.model.version}`, 'inspection')}) answered "${v.pass ? 'no' : 'yes'}" to whether there is an anomaly: its P(yes) ${f.score('pYes', v.score)} ${against(f, '', v.score, v.threshold, 'the boundary')}.${judge}`;
  }
  const top = [...v.locations].sort((a, b) => b.peak - a.peak)[0];
  const peak = !v.pass && top ? ` The strongest region (${f.name('strongest.grid', top.grid, 'inspection')}) peaks at ${f.score('strongest.peak', top.peak)}.` : '';
  return (
    `It ${verb} because its anomaly score ${f.score('score', v.score)} ${against(f, '', v.score, v.threshold, 'the boundary')}; a part fails when its score is above the boundary. ` +
    `The few-shot judge decided, with recipe ${f.name('recipe', v.recipe.id, 'inspection')} version ${f.name('recipeVersion', v.recipe.version, 'inspection')}.${peak}${llmAside(c)}`
  );
}

export function confidenceAnswer(c: AnswerContext): string {
  const v = c.inspection.verdict;
  const f = c.f;
  const head = `Confidence ${f.score('confidence', v.confidence)} in the ${f.name('result', result(v.pass), 'inspection')}, on a scale from one half (on the boundary) to one (far from it).`;
  if (v.decidedBy === 'llm') {
    const j = judgeView(c.inspection);
    const judge = j ? ` The few-shot judge on its own was ${f.score('judge.confidence', j.confidence)} confident that the part ${j.pass ? 'passes' : 'fails'}.` : '';
    return `${head} It is the language model's certainty: the larger of P(yes) and one minus P(yes), with P(yes) ${f.score('pYes', v.score)}.${judge}`;
  }
  return `${head} It grows with the distance from the boundary: the score ${f.score('score', v.score)} ${against(f, '', v.score, v.threshold, 'the boundary')}.${llmAside(c)}`;
}
