/**
 * `eval --feedback N` and `eval --bootstrap N --contamination F`: run the line experiments
 * (src/eval/feedback.ts, src/eval/bootstrap-eval.ts, protocols there) and print mean ± std
 * over the draws.
 */
import type { Cv } from '../capture/opencv.js';
import type { Category } from '../eval/dataset.js';
import { bootstrapExperiment, type BootstrapDraw } from '../eval/bootstrap-eval.js';
import { feedbackExperiment, type FeedbackDraw } from '../eval/feedback.js';
import { meanStd } from '../eval/metrics.js';
import type { SubsetMetrics } from '../eval/test-stream.js';
import type { Engine } from '../fewshot/engine.js';
import type { RecipeSettings } from '../fewshot/recipe/settings.js';

const fmt = (xs: number[], digits = 3) => {
  const m = meanStd(xs);
  return `${m.mean.toFixed(digits)} ± ${m.std.toFixed(digits)}`;
};
const line = (label: string, ms: SubsetMetrics[]) =>
  `${label.padEnd(12)} accuracy ${fmt(ms.map((m) => m.accuracy))}  image AUROC ${fmt(ms.map((m) => m.imageAuroc))}  false rejects ${fmt(ms.map((m) => m.falseRejects), 1)}  misses ${fmt(ms.map((m) => m.misses), 1)}`;

export interface ExperimentOptions {
  readonly shots: number;
  readonly draws: number;
  readonly seed: number;
  readonly settings: RecipeSettings;
  readonly feedback?: number;
  readonly bootstrap?: number;
  readonly contamination: number;
}

export async function runExperiment(cv: Cv, cat: Category, engine: Engine, o: ExperimentOptions, out: (s: string) => void, err: (s: string) => void): Promise<unknown> {
  const progress = (draw: number, stage: string) => err(`\r  draw ${draw}/${o.draws} ${stage}          `);
  if (o.feedback !== undefined) {
    const r: FeedbackDraw[] = await feedbackExperiment(cv, cat, engine, { ...o, feedback: o.feedback, progress });
    err('\n');
    out(`${cat.name}: ${o.shots}-shot, first ${o.feedback} false rejects marked good (marked ${fmt(r.map((d) => d.marked.length), 1)}), on the ${fmt(r.map((d) => d.before.images), 0)} remaining images:\n`);
    out(`  ${line('before', r.map((d) => d.before))}\n  ${line('after', r.map((d) => d.after))}\n  ${line('rebuilt', r.map((d) => d.rebuilt))}\n  ${line('rebuilt+line', r.map((d) => d.rebuiltLine))}\n`);
    const adds = r.flatMap((d) => d.addMs);
    if (adds.length) out(`  add reference + new scorer: ${fmt(adds, 0)} ms (max ${Math.max(...adds).toFixed(0)} ms, ${adds.length} adds)\n`);
    return { category: cat.name, experiment: 'feedback', shots: o.shots, feedback: o.feedback, draws: r };
  }
  const frames = o.bootstrap as number;
  const r: BootstrapDraw[] = await bootstrapExperiment(cv, cat, engine, { ...o, frames, progress });
  err('\n');
  const nd = Math.round(o.contamination * frames);
  out(`${cat.name}: ${frames} unlabelled frames, ${nd} defective (${(o.contamination * 100).toFixed(0)} %); dropped ${fmt(r.map((d) => d.dropped.length), 1)} frames, ${fmt(r.map((d) => d.droppedDefective), 1)} of them defective; on the ${fmt(r.map((d) => d.bootstrap.images), 0)} other test images:\n`);
  out(`  ${line('bootstrap', r.map((d) => d.bootstrap))}\n  ${line('naive', r.map((d) => d.naive))}\n  ${line('clean', r.map((d) => d.clean))}\n`);
  return { category: cat.name, experiment: 'bootstrap', frames, contamination: o.contamination, draws: r };
}
