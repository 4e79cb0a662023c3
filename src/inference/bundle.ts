/**
 * Loading a model bundle folder: manifest validated against its schema, every file present
 * and matching its sha256 before any graph is opened (required part: fail fast, named error).
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Value } from '@sinclair/typebox/value';
import { AppError, ErrorCodes } from '../errors.js';
import { BundleManifestSchema, type BundleManifest } from './bundle-manifest.js';

export interface LoadedBundle {
  readonly dir: string;
  readonly manifest: BundleManifest;
  readonly encoderPath: string;
}

export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export function parseManifest(json: unknown, where: string): BundleManifest {
  if (!Value.Check(BundleManifestSchema, json)) {
    const problems = [...Value.Errors(BundleManifestSchema, json)]
      .slice(0, 20)
      .map((e) => `${e.path || '/'}: ${e.message}`);
    throw new AppError(ErrorCodes.BUNDLE_INVALID, `${where}: invalid manifest:\n  ${problems.join('\n  ')}`);
  }
  const m = json as BundleManifest;
  if (!m.files.some((f) => f.path === m.encoder.file)) {
    throw new AppError(ErrorCodes.BUNDLE_INVALID, `${where}: encoder file ${m.encoder.file} is not listed in files`);
  }
  const outputs = new Set(m.encoder.taps.map((t) => t.output));
  if (outputs.size !== m.encoder.taps.length) {
    throw new AppError(ErrorCodes.BUNDLE_INVALID, `${where}: duplicate tap outputs`);
  }
  return m;
}

/** Reads and verifies a bundle. `verify: false` skips the sha256 pass (tests of other parts). */
export async function loadBundle(dir: string, opts: { verify?: boolean } = {}): Promise<LoadedBundle> {
  const root = resolve(dir);
  const manifestPath = join(root, 'manifest.json');
  let raw: string;
  try {
    raw = await readFile(manifestPath, 'utf8');
  } catch (e) {
    throw new AppError(ErrorCodes.BUNDLE_MISSING_FILE, `bundle ${root}: cannot read manifest.json (${(e as Error).message}); build the default bundle with \`npm run build:models\``, { cause: e });
  }
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (e) {
    throw new AppError(ErrorCodes.BUNDLE_INVALID, `${manifestPath}: not JSON (${(e as Error).message})`);
  }
  const manifest = parseManifest(json, manifestPath);
  for (const file of manifest.files) {
    const path = join(root, file.path);
    const st = await stat(path).catch(() => undefined);
    if (!st?.isFile()) {
      throw new AppError(ErrorCodes.BUNDLE_MISSING_FILE, `bundle ${manifest.id}: file ${file.path} is missing (${path})`);
    }
    if (opts.verify === false) continue;
    const digest = await sha256File(path);
    if (digest !== file.sha256 || st.size !== file.bytes) {
      throw new AppError(
        ErrorCodes.BUNDLE_CHECKSUM,
        `bundle ${manifest.id}: ${file.path} fails its sha256 (expected ${file.sha256}, got ${digest}, ${st.size} bytes); rebuild or re-copy the bundle`,
      );
    }
  }
  return { dir: root, manifest, encoderPath: join(root, manifest.encoder.file) };
}
