/**
 * The drift watch (issue 10 item 6): per recipe, the judge's scores of the last N passes and
 * the drift state of src/judge/drift.ts over them. A verdict sink (it sees every recorded
 * verdict, after the record), seeded from the record at first use so a restart does not
 * forget the window. The window belongs to one recipe *version*: a new version (recalibrated,
 * taught) has a new boundary and bank, so its window starts again from its own passes.
 *
 * Read by /status, the page (SSE `drift`), the MQTT state message and the OPC UA DriftState
 * tag, all through report(); listeners hear each change of state.
 */
import { toError } from '../errors.js';
import type { Frame } from '../capture/frame.js';
import { DRIFT_MINIMUM, DRIFT_WINDOW, driftOf, type DriftReport } from '../judge/drift.js';
import type { Verdict } from '../judge/verdict.js';
import type { Logger } from '../log.js';

/** What the drift rule needs of a recipe (the recipe book has it). */
export interface DriftRecipe {
  readonly version: string;
  readonly boundary: number;
  /** Calibration normal scores the boundary was derived from (held-out, or perturbed when k = 1). */
  readonly normalScores: readonly number[];
}

export interface RecipeDrift extends DriftReport {
  readonly recipe: string;
  readonly version: string;
}

export interface DriftWatchOptions {
  /** The loaded recipe (undefined when it is not loaded). */
  readonly recipe: (id: string) => DriftRecipe | undefined;
  /** The judge's scores of the recipe version's newest passes, newest first (the record). */
  readonly history: (id: string, version: string, limit: number) => readonly number[];
  readonly logger: Logger;
  readonly window?: number;
  readonly minimum?: number;
}

interface Window {
  readonly version: string;
  /** Oldest first; at most `window` long. */
  readonly scores: number[];
  report: RecipeDrift;
}

export class DriftWatch {
  readonly name = 'drift';
  readonly #o: DriftWatchOptions;
  readonly #size: number;
  readonly #windows = new Map<string, Window>();
  readonly #listeners = new Set<(report: RecipeDrift, previous: RecipeDrift | undefined) => void>();

  constructor(options: DriftWatchOptions) {
    this.#o = options;
    this.#size = options.window ?? DRIFT_WINDOW;
  }

  /** A recorded verdict: its judge-passed score joins its recipe version's window. */
  publish(verdict: Verdict, _frame?: Frame): void {
    const id = verdict.recipe.id;
    const w = this.#window(id, verdict.recipe.version);
    if (!w) return;
    const judgePass = verdict.judge?.pass ?? verdict.pass;
    if (!judgePass) return;
    w.scores.push(verdict.judge?.score ?? verdict.score);
    if (w.scores.length > this.#size) w.scores.shift();
    this.#update(id, w);
  }

  /** The current state of a recipe (its loaded version); undefined when it is not loaded. */
  report(recipeId: string): RecipeDrift | undefined {
    const r = this.#o.recipe(recipeId);
    return r ? this.#window(recipeId, r.version)?.report : undefined;
  }

  /** Every recipe seen so far. */
  reports(): RecipeDrift[] {
    return [...this.#windows.values()].map((w) => w.report);
  }

  onChange(listener: (report: RecipeDrift, previous: RecipeDrift | undefined) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #window(id: string, version: string): Window | undefined {
    const have = this.#windows.get(id);
    if (have && have.version === version) return have;
    const recipe = this.#o.recipe(id);
    // A verdict of a version that is no longer (or not yet) loaded: nothing to compare it with.
    if (!recipe || recipe.version !== version) return undefined;
    let seeded: number[] = [];
    try {
      seeded = [...this.#o.history(id, version, this.#size)].reverse();
    } catch (e) {
      this.#o.logger.warn({ err: toError(e), recipe: id }, 'drift watch: could not read recent passes from the record; starting empty');
    }
    const w: Window = { version, scores: seeded, report: undefined as unknown as RecipeDrift };
    w.report = this.#compute(id, w, recipe);
    this.#windows.set(id, w);
    if (have) this.#emit(w.report, have.report);
    return w;
  }

  #compute(id: string, w: Window, recipe: DriftRecipe): RecipeDrift {
    const newestFirst = [...w.scores].reverse();
    const r = driftOf({ passScores: newestFirst, boundary: recipe.boundary, normalScores: recipe.normalScores }, { window: this.#size, minimum: this.#o.minimum ?? DRIFT_MINIMUM });
    return { recipe: id, version: w.version, ...r };
  }

  #update(id: string, w: Window): void {
    const recipe = this.#o.recipe(id);
    if (!recipe || recipe.version !== w.version) return;
    const previous = w.report;
    w.report = this.#compute(id, w, recipe);
    if (previous.state !== w.report.state) this.#emit(w.report, previous);
  }

  #emit(report: RecipeDrift, previous: RecipeDrift | undefined): void {
    if (previous?.state !== report.state) {
      this.#o.logger[report.state === 'drifting' ? 'warn' : 'info'](
        { recipe: report.recipe, version: report.version, state: report.state, from: previous?.state ?? null, margin: report.margin, passes: report.passes },
        `drift watch: recipe ${report.recipe} is ${report.state}`,
      );
    }
    for (const l of this.#listeners) {
      try {
        l(report, previous);
      } catch (e) {
        this.#o.logger.warn({ err: toError(e) }, 'drift listener threw');
      }
    }
  }
}
