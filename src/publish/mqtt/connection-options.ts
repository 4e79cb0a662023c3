/**
 * mqtt.js client options from the `mqtt:` config slice. Secrets and TLS files are read here,
 * once, when the publisher is constructed: a missing password or an unreadable certificate is
 * a configuration error (E_CONFIG_INVALID, exit 78) at start-up, not a reconnect loop.
 *
 * Session choice (docs/mqtt.md "Delivery"): clean session / Clean Start with Session Expiry 0.
 * Durability is ours (the inspection record), not the broker's: a persistent session would let the
 * broker replay commands (a stale trigger) after an outage, and would keep un-acked packets
 * that we re-send from disk anyway. `queueQoSZero: false`: nothing we need is QoS 0 except
 * Sparkplug data, which must not be replayed late (a new BIRTH replaces it).
 */
import { readFileSync } from 'node:fs';
import type { IClientOptions } from 'mqtt';
import { resolveSecret, type SecretEnvironment } from '../../config/index.js';
import { AppError, ErrorCodes } from '../../errors.js';
import type { MqttConfig } from '../../config/mqtt.js';

export interface Will {
  readonly topic: string;
  readonly payload: Buffer;
  readonly qos: 0 | 1;
  readonly retain: boolean;
}

function readPem(file: string, key: string): Buffer {
  try {
    return readFileSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? String(e);
    throw new AppError(ErrorCodes.CONFIG_INVALID, `mqtt.tls.${key}: ${file} cannot be read (${code})`, { cause: e });
  }
}

/** Credentials and TLS material, resolved once. */
export interface MqttCredentials {
  readonly username?: string;
  readonly password?: string;
  readonly ca?: Buffer;
  readonly cert?: Buffer;
  readonly key?: Buffer;
}

export function resolveCredentials(config: MqttConfig, environment: SecretEnvironment = {}): MqttCredentials {
  if (config.password && config.username === undefined) {
    throw new AppError(ErrorCodes.CONFIG_INVALID, 'mqtt.password: a password needs mqtt.username');
  }
  const tls = config.tls;
  if (tls && (tls.cert === undefined) !== (tls.key === undefined)) {
    throw new AppError(ErrorCodes.CONFIG_INVALID, 'mqtt.tls: cert and key go together (client certificate and its private key)');
  }
  if (tls && !config.url.startsWith('mqtts://')) {
    throw new AppError(ErrorCodes.CONFIG_INVALID, 'mqtt.tls is set but mqtt.url is not mqtts://');
  }
  return {
    ...(config.username !== undefined ? { username: config.username } : {}),
    ...(config.password ? { password: resolveSecret(config.password, 'mqtt.password', environment) } : {}),
    ...(tls?.ca ? { ca: readPem(tls.ca, 'ca') } : {}),
    ...(tls?.cert ? { cert: readPem(tls.cert, 'cert') } : {}),
    ...(tls?.key ? { key: readPem(tls.key, 'key') } : {}),
  };
}

export function clientOptions(config: MqttConfig, credentials: MqttCredentials, clientId: string, will: Will): IClientOptions {
  return {
    protocolVersion: config.protocolVersion,
    clientId,
    clean: true,
    keepalive: config.keepaliveS,
    reconnectPeriod: config.reconnectPeriodMs,
    connectTimeout: 10_000,
    queueQoSZero: false,
    resubscribe: true,
    will: { ...will },
    ...(config.protocolVersion === 5 ? { properties: { sessionExpiryInterval: 0 } } : {}),
    ...(credentials.username !== undefined ? { username: credentials.username } : {}),
    ...(credentials.password !== undefined ? { password: credentials.password } : {}),
    ...(credentials.ca ? { ca: credentials.ca } : {}),
    ...(credentials.cert ? { cert: credentials.cert } : {}),
    ...(credentials.key ? { key: credentials.key } : {}),
    ...(config.url.startsWith('mqtts://') ? { rejectUnauthorized: config.tls?.rejectUnauthorized ?? true } : {}),
  };
}
