/**
 * The model bundle manifest (DESIGN "models are data"): everything the runtime needs to
 * feed and read a bundle's graphs, with a sha256 per file and the provenance. One schema
 * gives the TypeScript type and the runtime check.
 */
import { Type, type Static } from '@sinclair/typebox';
import { ProvenanceSchema, fileEntrySchema, manifestHeader } from '../inference/manifest-parts.js';

export const BUNDLE_SCHEMA_ID = 'anomalygpt-edge/bundle@1';

const FileEntry = fileEntrySchema(Type.String({ minLength: 1 }));

const Tap = Type.Object(
  {
    /** Graph output name. */
    output: Type.String({ minLength: 1 }),
    /** Human name (e.g. the source layer: block_5_add). */
    name: Type.String({ minLength: 1 }),
    channels: Type.Integer({ minimum: 1 }),
    stride: Type.Integer({ minimum: 1 }),
  },
  { additionalProperties: false },
);

const EncoderInput = Type.Object(
  {
    name: Type.String({ minLength: 1 }),
    layout: Type.Literal('NCHW'),
    /** Default input size; with `dynamicSize` any multiple of `sizeMultiple` works. */
    width: Type.Integer({ minimum: 16 }),
    height: Type.Integer({ minimum: 16 }),
    dynamicSize: Type.Boolean(),
    sizeMultiple: Type.Integer({ minimum: 1 }),
    /** squash: resize to width×height; shorter-side-crop: SPEC §1 test path. */
    resize: Type.Union([Type.Literal('squash'), Type.Literal('shorter-side-crop')]),
    channelOrder: Type.Union([Type.Literal('RGB'), Type.Literal('BGR')]),
    /** value = (pixel * scale − mean[c]) / std[c], per channel in channelOrder. */
    scale: Type.Number({ exclusiveMinimum: 0 }),
    mean: Type.Tuple([Type.Number(), Type.Number(), Type.Number()]),
    std: Type.Tuple([Type.Number(), Type.Number(), Type.Number()]),
  },
  { additionalProperties: false },
);

export const BundleManifestSchema = Type.Object(
  {
    ...manifestHeader(BUNDLE_SCHEMA_ID, 'patch-features'),
    files: Type.Array(FileEntry, { minItems: 1 }),
    encoder: Type.Object(
      {
        file: Type.String({ minLength: 1 }),
        input: EncoderInput,
        taps: Type.Array(Tap, { minItems: 1 }),
      },
      { additionalProperties: false },
    ),
    provenance: ProvenanceSchema,
  },
  { additionalProperties: false },
);

export type BundleManifest = Static<typeof BundleManifestSchema>;
export type TapSpec = Static<typeof Tap>;
export type EncoderInputSpec = Static<typeof EncoderInput>;
