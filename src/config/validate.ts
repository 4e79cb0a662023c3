/**
 * Schema check → a list of issues, each with its key path in YAML notation
 * (`cameras[0].source.fps: unknown key`). Like fastify's option validation we report every
 * problem at once, so an engineer fixes the file in one pass, not one error per restart.
 */
import type { TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { ValueErrorType, type ValueError } from '@sinclair/typebox/errors';

export interface ConfigIssue {
  /** Key path in YAML notation, e.g. `cameras[0].source.fps`; `(root)` for the document. */
  path: string;
  message: string;
}

/** JSON pointer (`/cameras/0/source/fps`) → YAML notation (`cameras[0].source.fps`). */
export function yamlPath(pointer: string): string {
  if (pointer === '' || pointer === '/') return '(root)';
  let out = '';
  for (const raw of pointer.split('/').slice(1)) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (/^(0|[1-9][0-9]*)$/.test(key)) out += `[${key}]`;
    else out += out === '' ? key : `.${key}`;
  }
  return out;
}

/** Extends a YAML key path by a key or index. */
export function joinPath(base: string, key: string | number): string {
  if (typeof key === 'number') return `${base === '(root)' ? '' : base}[${key}]`;
  return base === '' || base === '(root)' ? key : `${base}.${key}`;
}

const SECRET_HINT =
  'use { env: NAME } (environment variable) or { credential: NAME } ' +
  '(systemd LoadCredential=, read from $CREDENTIALS_DIRECTORY/NAME)';

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function literalValues(schema: TSchema): string[] | undefined {
  const anyOf = (schema as { anyOf?: TSchema[] }).anyOf;
  if (!Array.isArray(anyOf) || anyOf.length === 0) return undefined;
  const values = anyOf.map((s) => (s as { const?: unknown }).const);
  return values.every((v) => typeof v === 'string') ? (values as string[]) : undefined;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return JSON.stringify(value);
}

/**
 * Every issue of `value` against `schema`. `value` should already carry the schema's
 * defaults (Value.Default), so missing-but-defaulted keys are not reported.
 */
export function collectIssues(schema: TSchema, value: unknown, pointerPrefix = ''): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const seen = new Set<string>();
  const add = (issue: ConfigIssue) => {
    const k = `${issue.path}\u0000${issue.message}`;
    if (!seen.has(k)) {
      seen.add(k);
      issues.push(issue);
    }
  };
  for (const error of Value.Errors(schema, value)) {
    // A missing required key also fails its own type check; "is required" says it all.
    if (error.value === undefined && error.type !== ValueErrorType.ObjectRequiredProperty) continue;
    for (const issue of explain(error, pointerPrefix)) add(issue);
  }
  return issues;
}

function explain(error: ValueError, prefix: string): ConfigIssue[] {
  const pointer = prefix + error.path;
  const path = yamlPath(pointer);
  const schema = error.schema as TSchema & Record<string, unknown>;
  switch (error.type) {
    case ValueErrorType.ObjectAdditionalProperties:
      return [{ path, message: 'unknown key' }];
    case ValueErrorType.ObjectRequiredProperty:
      return [{ path, message: 'is required' }];
    case ValueErrorType.ArrayUniqueItems:
      return [{ path, message: 'each item must be unique' }];
    case ValueErrorType.Union:
      return explainUnion(error, schema, pointer);
    case ValueErrorType.StringPattern:
      // `x-pattern-message` (schema.ts) says in words what the regular expression means.
      return [{ path, message: typeof schema['x-pattern-message'] === 'string' ? schema['x-pattern-message'] : lowerFirst(error.message) }];
    default:
      return [{ path, message: lowerFirst(error.message) }];
  }
}

function explainUnion(error: ValueError, schema: TSchema & Record<string, unknown>, pointer: string): ConfigIssue[] {
  const path = yamlPath(pointer);
  const value = error.value;
  const branches = (schema.anyOf ?? []) as TSchema[];

  const discriminator = schema['x-discriminator'];
  if (typeof discriminator === 'string') {
    // Report against the branch the discriminator picks (Frigate-style), not every branch.
    const tags = branches.map((b) => (b as unknown as { properties: Record<string, { const: string }> }).properties[discriminator].const);
    if (!isPlainObject(value)) return [{ path, message: `must be a mapping with ${discriminator}: one of ${tags.join(', ')}` }];
    const tag = value[discriminator];
    const index = tags.indexOf(tag as string);
    const tagPath = yamlPath(`${pointer}/${discriminator}`);
    if (tag === undefined) return [{ path: tagPath, message: `is required (one of ${tags.join(', ')})` }];
    if (index < 0) return [{ path: tagPath, message: `must be one of ${tags.join(', ')} (got ${describe(tag)})` }];
    const branch = branches[index];
    return collectIssues(branch, Value.Default(branch, Value.Clone(value)), pointer);
  }

  if (schema['x-secret'] === true) {
    if (typeof value === 'string') return [{ path, message: `must not be a literal secret (the config file is not a secret store): ${SECRET_HINT}` }];
    if (isPlainObject(value)) {
      const branch = branches.find((b) => Object.keys(value).some((k) => k in ((b as unknown as { properties: object }).properties)));
      if (branch) return collectIssues(branch, value, pointer);
    }
    return [{ path, message: `must be { env: NAME } or { credential: NAME }` }];
  }

  const literals = literalValues(schema);
  if (literals) return [{ path, message: `must be one of ${literals.join(', ')} (got ${describe(value)})` }];
  return [{ path, message: lowerFirst(error.message) }];
}

function lowerFirst(s: string): string {
  return s.length > 0 ? s[0].toLowerCase() + s.slice(1) : s;
}
