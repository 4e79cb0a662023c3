/**
 * Signed-in sessions of the technician's page, in memory (a restart signs everyone out, which
 * on a line PC is the expected behaviour). The id is 256 random bits (the cookie), the CSRF
 * token another 256 (returned in the body, sent back in X-CSRF-Token). Idle sessions expire;
 * at most `maxSessions` are kept, the least recently used ending first.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';

export type Role = 'operator' | 'engineer';

export interface Session {
  readonly id: string;
  readonly user: string;
  readonly role: Role;
  readonly csrfToken: string;
  readonly createdAt: number;
  lastUsed: number;
}

const token = () => randomBytes(32).toString('base64url');

export class SessionStore {
  readonly #sessions = new Map<string, Session>();

  constructor(
    private readonly idleMs: number,
    private readonly now: () => number = Date.now,
    private readonly maxSessions = 1000,
  ) {}

  get size(): number {
    return this.#sessions.size;
  }

  create(user: string, role: Role): Session {
    const t = this.now();
    const s: Session = { id: token(), user, role, csrfToken: token(), createdAt: t, lastUsed: t };
    this.#sessions.set(s.id, s);
    while (this.#sessions.size > this.maxSessions) this.#sessions.delete(this.#sessions.keys().next().value as string);
    return s;
  }

  /** The live session of a cookie value (touched), or undefined. */
  get(id: string | undefined): Session | undefined {
    if (!id) return undefined;
    const s = this.#sessions.get(id);
    if (!s) return undefined;
    const t = this.now();
    this.#sessions.delete(id);
    if (t - s.lastUsed > this.idleMs) return undefined;
    s.lastUsed = t;
    this.#sessions.set(id, s);
    return s;
  }

  delete(id: string): void {
    this.#sessions.delete(id);
  }
}

/** Constant-time comparison of a presented CSRF token with the session's. */
export function sameToken(presented: unknown, expected: string): boolean {
  if (typeof presented !== 'string') return false;
  const a = Buffer.from(presented);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}
