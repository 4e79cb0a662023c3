/**
 * Which recipe, references, boundary rule and model decided: the recipe id and version and the
 * model are the record's; references and the boundary's derivation come from the recipe
 * (RecipeLookup), and the answer says when the recipe loaded now is not the version that
 * decided.
 */
import { type AnswerContext, judgeView, list, plural } from './context.js';

/** Reference names listed; the rest are counted. */
const NAMES = 8;

export function recipeAnswer(c: AnswerContext): string {
  const v = c.inspection.verdict;
  const f = c.f;
  const rid = f.name('recipe', v.recipe.id, 'inspection');
  const ver = f.name('recipeVersion', v.recipe.version, 'inspection');
  const out: string[] = [];
  if (v.decidedBy === 'llm') {
    const j = judgeView(c.inspection);
    out.push(
      `The language model decided (model ${f.name('model', `${v.model.id} ${v.model.version}`, 'inspection')}). ` +
        `The few-shot judge beside it used recipe ${rid} version ${ver}${v.judge ? ` on model ${f.name('judge.model', `${v.judge.model.id} ${v.judge.model.version}`, 'inspection')}` : ''}` +
        `${j ? ` and would have ${j.pass ? 'passed' : 'failed'} the part` : ''}.`,
    );
  } else {
    out.push(`Recipe ${rid}, version ${ver}, decided with the few-shot judge on model ${f.name('model', `${v.model.id} ${v.model.version}`, 'inspection')}.`);
  }
  const r = c.recipes?.(v.recipe.id, v.recipe.version);
  if (!r) {
    out.push(`This daemon has no recipe ${rid} loaded, so its references and boundary rule cannot be looked up; the record says its boundary was ${f.score('threshold', judgeView(c.inspection)?.threshold ?? v.threshold)}.`);
    return out.join(' ');
  }
  if (r.version !== v.recipe.version) {
    out.push(`The recipe has changed since: the version loaded now is ${f.name('recipe.loadedVersion', r.version, 'recipe')}, and what follows is that version's.`);
  }
  const k = r.references.length;
  const names = r.references.slice(0, NAMES).map((n, i) => f.name(`recipe.references[${i}]`, n, 'recipe'));
  const more = k > NAMES ? ` and ${f.count('recipe.referencesNotListed', k - NAMES, 'recipe')} more` : '';
  out.push(`It was made from ${f.count('recipe.references', k, 'recipe')} good ${plural(k, 'reference')}${k > 0 ? `: ${list(names)}${more}` : ''}.`);
  const b = r.boundary;
  out.push(
    `Its boundary ${f.score('recipe.threshold', b.threshold, 'recipe')} was derived from those references alone, by the rule "${f.name('recipe.rule', b.rule, 'recipe')}": ` +
      `normal level ${f.score('recipe.normalLevel', b.normalLevel, 'recipe')}, synthetic-defect level ${f.score('recipe.defectLevel', b.defectLevel, 'recipe')}.`,
  );
  const made = r.createdAt ? Date.parse(r.createdAt) : NaN;
  if (Number.isFinite(made)) out.push(`Made ${f.time('recipe.createdAt', made, 'recipe')}${r.model ? ` with model ${f.name('recipe.model', `${r.model.id} ${r.model.version}`, 'recipe')}` : ''}.`);
  return out.join(' ');
}
