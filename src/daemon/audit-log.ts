/**
 * The technician's actions, append-only (issue 10 item 4: "every action records who, when and
 * which recipe version it produced"): one JSON line per action in <stateDirectory>/audit.log —
 * { at (ISO 8601), user, action, inspection, recipe, fromVersion, toVersion, … }. Opened in
 * append mode for each line (O_APPEND: concurrent lines never interleave), so a rotated or
 * removed file is simply started again. The same action is stored with the inspection in the
 * record (`reviews`), which is what the page reads; this file is for people and log shippers.
 */
import { appendFile, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';

export interface AuditEntry {
  readonly user: string;
  readonly action: 'review' | 'undo' | 'recipe-create' | 'recipe-replace' | 'relearn';
  readonly inspection?: string | null;
  readonly recipe: string;
  readonly fromVersion: string | null;
  readonly toVersion: string | null;
  readonly [more: string]: unknown;
}

export class AuditLog {
  constructor(readonly path: string) {}

  async append(entry: AuditEntry, at = Date.now()): Promise<void> {
    await mkdir(dirname(this.path), { recursive: true });
    await appendFile(this.path, `${JSON.stringify({ at: new Date(at).toISOString(), ...entry })}\n`, { encoding: 'utf8', mode: 0o640 });
  }
}
