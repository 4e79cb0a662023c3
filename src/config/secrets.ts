/**
 * Secrets are references in the YAML file, resolved from the process environment or from
 * systemd credentials (LoadCredential= puts a file per credential in $CREDENTIALS_DIRECTORY,
 * readable only by the service). The file itself never holds a password.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AppError, ErrorCodes } from '../errors.js';
import type { SecretRef } from './schema.js';
import { joinPath, type ConfigIssue } from './validate.js';

export interface SecretEnvironment {
  /** Default: process.env. */
  env?: NodeJS.ProcessEnv;
  /** Default: env.CREDENTIALS_DIRECTORY. */
  credentialsDirectory?: string;
}

/**
 * The secret's value. `keyPath` (YAML notation, e.g. `cameras[0].source.password`) names the
 * key in the error. A credential file's single trailing newline is dropped (files made with
 * `echo` carry one); an unset or empty variable or an unreadable/empty file is E_CONFIG_INVALID.
 */
export function resolveSecret(ref: SecretRef, keyPath = 'secret', environment: SecretEnvironment = {}): string {
  const env = environment.env ?? process.env;
  if ('env' in ref) {
    const value = env[ref.env];
    if (value === undefined || value === '') {
      throw new AppError(ErrorCodes.CONFIG_INVALID, `${keyPath}: environment variable ${ref.env} is ${value === undefined ? 'not set' : 'empty'}`);
    }
    return value;
  }
  const dir = environment.credentialsDirectory ?? env.CREDENTIALS_DIRECTORY;
  if (dir === undefined || dir === '') {
    throw new AppError(
      ErrorCodes.CONFIG_INVALID,
      `${keyPath}: credential ${ref.credential} needs $CREDENTIALS_DIRECTORY (systemd LoadCredential=${ref.credential}:/path), which is not set`,
    );
  }
  let text: string;
  try {
    text = readFileSync(join(dir, ref.credential), 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? String(e);
    throw new AppError(ErrorCodes.CONFIG_INVALID, `${keyPath}: credential ${ref.credential} cannot be read from ${dir} (${code})`, { cause: e });
  }
  const value = text.replace(/\r?\n$/, '');
  if (value === '') throw new AppError(ErrorCodes.CONFIG_INVALID, `${keyPath}: credential ${ref.credential} is empty`);
  return value;
}

function isSecretRef(v: unknown): v is SecretRef {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const keys = Object.keys(v);
  return keys.length === 1 && (keys[0] === 'env' || keys[0] === 'credential') && typeof (v as Record<string, unknown>)[keys[0]] === 'string';
}

/**
 * Every secret reference in a validated config, with its key path. After validation the only
 * objects shaped `{ env: string }` / `{ credential: string }` are secret references, because
 * every other object rejects unknown keys.
 */
export function findSecretRefs(value: unknown, path = ''): Array<{ path: string; ref: SecretRef }> {
  if (isSecretRef(value)) return [{ path, ref: value }];
  if (Array.isArray(value)) return value.flatMap((v, i) => findSecretRefs(v, joinPath(path, i)));
  if (typeof value === 'object' && value !== null) {
    return Object.entries(value).flatMap(([k, v]) => findSecretRefs(v, joinPath(path, k)));
  }
  return [];
}

/** Issues for every secret reference that cannot be resolved now (values are discarded). */
export function checkSecrets(config: unknown, environment: SecretEnvironment = {}): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  for (const { path, ref } of findSecretRefs(config)) {
    try {
      resolveSecret(ref, path, environment);
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      issues.push({ path, message: message.startsWith(`${path}: `) ? message.slice(path.length + 2) : message });
    }
  }
  return issues;
}
