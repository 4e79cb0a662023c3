/**
 * Text classes of the decoder's prototype table (SPEC §3) and how a class is chosen.
 * Pure: imports nothing internal.
 *
 * The seed chooses the class by scanning the *whole prompt* (web demo: the accumulated history)
 * for the first CLASS_NAMES entry that occurs as a substring, falling back to `object`
 * (`resolveClassFromPrompt`, kept faithful for reproduction and tests). That rule has the
 * defects SPEC §10.6 lists: "applicable" hits `cable`, "versatile" hits `tile`, the VisA
 * "chewinggom" typo gives `object`, "pipe fryum" gives `fryum` (scanned first), and in a
 * dialogue a technician's later words can switch the map's class mid-conversation.
 * The runtime therefore resolves the *configured part name* exactly (`resolvePartName`):
 * underscores → spaces, lower case, must be a row of the bundle's table, else E_PART_UNKNOWN
 * at load time. The map of an inspection never depends on what is typed in the chat.
 */

/** Names the seed prebuilds prototypes for (SPEC §3 "Object names"), the tiny bundle's table. */
export const PREBUILT_CLASS_NAMES: readonly string[] = [
  'bottle', 'cable', 'capsule', 'carpet', 'grid', 'hazelnut', 'leather', 'metal nut', 'pill', 'screw',
  'tile', 'toothbrush', 'transistor', 'wood', 'zipper', 'object', 'candle', 'cashew', 'chewinggum',
  'fryum', 'macaroni', 'pcb', 'pipe fryum', 'macaroni1', 'macaroni2', 'pcb1', 'pcb2', 'pcb3', 'pcb4',
  'capsules',
];

/** The scan order of the seed's class choice (SPEC §3 "Choosing the class at inference"). */
const CLASS_SCAN_ORDER: readonly string[] = [
  'bottle', 'cable', 'capsule', 'carpet', 'grid', 'hazelnut', 'leather', 'metal nut', 'pill', 'screw',
  'tile', 'toothbrush', 'transistor', 'wood', 'zipper', 'object', 'candle', 'cashew', 'chewinggum',
  'fryum', 'macaroni', 'pcb', 'pipe fryum',
];

const FALLBACK_CLASS = 'object';

/** The seed's rule, verbatim: first scan-order name that is a substring of the prompt, else `object`. */
export function resolveClassFromPrompt(prompt: string): string {
  for (const name of CLASS_SCAN_ORDER) if (prompt.includes(name)) return name;
  return FALLBACK_CLASS;
}

/** Canonical form of a configured part name (SPEC §3: underscores in a looked-up name become spaces). */
export function canonicalPartName(name: string): string {
  return name.trim().toLowerCase().replace(/_/g, ' ').replace(/\s+/g, ' ');
}

/** Row of `name` in `classes`, or -1. Exact match on the canonical form, no substring scan. */
export function resolvePartName(name: string, classes: readonly string[]): number {
  return classes.indexOf(canonicalPartName(name));
}

/** Prompt templates and states (SPEC §3), for the export script's sentence table. */
const TEMPLATES = ['a photo of a {}.', 'a photo of the {}.'] as const;
const NORMAL_STATES = ['{}', 'flawless {}', 'perfect {}', 'unblemished {}', '{} without flaw', '{} without defect', '{} without damage'] as const;
const ABNORMAL_STATES = ['damaged {}', 'broken {}', '{} with flaw', '{} with defect', '{} with damage'] as const;

/** The 14 normal and 10 abnormal sentences of a class, in the seed's order (state, then template). */
export function prototypeSentences(name: string): { normal: string[]; abnormal: string[] } {
  const build = (states: readonly string[]): string[] =>
    states.flatMap((s) => TEMPLATES.map((t) => t.replace('{}', s.replace('{}', name))));
  return { normal: build(NORMAL_STATES), abnormal: build(ABNORMAL_STATES) };
}
