/**
 * Loading a model bundle folder: manifest validated against its schema, every file present
 * and matching its sha256 before any graph is opened (required part: fail fast, named error).
 */
import { join, resolve } from 'node:path';
import { Value } from '@sinclair/typebox/value';
import { AppError, ErrorCodes } from '../errors.js';
import { BundleManifestSchema, type BundleManifest } from './bundle-manifest.js';
import { readManifestJson, verifyBundleFiles } from '../inference/bundle-files.js';

export { sha256File } from '../inference/bundle-files.js';

export interface LoadedBundle {
  readonly dir: string;
  readonly manifest: BundleManifest;
  readonly encoderPath: string;
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
  const { json, path } = await readManifestJson(root, 'bundle').catch((e: unknown) => {
    if (e instanceof AppError && e.code === ErrorCodes.BUNDLE_MISSING_FILE) {
      throw new AppError(e.code, `${e.message}; build the default bundle with \`npm run build:models\``, { cause: e });
    }
    throw e;
  });
  const manifest = parseManifest(json, path);
  await verifyBundleFiles(root, `bundle ${manifest.id}`, manifest.files, opts.verify !== false);
  return { dir: root, manifest, encoderPath: join(root, manifest.encoder.file) };
}
