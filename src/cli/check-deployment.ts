/**
 * What `run` fails on with exit 78 although the configuration itself is valid, checked for
 * `check-config` without opening a model (issue 9: check-config said ok for a config whose
 * bundle folder did not exist):
 * - inference.bundle: manifest valid, every file present with its size and sha256 (the same
 *   loadBundle the engine step runs; ~9 MB of hashing for the default bundle);
 * - each camera's recipe: readable, bank sha256 (loadRecipe), calibrated with this bundle,
 *   scoring taps the bundle has, an input size the bundle accepts (as Inspector.open). A
 *   simulated camera's missing recipe is calibrated at start: a note, not a problem;
 * - assistant.bundle when enabled: manifest valid and every file present (not hashed: it
 *   holds gigabytes of LLM weights; `run` hashes it).
 */
import { readAnomalyGptManifest, verifyFiles } from '../vlm/bundle-reader.js';
import type { Config } from '../config/index.js';
import { isAppError, ErrorCodes, toError } from '../errors.js';
import { loadBundle } from '../fewshot/bundle.js';
import type { BundleManifest } from '../fewshot/bundle-manifest.js';
import { loadRecipe, type Recipe } from '../fewshot/recipe/recipe.js';

export interface DeploymentCheck {
  /** `key.path: E_CODE: message`, one per problem that would fail `run`. */
  readonly problems: string[];
  /** Facts worth saying that do not fail `run`. */
  readonly notes: string[];
}

function describe(e: unknown): string {
  return `${isAppError(e) ? `${e.code}: ` : ''}${toError(e).message}`;
}

export async function checkDeployment(config: Config): Promise<DeploymentCheck> {
  const problems: string[] = [];
  const notes: string[] = [];
  let manifest: BundleManifest | undefined;
  try {
    manifest = (await loadBundle(config.inference.bundle)).manifest;
  } catch (e) {
    problems.push(`inference.bundle: ${describe(e)}`);
  }

  for (const id of new Set(config.cameras.map((c) => c.recipe))) {
    const index = config.cameras.findIndex((c) => c.recipe === id);
    const key = `cameras[${index}].recipe`;
    let recipe: Recipe;
    try {
      recipe = await loadRecipe(config.recipes.directory, id);
    } catch (e) {
      const sim = config.cameras.some((c) => c.recipe === id && c.source.kind === 'sim');
      if (sim && isAppError(e, ErrorCodes.RECIPE_NOT_FOUND)) notes.push(`${key}: recipe ${id} does not exist yet; it will be calibrated from simulated parts at start`);
      else problems.push(`${key}: ${describe(e)}`);
      continue;
    }
    if (manifest) problems.push(...recipeMismatch(recipe, manifest).map((m) => `${key}: ${ErrorCodes.RECIPE_BUNDLE_MISMATCH}: ${m}`));
  }

  if (config.assistant.enabled && config.assistant.bundle !== undefined) {
    try {
      const m = await readAnomalyGptManifest(config.assistant.bundle);
      await verifyFiles(config.assistant.bundle, m, false);
    } catch (e) {
      problems.push(`assistant.bundle: ${describe(e)}`);
    }
  }
  return { problems, notes };
}

/** Why a recipe cannot run on a bundle (Inspector.open and Encoder.validateSize, without a session). */
function recipeMismatch(recipe: Recipe, manifest: BundleManifest): string[] {
  if (recipe.bundle.id !== manifest.id || recipe.bundle.version !== manifest.version) {
    return [`recipe ${recipe.id} was calibrated with bundle ${recipe.bundle.id}@${recipe.bundle.version}, the config names ${manifest.id}@${manifest.version}: recalibrate it`];
  }
  const out: string[] = [];
  const missing = recipe.bank.filter((t) => !manifest.encoder.taps.some((e) => e.output === t.output));
  if (missing.length > 0) out.push(`recipe ${recipe.id} scores taps ${missing.map((t) => t.name).join(', ')} that bundle ${manifest.id} does not have`);
  const input = manifest.encoder.input;
  const size = recipe.settings.input;
  const fixed = !input.dynamicSize && (size.width !== input.width || size.height !== input.height);
  if (fixed || size.width % input.sizeMultiple !== 0 || size.height % input.sizeMultiple !== 0) {
    out.push(`recipe ${recipe.id} input size ${size.width}x${size.height} is not valid for bundle ${manifest.id}`);
  }
  return out;
}
