/**
 * The AnomalyGPT bundle manifest (`manifest.json`, schema `anomalygpt-edge/anomalygpt-bundle@1`).
 * One folder holds (SPEC §11 split):
 *   encoder.onnx           pixel [1,3,S,S] → img_emb [1,E] (unit norm), taps [4,1,P,W] (CLS dropped)
 *   decoder.bin            4 Linear W→E: float32 weights [4,E,W] (PyTorch (out,in)) then biases [4,E]
 *   text-prototypes.bin    float32 [classes, 2, E]: per class [normal, abnormal], unit vectors (SPEC §3)
 *   prompt-learner.onnx    map [1,1,S,S] → prompts [1,18,H] (9 base prompts first, SPEC §5)
 *   llama-proj.onnx        img_emb [1,E] → image_token [1,1,H]
 *   llm/                   an LLM sub-bundle (src/vlm/llm/llm-manifest.ts), hidden H
 * Decoder and prototypes are weights, not a graph: the map graph is built at load time for the
 * configured part (src/vlm/map-graphs.ts), so the class's prototypes are graph constants.
 */
import { Type, type Static } from '@sinclair/typebox';
import { ProvenanceSchema, fileEntrySchema, manifestHeader } from '../inference/manifest-parts.js';

export const ANOMALYGPT_BUNDLE_SCHEMA_ID = 'anomalygpt-edge/anomalygpt-bundle@1';

const Positive = Type.Integer({ minimum: 1 });
const Rel = Type.String({ minLength: 1, pattern: '^[^/].*' });

const FileEntry = fileEntrySchema(
  Type.Union([
    Type.Literal('encoder'),
    Type.Literal('decoder'),
    Type.Literal('text-prototypes'),
    Type.Literal('prompt-learner'),
    Type.Literal('llama-proj'),
    Type.Literal('llm-manifest'),
  ]),
);

export const AnomalyGptManifestSchema = Type.Object(
  {
    ...manifestHeader(ANOMALYGPT_BUNDLE_SCHEMA_ID, 'anomalygpt'),
    /** Every file, the LLM sub-bundle's manifest included (which pins its own files' sha256). */
    files: Type.Array(FileEntry, { minItems: 6 }),
    image: Type.Object(
      {
        /** Model input side S (224) and patch size (14): grid = S / patch. */
        size: Positive,
        patch: Positive,
        /** SPEC §1: CLIP constants, RGB order. */
        mean: Type.Tuple([Type.Number(), Type.Number(), Type.Number()]),
        std: Type.Tuple([Type.Number(), Type.Number(), Type.Number()]),
        /** SPEC §1 test path and every few-shot path: short side + centre crop; the web demo squashes. */
        resize: Type.Union([Type.Literal('shorter-side-crop'), Type.Literal('squash')]),
        interpolation: Type.Literal('bicubic-pil'),
      },
      { additionalProperties: false },
    ),
    encoder: Type.Object(
      {
        file: Rel,
        /** Tap width W (1280 for ImageBind-Huge) and embedding size E (1024). */
        width: Positive,
        embedDim: Positive,
        /** 1-based block indices the 4 taps come after (ImageBind-Huge: 8, 16, 24, 32). */
        tapBlocks: Type.Array(Positive, { minItems: 4, maxItems: 4 }),
      },
      { additionalProperties: false },
    ),
    decoder: Type.Object(
      {
        file: Rel,
        /** SPEC §3: fixed temperature 100 (not ImageBind's learned logit scale). */
        temperature: Type.Number({ exclusiveMinimum: 0 }),
      },
      { additionalProperties: false },
    ),
    textPrototypes: Type.Object(
      {
        file: Rel,
        /** Canonical names (lower case, spaces), row order of the file. */
        classes: Type.Array(Type.String({ minLength: 1 }), { minItems: 1 }),
        /** How they were made: 'imagebind-text' (real) or 'random' (tiny test bundle). */
        source: Type.String({ minLength: 1 }),
      },
      { additionalProperties: false },
    ),
    promptLearner: Type.Object(
      { file: Rel, basePrompts: Positive, mapPrompts: Positive },
      { additionalProperties: false },
    ),
    llamaProj: Type.Object({ file: Rel }, { additionalProperties: false }),
    llm: Type.Object(
      {
        /** Folder of the LLM sub-bundle, relative to this manifest. */
        dir: Rel,
        /** Its hidden size H; must equal the sub-bundle's config.hidden. */
        hidden: Positive,
      },
      { additionalProperties: false },
    ),
    verdict: Type.Object(
      {
        /** Words whose first token's logits are compared after the prefill (SPEC §6 answers start so). */
        yes: Type.String({ minLength: 1 }),
        no: Type.String({ minLength: 1 }),
      },
      { additionalProperties: false },
    ),
    provenance: ProvenanceSchema,
  },
  { additionalProperties: false },
);

export type AnomalyGptManifest = Static<typeof AnomalyGptManifestSchema>;

/** Derived sizes every stage checks against. */
export interface AnomalyGptDims {
  readonly size: number;
  readonly grid: number;
  readonly patches: number;
  readonly width: number;
  readonly embedDim: number;
  readonly hidden: number;
  readonly prompts: number;
}

/** Relations the schema cannot express; an empty list when the manifest is consistent. */
export function manifestProblems(m: AnomalyGptManifest): string[] {
  const p: string[] = [];
  if (m.image.size % m.image.patch !== 0) p.push(`image size ${m.image.size} is not a multiple of patch ${m.image.patch}`);
  const listed = new Set(m.files.map((f) => f.path));
  for (const f of [m.encoder.file, m.decoder.file, m.textPrototypes.file, m.promptLearner.file, m.llamaProj.file, `${m.llm.dir}/manifest.json`]) {
    if (!listed.has(f)) p.push(`${f} is not listed in files`);
  }
  if (new Set(m.textPrototypes.classes).size !== m.textPrototypes.classes.length) p.push('duplicate class names in textPrototypes');
  if (m.verdict.yes === m.verdict.no) p.push('verdict words must differ');
  return p;
}

export function dimsOf(m: AnomalyGptManifest): AnomalyGptDims {
  const grid = m.image.size / m.image.patch;
  return {
    size: m.image.size,
    grid,
    patches: grid * grid,
    width: m.encoder.width,
    embedDim: m.encoder.embedDim,
    hidden: m.llm.hidden,
    prompts: m.promptLearner.basePrompts + m.promptLearner.mapPrompts,
  };
}
