/**
 * File-level helpers for the inspection archive: safe names, atomic writes, and the one
 * directory scan done at open(). A record is `<day>/<key>.json` plus optional
 * `<key>.frame.jpg` and `<key>.mask.png`; the JSON is written last and is the commit marker,
 * so a record exists exactly when its JSON does.
 */
import { randomBytes } from 'node:crypto';
import { open, readdir, rename, stat, unlink } from 'node:fs/promises';
import path from 'node:path';

export const FRAME_SUFFIX = '.frame.jpg';
export const MASK_SUFFIX = '.mask.png';
export const JSON_SUFFIX = '.json';
const TEMP_SUFFIX = '.tmp';
const DAY_RE = /^\d{4}-\d{2}-\d{2}$/;

/**
 * File stem for an inspection id: ids carry camera names, which may hold '/', spaces or
 * dots, so anything outside [A-Za-z0-9._-] becomes '_' and a leading '.' (hidden/temp files)
 * is replaced. The mapping is stable, so get(id) finds what record() wrote.
 */
export function fileKey(id: string): string {
  const safe = id.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\./, '_').slice(0, 200);
  return safe.length > 0 ? safe : '_';
}

/** Day folder, `yyyy-mm-dd` in UTC: stable across DST changes and plant time zones. */
export function dayOf(epochMs: number): string {
  return new Date(epochMs).toISOString().slice(0, 10);
}

/**
 * Write `data` to `target` through a temp file in the same folder and a rename, which is
 * atomic on POSIX file systems: readers (and a restart after a crash) see the old state or the
 * whole new file, never half of it. `fsync` also flushes the data before the rename, so a
 * power cut cannot leave a renamed but empty file.
 */
export async function writeFileAtomic(target: string, data: Uint8Array, fsync: boolean): Promise<void> {
  const tmp = path.join(path.dirname(target), `.${path.basename(target)}.${randomBytes(6).toString('hex')}${TEMP_SUFFIX}`);
  const fh = await open(tmp, 'wx');
  try {
    await fh.writeFile(data);
    if (fsync) await fh.datasync();
  } catch (e) {
    await fh.close().catch(() => undefined);
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
  await fh.close();
  try {
    await rename(tmp, target);
  } catch (e) {
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
}

/** Remove a file; a file that is already gone is not an error. */
export async function removeFile(file: string): Promise<void> {
  try {
    await unlink(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
}

export interface ScannedRecord {
  readonly key: string;
  readonly day: string;
  /** Base names, JSON first. */
  readonly files: string[];
  readonly bytes: number;
  /** JSON modification time, ms: the archive order after a restart. */
  readonly time: number;
}

export interface ScanResult {
  /** Oldest first. */
  readonly records: ScannedRecord[];
  /** Temp files and images without a JSON (a write cut short), deleted by the scan. */
  readonly removedLeftovers: number;
}

const byNumericName = new Intl.Collator('en', { numeric: true }).compare;

/** Scan `root` once: day folders, records, sizes; delete leftovers of interrupted writes. */
export async function scanArchive(root: string): Promise<ScanResult> {
  const days = (await readdir(root, { withFileTypes: true }))
    .filter((d) => d.isDirectory() && DAY_RE.test(d.name))
    .map((d) => d.name)
    .sort();
  const records: ScannedRecord[] = [];
  let removedLeftovers = 0;
  for (const day of days) {
    const dir = path.join(root, day);
    const names = await readdir(dir);
    const keys = new Set<string>();
    const images: string[] = [];
    for (const name of names) {
      if (name.endsWith(TEMP_SUFFIX)) {
        await removeFile(path.join(dir, name));
        removedLeftovers++;
      } else if (name.endsWith(JSON_SUFFIX)) keys.add(name.slice(0, -JSON_SUFFIX.length));
      else if (name.endsWith(FRAME_SUFFIX) || name.endsWith(MASK_SUFFIX)) images.push(name);
    }
    const filesOf = new Map<string, string[]>([...keys].map((k) => [k, [k + JSON_SUFFIX]]));
    for (const name of images) {
      const key = name.slice(0, -(name.endsWith(FRAME_SUFFIX) ? FRAME_SUFFIX : MASK_SUFFIX).length);
      const files = filesOf.get(key);
      if (files) files.push(name);
      else {
        await removeFile(path.join(dir, name));
        removedLeftovers++;
      }
    }
    const scanned = await Promise.all([...filesOf].map(async ([key, files]) => {
      const stats = await Promise.all(files.map((f) => stat(path.join(dir, f))));
      return { key, day, files, bytes: stats.reduce((s, st) => s + st.size, 0), time: stats[0].mtimeMs };
    }));
    records.push(...scanned);
  }
  records.sort((a, b) => a.time - b.time || a.day.localeCompare(b.day) || byNumericName(a.key, b.key));
  return { records, removedLeftovers };
}
