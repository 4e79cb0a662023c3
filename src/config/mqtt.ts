/**
 * The `mqtt:` slice of the daemon configuration (merged into the main schema by the
 * composition root). Same conventions as src/config/schema.ts: TypeBox, every object
 * `additionalProperties: false`, defaults in the schema, secrets as { env } / { credential }.
 */
import { Type, type Static } from '@sinclair/typebox';
import { SecretRefSchema } from './secret-ref.js';

const Strict = { additionalProperties: false } as const;

/** MQTT topic level characters we refuse in a prefix: wildcards, NUL, and empty levels. */
const PREFIX_PATTERN = '^(?!/)(?!.*//)(?!.*/$)[^#+\\u0000]+$';

const MqttTlsSchema = Type.Object(
  {
    ca: Type.Optional(Type.String({ minLength: 1, description: 'PEM CA bundle that signed the broker certificate; relative to the config file' })),
    cert: Type.Optional(Type.String({ minLength: 1, description: 'PEM client certificate (mutual TLS); relative to the config file' })),
    key: Type.Optional(Type.String({ minLength: 1, description: 'PEM private key of the client certificate; relative to the config file' })),
    rejectUnauthorized: Type.Boolean({ default: true, description: 'verify the broker certificate (leave true outside a lab)' }),
  },
  // No object default: `tls` present means TLS is wanted (and the URL must be mqtts://).
  Strict,
);

// The backlog lives in the inspection record (archive.*: its retention and fsync apply).
const MqttQueueSchema = Type.Object(
  {
    maxMessages: Type.Integer({ minimum: 1, default: 100000, description: 'most verdicts waiting for the broker; beyond it the oldest are skipped (counted as dropped)' }),
  },
  { ...Strict, default: {} },
);

const SparkplugSchema = Type.Object(
  {
    enabled: Type.Boolean({ default: false }),
    groupId: Type.String({ pattern: '^[^/#+\\u0000]+$', default: 'anomalygpt', 'x-pattern-message': 'must not contain / # or +' }),
    edgeNodeId: Type.String({ pattern: '^[^/#+\\u0000]+$', default: 'edge', 'x-pattern-message': 'must not contain / # or +' }),
  },
  { ...Strict, default: {} },
);

export const MqttConfigSchema = Type.Object(
  {
    enabled: Type.Boolean({ default: false }),
    url: Type.String({
      pattern: '^(mqtt|mqtts)://[^\\s]+$',
      default: 'mqtt://127.0.0.1:1883',
      'x-pattern-message': 'must be an mqtt:// or mqtts:// URL',
    }),
    protocolVersion: Type.Union([Type.Literal(5), Type.Literal(4)], { default: 5, description: '5 = MQTT 5, 4 = MQTT 3.1.1' }),
    clientId: Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_.-]+$', default: 'anomalygpt-edge' }),
    prefix: Type.String({
      minLength: 1,
      pattern: PREFIX_PATTERN,
      default: 'anomalygpt-edge',
      'x-pattern-message': 'must be topic levels without + or #, and without a leading, trailing or double /',
    }),
    username: Type.Optional(Type.String({ minLength: 1 })),
    password: Type.Optional(SecretRefSchema),
    tls: Type.Optional(MqttTlsSchema),
    publishMasks: Type.Boolean({ default: true, description: 'publish the defect mask PNG of failed inspections' }),
    keepaliveS: Type.Integer({ minimum: 5, maximum: 65535, default: 30 }),
    reconnectPeriodMs: Type.Integer({ minimum: 100, maximum: 600000, default: 2000 }),
    statePeriodS: Type.Integer({ minimum: 1, maximum: 86400, default: 30, description: 'the retained state topic is also republished this often' }),
    queue: MqttQueueSchema,
    sparkplug: Type.Optional(SparkplugSchema),
  },
  { ...Strict, default: {} },
);

export type MqttConfig = Static<typeof MqttConfigSchema>;
