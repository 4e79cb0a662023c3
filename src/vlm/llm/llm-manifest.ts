/**
 * The LLM bundle manifest (`manifest.json` next to `llm.onnx`, `embeddings.bin` and the
 * tokenizer): the decoder's dimensions (src/vlm/llm/llm-interface.ts), the embedding table's
 * shape, the tokenizer and its special ids, default stop tokens, and a sha256 per file.
 * Separate from the patch-feature bundle schema, which is closed (additionalProperties: false).
 */
import { Type, type Static } from '@sinclair/typebox';
import { ProvenanceSchema, fileEntrySchema, manifestHeader } from '../../inference/manifest-parts.js';

export const LLM_BUNDLE_SCHEMA_ID = 'anomalygpt-edge/llm-bundle@1';

const FileEntry = fileEntrySchema(
  Type.Union([Type.Literal('decoder'), Type.Literal('embeddings'), Type.Literal('tokenizer'), Type.Literal('other')]),
);

const Positive = Type.Integer({ minimum: 1 });

const LlmConfigSchema = Type.Object(
  {
    hidden: Positive,
    intermediate: Positive,
    layers: Positive,
    heads: Positive,
    kvHeads: Positive,
    headDim: Positive,
    vocabSize: Positive,
    contextLength: Positive,
    rmsNormEps: Type.Number({ exclusiveMinimum: 0 }),
    ropeTheta: Type.Number({ exclusiveMinimum: 0 }),
    ropeLayout: Type.Union([Type.Literal('interleaved'), Type.Literal('half')]),
  },
  { additionalProperties: false },
);

export const LlmManifestSchema = Type.Object(
  {
    ...manifestHeader(LLM_BUNDLE_SCHEMA_ID, 'llm'),
    files: Type.Array(FileEntry, { minItems: 3 }),
    config: LlmConfigSchema,
    decoder: Type.Object({ file: Type.String({ minLength: 1 }), opset: Positive }, { additionalProperties: false }),
    /** Raw little-endian float32, row-major [vocab, hidden]: row i embeds token i (SPEC §6). */
    embeddings: Type.Object(
      {
        file: Type.String({ minLength: 1 }),
        dtype: Type.Literal('float32'),
        shape: Type.Tuple([Positive, Positive]),
      },
      { additionalProperties: false },
    ),
    tokenizer: Type.Object(
      {
        file: Type.String({ minLength: 1 }),
        format: Type.Literal('llama2c'),
        vocabSize: Positive,
        bosId: Type.Integer({ minimum: 0 }),
        eosId: Type.Integer({ minimum: 0 }),
      },
      { additionalProperties: false },
    ),
    generation: Type.Object(
      {
        /** Generation ends when one of these is produced (llama2.c: BOS; Vicuna/AnomalyGPT: 2277 "##"). */
        stopTokenIds: Type.Array(Type.Integer({ minimum: 0 })),
      },
      { additionalProperties: false },
    ),
    provenance: ProvenanceSchema,
  },
  { additionalProperties: false },
);

export type LlmManifest = Static<typeof LlmManifestSchema>;
