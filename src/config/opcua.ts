/**
 * The `opcua:` slice of the configuration (merged into the main schema by the lead).
 *
 * Production defaults: signed and encrypted endpoints only, anonymous sessions off, unknown
 * client certificates rejected (they land in `<pki>/rejected` until someone runs
 * `anomalygpt-edge opcua trust`). `None` is offered only when it is listed explicitly, for a
 * commissioning laptop on an isolated network — never as a default.
 */
import { Type, type Static, type TLiteral, type TUnion } from '@sinclair/typebox';
import { SecretRefSchema } from './secret-ref.js';

const Strict = { additionalProperties: false } as const;

function StringEnum<const T extends readonly string[]>(values: T, description?: string): TUnion<TLiteral<T[number]>[]> {
  return Type.Union(values.map((v) => Type.Literal(v)), description === undefined ? {} : { description }) as TUnion<TLiteral<T[number]>[]>;
}

const OPCUA_SECURITY_MODES = ['None', 'Sign', 'SignAndEncrypt'] as const;
/** Policies of OPC 10000-7 that are not deprecated (Basic128Rsa15 and Basic256 are). */
const OPCUA_SECURITY_POLICIES = ['Basic256Sha256', 'Aes128_Sha256_RsaOaep', 'Aes256_Sha256_RsaPss'] as const;
const OPCUA_ROLES = ['operator', 'engineer'] as const;

const OpcuaUserSchema = Type.Object(
  {
    username: Type.String({ minLength: 1, maxLength: 128 }),
    password: SecretRefSchema,
    role: StringEnum(OPCUA_ROLES, 'operator: read, Trigger/Ack, Inspect, machine-vision jobs; engineer: also recipes'),
  },
  Strict,
);

export const OpcuaConfigSchema = Type.Object(
  {
    enabled: Type.Boolean({ default: false }),
    host: Type.String({ minLength: 1, default: '0.0.0.0', description: 'listen address' }),
    hostname: Type.Optional(
      Type.String({ minLength: 1, description: 'name advertised in endpoint URLs and the certificate (default: this host name)' }),
    ),
    port: Type.Integer({ minimum: 0, maximum: 65535, default: 4840, description: '0 = any free port' }),
    namespaceUri: Type.String({ minLength: 1, default: 'urn:anomalygpt-edge', description: 'namespace of the camera tags' }),
    securityModes: Type.Array(StringEnum(OPCUA_SECURITY_MODES), {
      minItems: 1,
      uniqueItems: true,
      default: ['SignAndEncrypt', 'Sign'],
      description: '"None" only when listed here',
    }),
    securityPolicies: Type.Array(StringEnum(OPCUA_SECURITY_POLICIES), {
      minItems: 1,
      uniqueItems: true,
      default: [...OPCUA_SECURITY_POLICIES],
    }),
    allowAnonymous: Type.Boolean({ default: false, description: 'anonymous sessions may read (never write or call)' }),
    users: Type.Array(OpcuaUserSchema, { default: [] }),
    pkiDirectory: Type.String({ minLength: 1, default: 'opcua-pki', description: 'relative to stateDirectory' }),
    maxSessions: Type.Integer({ minimum: 1, maximum: 1000, default: 20 }),
    includeMask: Type.Boolean({ default: false, description: 'publish the mask PNG as the MaskPng ByteString tag' }),
    staleAfterMs: Type.Integer({
      minimum: 100,
      default: 10000,
      description: 'free-run cameras: result tags turn Uncertain when no verdict came for this long',
    }),
    shutdownTimeoutMs: Type.Integer({ minimum: 0, default: 1000, description: 'time given to clients to close sessions' }),
  },
  { ...Strict, default: {} },
);

export type OpcuaConfig = Static<typeof OpcuaConfigSchema>;
export type OpcuaRole = (typeof OPCUA_ROLES)[number];
