/**
 * The daemon's configuration: one TypeBox schema gives the TypeScript types, the runtime
 * check and the JSON Schema (DESIGN "src/config/"; Frigate/fastify: unknown keys are errors).
 *
 * Every object is `additionalProperties: false`. Defaults live in the schema (`default`) and
 * are applied by `Value.Default` before validation (see validate.ts).
 *
 * Two custom annotations (JSON Schema allows unknown keywords; tools ignore them):
 * - `x-discriminator: "kind"` on a union of objects: errors are reported against the branch
 *   that the discriminator value selects, not as a wall of union noise.
 * - `x-secret: true` on a secret reference: a literal string there gets a message saying why
 *   secrets do not belong in the YAML file.
 * - `x-pattern-message` on a string with a pattern: the error message in words.
 */
import { Type, type Static, type TLiteral, type TSchema, type TUnion } from '@sinclair/typebox';

/** Union of string literals; validate.ts turns its error into "must be one of a, b, c". */
function StringEnum<const T extends readonly string[]>(
  values: T,
  options: { default?: T[number]; description?: string } = {},
): TUnion<TLiteral<T[number]>[]> {
  return Type.Union(values.map((v) => Type.Literal(v)), options) as TUnion<TLiteral<T[number]>[]>;
}

/** A discriminated union: the first property of every branch is the literal discriminator. */
function Tagged<T extends TSchema[]>(key: string, branches: [...T], options: Record<string, unknown> = {}) {
  return Type.Union(branches, { 'x-discriminator': key, ...options });
}

import { LOG_LEVELS } from '../log.js';
import { SecretRefSchema } from './secret-ref.js';
import { MqttConfigSchema } from './mqtt.js';
import { OpcuaConfigSchema } from './opcua.js';
import { AssistantConfigSchema } from './assistant.js';
import { ImagesSchema } from './images.js';

export { SecretRefSchema };

const Strict = { additionalProperties: false } as const;

/** A recipe id: also a folder name, so no path separators and no leading dot (one rule everywhere). */
const RECIPE_ID_PATTERN = '^[a-z0-9][a-z0-9_-]*$';
export const RECIPE_ID = new RegExp(RECIPE_ID_PATTERN);
const TRIGGER_MODES = ['free-run', 'on-demand'] as const;

const EXECUTION_PROVIDERS = ['tensorrt', 'cuda', 'cpu'] as const;

// --- secrets: SecretRefSchema lives in secret-ref.ts so the output slices (mqtt, opcua) can
// use it without an import cycle through this file. -----------------------------------------

// --- camera sources (discriminated by `kind`) -----------------------------------------------

const Dimension = (description: string) => Type.Integer({ minimum: 1, maximum: 16384, description });

const DeviceSourceSchema = Type.Object(
  {
    kind: Type.Literal('device'),
    index: Type.Integer({ minimum: 0, default: 0, description: 'V4L2 device index (/dev/videoN)' }),
    width: Type.Optional(Dimension('requested capture width')),
    height: Type.Optional(Dimension('requested capture height')),
    fps: Type.Optional(Type.Number({ exclusiveMinimum: 0, description: 'requested capture rate' })),
  },
  Strict,
);

const UrlSourceSchema = Type.Object(
  {
    kind: Type.Literal('url'),
    url: Type.String({ minLength: 1, description: 'rtsp/http URL, or a GStreamer pipeline with api: gstreamer' }),
    // No default: the capture side picks gstreamer for pipelines ('!'), ffmpeg for scheme URLs.
    api: Type.Optional(StringEnum(['any', 'ffmpeg', 'gstreamer'] as const)),
    username: Type.Optional(Type.String({ minLength: 1 })),
    password: Type.Optional(SecretRefSchema),
  },
  Strict,
);

const FileSourceSchema = Type.Object(
  {
    kind: Type.Literal('file'),
    path: Type.String({ minLength: 1, description: 'video file; relative to the config file' }),
    loop: Type.Boolean({ default: false }),
  },
  Strict,
);

const FolderSourceSchema = Type.Object(
  {
    kind: Type.Literal('folder'),
    path: Type.String({ minLength: 1, description: 'folder of images replayed in name order; relative to the config file' }),
    loop: Type.Boolean({ default: false }),
  },
  Strict,
);

const SimSourceSchema = Type.Object(
  {
    kind: Type.Literal('sim'),
    width: Type.Integer({ minimum: 32, maximum: 4096, default: 320 }),
    height: Type.Integer({ minimum: 32, maximum: 4096, default: 240 }),
    defectRate: Type.Number({ minimum: 0, maximum: 1, default: 0.3 }),
    seed: Type.Integer({ default: 1 }),
    references: Type.Optional(
      Type.String({ minLength: 1, description: 'folder of normal images to draw parts from; relative to the config file' }),
    ),
  },
  Strict,
);

const SourceSchema = Tagged('kind', [
  DeviceSourceSchema,
  UrlSourceSchema,
  FileSourceSchema,
  FolderSourceSchema,
  SimSourceSchema,
]);

// --- camera ---------------------------------------------------------------------------------

const FreeRunTriggerSchema = Type.Object(
  {
    mode: Type.Literal(TRIGGER_MODES[0]),
    fps: Type.Number({ minimum: 0, default: 2, description: '0 = as fast as the pipeline' }),
  },
  Strict,
);
const OnDemandTriggerSchema = Type.Object({ mode: Type.Literal(TRIGGER_MODES[1]) }, Strict);
// TypeBox merges an object default into a present object (Object.assign(default, value)),
// so the default names only the discriminator: `mode` defaults to free-run, fps then to 2.
const TriggerSchema = Tagged('mode', [FreeRunTriggerSchema, OnDemandTriggerSchema], {
  default: { mode: 'free-run' },
});

const ReconnectSchema = Type.Object(
  {
    initialDelayMs: Type.Integer({ minimum: 0, default: 500 }),
    maxDelayMs: Type.Integer({ minimum: 0, default: 30000 }),
  },
  { ...Strict, default: {} },
);

const CameraSchema = Type.Object(
  {
    id: Type.String({ pattern: '^[A-Za-z0-9_-]+$', 'x-pattern-message': 'must be letters, digits, _ or - (at least one)' }),
    recipe: Type.String({
      pattern: RECIPE_ID_PATTERN,
      'x-pattern-message': 'must be a recipe id: lower-case letters, digits, _ or -, starting with a letter or digit',
    }),
    source: SourceSchema,
    trigger: TriggerSchema,
    reconnect: ReconnectSchema,
  },
  Strict,
);

// --- the rest -------------------------------------------------------------------------------

const LoggingSchema = Type.Object(
  { level: StringEnum(LOG_LEVELS, { default: 'info' }) },
  { ...Strict, default: {} },
);

const InferenceSchema = Type.Object(
  {
    bundle: Type.String({ minLength: 1, description: 'folder with manifest.json; relative to the config file' }),
    executionProviders: Type.Array(StringEnum(EXECUTION_PROVIDERS), {
      minItems: 1,
      uniqueItems: true,
      default: ['tensorrt', 'cuda', 'cpu'],
      description: 'tried in order; the first that loads is used',
    }),
    intraOpThreads: Type.Integer({ minimum: 0, maximum: 256, default: 0, description: '0 = onnxruntime default' }),
    warmupRuns: Type.Integer({ minimum: 0, maximum: 100, default: 3 }),
  },
  Strict,
);

const RecipesSchema = Type.Object(
  { directory: Type.String({ minLength: 1, default: 'recipes', description: 'relative to stateDirectory' }) },
  { ...Strict, default: {} },
);

const ArchiveSchema = Type.Object(
  {
    directory: Type.String({ minLength: 1, default: 'archive', description: 'the inspection record (inspections.db + image files); relative to stateDirectory' }),
    maxRecords: Type.Integer({ minimum: 1, default: 10000, description: 'retention: the oldest inspections go beyond this count' }),
    maxBytes: Type.Integer({ minimum: 1, default: 2147483648, description: 'retention: the oldest inspections go beyond this size (rows + image files)' }),
    saveFrames: StringEnum(['all', 'fails', 'none'] as const, { default: 'fails' }),
    fsync: Type.Boolean({ default: true, description: 'true: every commit and image file is flushed to disk (survives power loss); false: survives process crashes only' }),
  },
  { ...Strict, default: {} },
);

const HttpSchema = Type.Object(
  {
    enabled: Type.Boolean({ default: true }),
    host: Type.String({ minLength: 1, default: '127.0.0.1' }),
    port: Type.Integer({ minimum: 0, maximum: 65535, default: 8787, description: '0 = any free port' }),
    headersTimeoutMs: Type.Integer({ minimum: 100, maximum: 60000, default: 5000, description: 'a client must send its request head within this (slow clients are cut off)' }),
    requestTimeoutMs: Type.Integer({ minimum: 100, maximum: 600000, default: 10000, description: 'a client must send its whole request within this (responses may stream longer)' }),
    tls: Type.Optional(
      Type.Object(
        {
          cert: Type.String({ minLength: 1, description: 'PEM certificate (chain); relative to the config file' }),
          key: Type.String({ minLength: 1, description: 'PEM private key; relative to the config file' }),
        },
        { ...Strict, description: 'serve HTTPS (session cookies then get Secure)' },
      ),
    ),
    sessionIdleMinutes: Type.Integer({ minimum: 1, maximum: 10080, default: 480, description: 'a signed-in session ends after this long unused (off loopback)' }),
    signInAttemptsPerMinute: Type.Integer({ minimum: 1, maximum: 1000, default: 5, description: 'failed sign-ins per client address per minute before 429' }),
    questionsPerMinute: Type.Integer({ minimum: 1, maximum: 10000, default: 30, description: 'questions per session (or client address) per minute before 429' }),
    liveFrames: Type.Integer({ minimum: 1, maximum: 64, default: 4, description: 'the newest frames (with their verdicts) kept in memory per camera for the live view' }),
    maxUploadBytes: Type.Integer({ minimum: 1024, maximum: 268435456, default: 16777216, description: 'largest image file accepted when a recipe is made from uploaded images (413 above)' }),
    maxUploadImages: Type.Integer({ minimum: 1, maximum: 1000, default: 64, description: 'most images in one recipe upload' }),
  },
  { ...Strict, default: {} },
);

const ShutdownSchema = Type.Object(
  { stepTimeoutMs: Type.Integer({ minimum: 1, default: 10000 }) },
  { ...Strict, default: {} },
);

export const ConfigSchema = Type.Object(
  {
    stateDirectory: Type.String({
      minLength: 1,
      default: './state',
      description: 'relative to the config file; $STATE_DIRECTORY (systemd StateDirectory=) overrides it',
    }),
    logging: LoggingSchema,
    inference: InferenceSchema,
    recipes: RecipesSchema,
    cameras: Type.Array(CameraSchema, { minItems: 1 }),
    archive: ArchiveSchema,
    images: ImagesSchema,
    http: HttpSchema,
    shutdown: ShutdownSchema,
    opcua: OpcuaConfigSchema,
    mqtt: MqttConfigSchema,
    assistant: AssistantConfigSchema,
  },
  { ...Strict, title: 'anomalygpt-edge configuration' },
);

export type Config = Static<typeof ConfigSchema>;
export type SecretRef = Static<typeof SecretRefSchema>;
export type InferenceConfig = Static<typeof InferenceSchema>;
export type CameraConfig = Static<typeof CameraSchema>;
export type SourceConfig = Static<typeof SourceSchema>;
export type SimSourceConfig = Static<typeof SimSourceSchema>;
export type TriggerConfig = Static<typeof TriggerSchema>;
export type TriggerMode = (typeof TRIGGER_MODES)[number];
export type ArchiveConfig = Static<typeof ArchiveSchema>;

/** The schema as plain JSON Schema (draft 2020-12), e.g. for editors' YAML validation. */
export function configJsonSchema(): Record<string, unknown> {
  const plain = JSON.parse(JSON.stringify(ConfigSchema)) as Record<string, unknown>;
  return { $schema: 'https://json-schema.org/draft/2020-12/schema', $id: 'anomalygpt-edge/config@1', ...plain };
}
