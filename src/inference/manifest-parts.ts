/**
 * Schema parts every bundle manifest shares (default bundle, LLM bundle, AnomalyGPT bundle):
 * the header (schema, id, version, kind), a file entry with its sha256 and size, and the
 * provenance block.
 */
import { Type, type TSchema } from '@sinclair/typebox';

/** One file of a bundle; `role` is the bundle type's own set of roles. */
export function fileEntrySchema<R extends TSchema>(role: R) {
  return Type.Object(
    {
      // Relative to the bundle folder.
      path: Type.String({ minLength: 1, pattern: '^[^/].*' }),
      sha256: Type.String({ pattern: '^[0-9a-f]{64}$' }),
      bytes: Type.Integer({ minimum: 0 }),
      role,
    },
    { additionalProperties: false },
  );
}

export const ProvenanceSchema = Type.Object(
  { source: Type.String(), license: Type.String(), builtBy: Type.String(), notes: Type.Optional(Type.String()) },
  { additionalProperties: false },
);

/** Bundle ids: lower case, digits, '.', '_', '-'. */
const BUNDLE_ID_PATTERN = '^[a-z0-9][a-z0-9._-]*$';

/** The fields every manifest starts with: its schema id, the bundle's id and version, its kind. */
export function manifestHeader<S extends string, K extends string>(schema: S, kind: K) {
  return {
    schema: Type.Literal(schema),
    id: Type.String({ pattern: BUNDLE_ID_PATTERN }),
    version: Type.String({ minLength: 1 }),
    kind: Type.Literal(kind),
  };
}
