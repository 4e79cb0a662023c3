/**
 * JSON Schemas of the bundle manifests, generated from the TypeBox schemas the daemon checks
 * manifests with (issue 8: "so the Python side validates against them instead of re-declaring
 * the rules"). Written to models/schemas/ and committed; test/models/schemas.test.ts fails when
 * the committed files are not what this produces.
 *
 *   npm run gen:schemas                                          (re)write models/schemas/*.json
 *   node dist-tools/tools/models/gen-schemas.js --check          exit 1 when a file is stale
 *
 * TypeBox emits draft-07-style tuples (`items: [..]`, `additionalItems`); draft 2020-12 spells
 * them `prefixItems` + `items: false`, so they are rewritten here. A union of string constants
 * becomes one `enum` (same meaning; validators then name the allowed values in their errors).
 * Any keyword not in KNOWN stops the generator, so a TypeBox type with no JSON Schema meaning
 * (Date, Uint8Array, a transform) cannot slip into the files silently.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TSchema } from '@sinclair/typebox';
import { BUNDLE_SCHEMA_ID, BundleManifestSchema } from '../../src/fewshot/bundle-manifest.js';
import { LLM_BUNDLE_SCHEMA_ID, LlmManifestSchema } from '../../src/vlm/llm/llm-manifest.js';
import { ANOMALYGPT_BUNDLE_SCHEMA_ID, AnomalyGptManifestSchema } from '../../src/vlm/manifest.js';
import { repoRoot } from './build-default-bundle.js';

export const SCHEMAS_DIR = join('models', 'schemas');
const DRAFT = 'https://json-schema.org/draft/2020-12/schema';

interface SchemaSource {
  /** File name under models/schemas/. */
  file: string;
  /** The manifest's `schema` value, e.g. anomalygpt-edge/bundle@1. */
  schemaId: string;
  /** Where the TypeBox schema is declared (for the file's $comment). */
  from: string;
  schema: TSchema;
}

export const SCHEMA_SOURCES: readonly SchemaSource[] = [
  { file: 'bundle.schema.json', schemaId: BUNDLE_SCHEMA_ID, from: 'src/fewshot/bundle-manifest.ts BundleManifestSchema', schema: BundleManifestSchema },
  { file: 'llm-bundle.schema.json', schemaId: LLM_BUNDLE_SCHEMA_ID, from: 'src/vlm/llm/llm-manifest.ts LlmManifestSchema', schema: LlmManifestSchema },
  {
    file: 'anomalygpt-bundle.schema.json',
    schemaId: ANOMALYGPT_BUNDLE_SCHEMA_ID,
    from: 'src/vlm/manifest.ts AnomalyGptManifestSchema',
    schema: AnomalyGptManifestSchema,
  },
];

/** `$id` of a manifest schema: the manifest's own `schema` value as a URN (anomalygpt-edge/bundle@1 → urn:anomalygpt-edge:bundle@1). */
export const schemaUrn = (schemaId: string): string => `urn:${schemaId.replace('/', ':')}`;

// Keywords the manifests use; the first group is also the order keys are written in.
const ORDER = ['type', 'const', 'enum', 'pattern', 'minLength', 'minimum', 'exclusiveMinimum', 'minItems', 'maxItems', 'required', 'properties',
  'additionalProperties', 'prefixItems', 'items', 'anyOf'];
const KNOWN = new Set([...ORDER, 'additionalItems', 'maxLength', 'maximum', 'exclusiveMaximum', 'uniqueItems', 'description', 'title', 'default']);

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Node = { [k: string]: Json };

function convert(node: Node, at: string): Node {
  for (const k of Object.keys(node)) if (!KNOWN.has(k)) throw new Error(`gen-schemas: keyword ${k} at ${at} has no JSON Schema mapping here`);
  const n: Node = { ...node };
  if (n.type === 'array' && Array.isArray(n.items)) {
    n.prefixItems = n.items;
    n.items = n.additionalItems === false ? false : true;
    delete n.additionalItems;
  }
  const anyOf = n.anyOf;
  if (Array.isArray(anyOf) && anyOf.every((s) => isObj(s) && typeof s.const === 'string' && Object.keys(s).every((k) => k === 'const' || k === 'type'))) {
    delete n.anyOf;
    n.type = 'string';
    n.enum = anyOf.map((s) => (s as Node).const);
  }
  const sub = (v: Json, path: string): Json => (isObj(v) ? convert(v, path) : v);
  if (isObj(n.properties)) n.properties = Object.fromEntries(Object.entries(n.properties).map(([k, v]) => [k, sub(v, `${at}/properties/${k}`)]));
  for (const k of ['prefixItems', 'anyOf'] as const) {
    const list = n[k];
    if (Array.isArray(list)) n[k] = list.map((v, i) => sub(v, `${at}/${k}/${i}`));
  }
  for (const k of ['items', 'additionalProperties'] as const) if (isObj(n[k])) n[k] = sub(n[k], `${at}/${k}`);
  return ordered(n);
}

function isObj(v: Json | undefined): v is Node {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Keys in ORDER first, the rest alphabetically: the output does not depend on TypeBox's option order. */
function ordered(n: Node): Node {
  const rank = (k: string): number => (ORDER.includes(k) ? ORDER.indexOf(k) : ORDER.length);
  return Object.fromEntries(Object.keys(n).sort((a, b) => rank(a) - rank(b) || a.localeCompare(b)).map((k) => [k, n[k]]));
}

/** The JSON Schema document of one manifest type (TypeBox's symbol keys drop out in the JSON round trip). */
export function toJsonSchema(src: SchemaSource): Node {
  const plain = JSON.parse(JSON.stringify(src.schema)) as Node;
  return {
    $schema: DRAFT,
    $id: schemaUrn(src.schemaId),
    title: `${src.schemaId} manifest.json`,
    $comment: `Generated from ${src.from} by tools/models/gen-schemas.ts (npm run gen:schemas); do not edit.`,
    ...convert(plain, ''),
  };
}

/** File name → exact file text (2-space JSON, trailing newline), in SCHEMA_SOURCES order. */
export function generateSchemas(): Map<string, string> {
  return new Map(SCHEMA_SOURCES.map((s) => [s.file, `${JSON.stringify(toJsonSchema(s), null, 2)}\n`]));
}

/** Files under `dir` that are missing or differ from what the TypeBox schemas give. */
export function staleSchemas(dir: string): string[] {
  return [...generateSchemas()].filter(([file, text]) => !existsSync(join(dir, file)) || readFileSync(join(dir, file), 'utf8') !== text).map(([f]) => f);
}

function main(argv: readonly string[]): number {
  const dir = join(repoRoot(), SCHEMAS_DIR);
  if (argv.includes('--check')) {
    const stale = staleSchemas(dir);
    for (const f of stale) console.error(`${join(SCHEMAS_DIR, f)} is not what the TypeBox schemas give: run npm run gen:schemas`);
    return stale.length > 0 ? 1 : 0;
  }
  mkdirSync(dir, { recursive: true });
  for (const [file, text] of generateSchemas()) {
    writeFileSync(join(dir, file), text);
    console.log(join(SCHEMAS_DIR, file));
  }
  return 0;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = main(process.argv.slice(2));
}
