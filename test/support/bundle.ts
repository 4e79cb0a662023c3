/**
 * The real default bundle for tests: the repository's (`npm run build:models`), or built once
 * per test process into a temp folder when the repository has none.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildDefaultBundle } from '../../tools/models/build-default-bundle.js';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const REPO_BUNDLE = join(REPO_ROOT, 'models', 'bundles', 'mobilenetv2-nsfwjs');

let built: Promise<string> | undefined;

export function defaultBundleDir(): Promise<string> {
  if (existsSync(join(REPO_BUNDLE, 'manifest.json'))) return Promise.resolve(REPO_BUNDLE);
  built ??= (async () => {
    const dir = mkdtempSync(join(tmpdir(), 'agpt-bundle-'));
    process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
    await buildDefaultBundle(dir);
    return dir;
  })();
  return built;
}
