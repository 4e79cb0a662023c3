/**
 * The recipes as the grounded answerer sees them (src/dialogue/grounded/ports.ts RecipeLookup):
 * the recipe book's loaded recipe of that id — the one the camera inspects with now; the
 * answer itself says when its version is not the one recorded with the inspection.
 */
import type { RecipeLookup } from '../dialogue/grounded/ports.js';
import type { RecipeBook } from '../fewshot/recipe/recipe-book.js';

export function recipeLookup(recipes: Pick<RecipeBook, 'recipe'>): RecipeLookup {
  return (id) => {
    const r = recipes.recipe(id);
    if (!r) return undefined;
    const b = r.boundary;
    return {
      id: r.id,
      version: r.version,
      createdAt: r.createdAt,
      references: r.references.map((x) => x.name),
      boundary: { threshold: b.threshold, rule: b.rule, normalLevel: b.normalLevel, defectLevel: b.defectLevel },
      model: { id: r.bundle.id, version: r.bundle.version },
    };
  };
}
