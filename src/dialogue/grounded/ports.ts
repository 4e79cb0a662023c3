/**
 * What the grounded answerer reads, as small interfaces the daemon fills in: the inspection
 * record (src/archive/inspection-record.ts satisfies GroundedArchive as it is) and the recipes
 * (the daemon maps src/fewshot/recipe/recipe-book.ts to RecipeLookup — dialogue/ never imports
 * fewshot/).
 */
import type { InspectionRecord } from '../../archive/inspection-record.js';

export type GroundedArchive = Pick<InspectionRecord, 'get' | 'history' | 'counts' | 'judgeScores' | 'oldestCapturedAt'>;

/** A recipe as far as the answers need it. */
export interface RecipeFacts {
  readonly id: string;
  readonly version: string;
  /** ISO time the recipe was made. */
  readonly createdAt?: string;
  /** Names of its good reference images. */
  readonly references: readonly string[];
  /** How its boundary was derived (src/judge/boundary.ts). */
  readonly boundary: { readonly threshold: number; readonly rule: string; readonly normalLevel: number; readonly defectLevel: number };
  /** The bundle it was made with. */
  readonly model?: { readonly id: string; readonly version: string };
}

/**
 * The recipe `id`: at `version` when that version can still be read, else the one loaded now
 * (its own version says which); undefined when the daemon has no such recipe.
 */
export type RecipeLookup = (id: string, version: string) => RecipeFacts | undefined;

export interface GroundedDeps {
  readonly archive: GroundedArchive;
  readonly recipes?: RecipeLookup;
  /** The configured camera ids (a question may name one). */
  readonly cameras?: () => readonly string[];
  /** Default Date.now. */
  readonly now?: () => number;
}
