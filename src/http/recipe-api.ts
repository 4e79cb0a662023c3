/**
 * What the review and recipe routes need of the daemon (docs/http-api.md "Review the verdict,
 * teach the recipe" and "Recipes"), as plain data: the composition root implements it over
 * the recipe book, the engine and the record (src/daemon/recipe-desk.ts); src/http knows no
 * few-shot code (README "Import rules").
 */
import type { Principal } from './access.js';

export type ReviewLabel = 'good' | 'defect';

/** A review action as stored with the inspection (the record's `reviews`). */
export interface ReviewView {
  readonly id: number;
  readonly inspectionId: string;
  readonly at: number;
  readonly user: string;
  readonly action: 'review' | 'undo';
  readonly label: ReviewLabel | null;
  readonly recipeId: string;
  readonly fromVersion: string | null;
  readonly toVersion: string | null;
  readonly undoes: number | null;
  readonly note: string | null;
  readonly evidence: string | null;
  /** True for a review that an undo reverted. */
  readonly undone?: boolean;
}

export interface ReviewOutcome {
  readonly review: ReviewView;
  /** `good` on a fail: the recipe version it produced. */
  readonly recipe?: { readonly id: string; readonly version: string; readonly previousVersion: string };
  /** `good` on a fail: the same frame judged again by the new version. */
  readonly rescored?: { readonly pass: boolean; readonly score: number; readonly threshold: number };
  /** Milliseconds from the request to the swapped-in version (measured by the desk). */
  readonly ms?: number;
}

export interface UndoOutcome {
  readonly recipe: { readonly id: string; readonly version: string };
  readonly undone: ReviewView;
  readonly review: ReviewView;
}

export interface RelearnOutcome {
  readonly recipe: { readonly id: string; readonly version: string; readonly previousVersion: string };
  readonly threshold: { readonly before: number; readonly after: number };
  /** Line frames that joined the evidence, and their scores against the bank. */
  readonly frames: number;
  readonly scores: readonly number[];
}

export interface RecipeSummary {
  readonly id: string;
  readonly version: string;
  readonly createdAt: string;
  readonly references: number;
  readonly bundle: { readonly id: string; readonly version: string };
  /** Cameras inspecting with it now. */
  readonly cameras: readonly string[];
  /** Kept earlier versions. */
  readonly versions: number;
}

export interface RecipeDetail extends Omit<RecipeSummary, 'references' | 'versions'> {
  readonly references: readonly { readonly name: string; readonly sha256: string; readonly kept: boolean }[];
  readonly boundary: unknown;
  readonly input: { readonly width: number; readonly height: number };
  readonly evidence: { readonly heldOut: number; readonly perturbed: number; readonly synthetic: number; readonly added: number; readonly missedDefects: number };
  readonly versions: readonly { readonly version: string; readonly createdAt: string; readonly references: number; readonly threshold: number }[];
  readonly reviews: readonly ReviewView[];
  /** The review an undo would revert now (its recipe version is the active one), or null. */
  readonly undoable: ReviewView | null;
}

/** One uploaded image, before any check. */
export interface UploadedImage {
  readonly name: string;
  readonly contentType: string;
  readonly bytes: Uint8Array;
}

export type RecipeSource = { readonly images: readonly UploadedImage[] } | { readonly inspections: readonly string[] };

export interface RecipeDesk {
  review(inspectionId: string, label: ReviewLabel, note: string | null, by: Principal): Promise<ReviewOutcome>;
  undo(recipeId: string, by: Principal): Promise<UndoOutcome>;
  /** The boundary learnt again with these passes of the line as held-out evidence (engineer). */
  relearn(recipeId: string, inspections: readonly string[], by: Principal): Promise<RelearnOutcome>;
  reviews(inspectionId: string): ReviewView[];
  list(): Promise<RecipeSummary[]>;
  get(id: string): Promise<RecipeDetail>;
  reference(id: string, name: string): Promise<{ readonly bytes: Uint8Array; readonly type: string }>;
  /**
   * `unlabelled`: the images are frames of the line, most good, a few not — outliers by mutual
   * scoring are dropped before calibration (README "Learning from the line"); `dropped` names them.
   */
  create(id: string, source: RecipeSource, options: { readonly replace: boolean; readonly unlabelled?: boolean; readonly by: Principal }): Promise<RecipeDetail & { readonly dropped?: readonly string[] }>;
}
