/**
 * What every bundle loader does before it opens a graph (default, LLM, AnomalyGPT bundles):
 * read manifest.json, and check that each listed file is there with its sha256 and size.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { AppError, ErrorCodes } from '../errors.js';

export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** `<root>/manifest.json` parsed; `kind` names the bundle type in messages ("LLM bundle"). */
export async function readManifestJson(root: string, kind: string): Promise<{ json: unknown; path: string }> {
  const path = join(root, 'manifest.json');
  let raw: string;
  try {
    raw = await readFile(path, 'utf8');
  } catch (e) {
    throw new AppError(ErrorCodes.BUNDLE_MISSING_FILE, `${kind} ${root}: cannot read manifest.json (${(e as Error).message})`, { cause: e });
  }
  try {
    return { json: JSON.parse(raw), path };
  } catch (e) {
    throw new AppError(ErrorCodes.BUNDLE_INVALID, `${path}: not JSON (${(e as Error).message})`);
  }
}

/** Every file present; with `verify`, its size and sha256 as listed. */
export async function verifyBundleFiles(
  root: string,
  label: string,
  files: readonly { path: string; sha256: string; bytes: number }[],
  verify: boolean,
): Promise<void> {
  for (const file of files) {
    const path = join(root, file.path);
    const st = await stat(path).catch(() => undefined);
    if (!st?.isFile()) throw new AppError(ErrorCodes.BUNDLE_MISSING_FILE, `${label}: file ${file.path} is missing (${path})`);
    if (!verify) continue;
    const digest = await sha256File(path);
    if (digest !== file.sha256 || st.size !== file.bytes) {
      throw new AppError(
        ErrorCodes.BUNDLE_CHECKSUM,
        `${label}: ${file.path} fails its sha256 (expected ${file.sha256}, got ${digest}, ${st.size} bytes); rebuild or re-copy the bundle`,
      );
    }
  }
}
