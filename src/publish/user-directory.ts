/**
 * The configured users (`opcua.users`: username, password secret, role) as one directory for
 * every door that signs people in: the OPC UA server and the technician's page (issue 10
 * item 8: "the same users and roles as OPC UA"). Passwords are resolved once, from the
 * environment or a systemd credential, and kept as SHA-256 digests only; the check is
 * constant-time on the password and costs the same for unknown users.
 * No node-opcua here: the HTTP server must not load it to check a password.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { resolveSecret, type SecretEnvironment } from '../config/index.js';
import type { OpcuaConfig, OpcuaRole } from '../config/opcua.js';
import { AppError, ErrorCodes } from '../errors.js';

interface UserEntry {
  readonly digest: Buffer;
  readonly role: OpcuaRole;
}

const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest();

export class UserDirectory {
  readonly #users = new Map<string, UserEntry>();

  constructor(users: OpcuaConfig['users'], environment: SecretEnvironment = {}) {
    users.forEach((u, i) => {
      if (this.#users.has(u.username)) {
        throw new AppError(ErrorCodes.CONFIG_INVALID, `opcua.users[${i}].username: duplicate user "${u.username}"`);
      }
      const password = resolveSecret(u.password, `opcua.users[${i}].password`, environment);
      this.#users.set(u.username, { digest: sha256(password), role: u.role });
    });
  }

  get size(): number {
    return this.#users.size;
  }

  /** Constant-time on the password (digests of equal length); unknown users cost the same. */
  isValidUser(username: string, password: string): boolean {
    const entry = this.#users.get(username);
    const given = sha256(password);
    const ok = timingSafeEqual(given, entry?.digest ?? sha256(`\0${password}`));
    return entry !== undefined && ok;
  }

  roleOf(username: string): OpcuaRole | undefined {
    return this.#users.get(username)?.role;
  }
}
