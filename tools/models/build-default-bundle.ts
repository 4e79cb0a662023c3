/**
 * Builds the default model bundle: nsfwjs@4.4.0's Keras MobileNetV2 (tfjs layers model,
 * uint8-quantised) converted to an ONNX patch-feature encoder with one output per tap,
 * plus its manifest (src/fewshot/bundle-manifest.ts). Deterministic: the same inputs
 * give the same bytes (no timestamps anywhere), so the sha256 values are reproducible.
 *
 *   node dist-tools/tools/models/build-default-bundle.js [outDir]   (default models/bundles/mobilenetv2-nsfwjs)
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Value } from '@sinclair/typebox/value';
import { BUNDLE_SCHEMA_ID, BundleManifestSchema, type BundleManifest } from '../../src/fewshot/bundle-manifest.js';
import { convertToOnnx, DEFAULT_TAPS, describeTaps, loadTfjsLayersModel } from './tfjs-to-onnx.js';

export const DEFAULT_BUNDLE_ID = 'mobilenetv2-nsfwjs';
export const DEFAULT_BUNDLE_DIR = join('models', 'bundles', DEFAULT_BUNDLE_ID);
export const ONNX_OPSET = 13;
const NSFWJS_VERSION = '4.4.0';

/** Nearest ancestor of `start` holding a package.json named `name`. */
function findPackageRoot(start: string, name?: string): string {
  for (let dir = start; ; dir = dirname(dir)) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && (!name || (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === name)) return dir;
    if (dirname(dir) === dir) throw new Error(`no package.json${name ? ` named ${name}` : ''} above ${start}`);
  }
}

/** The repository root, found from this file's own location (works from tools/models/ and dist-tools/tools/models/). */
export function repoRoot(): string {
  return findPackageRoot(dirname(fileURLToPath(import.meta.url)), 'anomalygpt-edge');
}

/** nsfwjs's MobileNetV2 folder (its package `exports` hide dist/models, so resolve the package root). */
export function nsfwjsModelDir(): string {
  const entry = createRequire(import.meta.url).resolve('nsfwjs');
  const root = findPackageRoot(dirname(entry), 'nsfwjs');
  const version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;
  if (version !== NSFWJS_VERSION) throw new Error(`nsfwjs ${version} installed; the default bundle is pinned to ${NSFWJS_VERSION}`);
  return join(root, 'dist', 'models', 'mobilenet_v2');
}

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

/** Temp file + rename in the same folder, so a reader never sees a half-written file. */
async function writeAtomic(path: string, bytes: Uint8Array | string): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, bytes);
  await rename(tmp, path);
}

export async function buildDefaultBundle(outDir: string, opts: { taps?: string[]; id?: string } = {}): Promise<BundleManifest> {
  const taps = opts.taps ?? [...DEFAULT_TAPS];
  const model = await loadTfjsLayersModel(nsfwjsModelDir());
  const source = `nsfwjs@${NSFWJS_VERSION} dist/models/mobilenet_v2 (Keras MobileNetV2, ImageNet-pretrained backbone fine-tuned by nsfwjs)`;
  const onnx = convertToOnnx(model, {
    taps,
    opset: ONNX_OPSET,
    docString: `${source}; uint8 weights dequantised, BatchNorm folded into convs, classifier head pruned.`,
    metadata: { source, taps: taps.join(','), input: 'pixels NCHW RGB [0,1]' },
  });
  const digest = sha256(onnx);
  const manifest: BundleManifest = {
    schema: BUNDLE_SCHEMA_ID,
    id: opts.id ?? DEFAULT_BUNDLE_ID,
    // Versions the converted graph itself: a different tap list gives a different version.
    version: `${NSFWJS_VERSION}+${digest.slice(0, 12)}`,
    kind: 'patch-features',
    files: [{ path: 'encoder.onnx', sha256: digest, bytes: onnx.byteLength, role: 'encoder' }],
    encoder: {
      file: 'encoder.onnx',
      // nsfwjs (dist/esm/core.js `infer`) feeds tf.browser.fromPixels RGB, divided by 255,
      // squashed to 224×224 (bilinear) — no mean/std. The graph itself is fully convolutional.
      input: {
        name: 'pixels',
        layout: 'NCHW',
        width: 224,
        height: 224,
        dynamicSize: true,
        sizeMultiple: 32,
        resize: 'squash',
        channelOrder: 'RGB',
        scale: 1 / 255,
        mean: [0, 0, 0],
        std: [1, 1, 1],
      },
      taps: describeTaps(model, taps),
    },
    provenance: {
      source,
      license: 'MIT',
      builtBy: 'tools/models/build-default-bundle.ts',
      notes:
        'Converted by tools/models/tfjs-to-onnx.ts: uint8 weights dequantised as tfjs does (q*scale+min), ' +
        `BatchNormalization folded into the preceding conv, ZeroPadding2D folded into conv pads, ReLU6 as Clip(0,6), opset ${ONNX_OPSET}. ` +
        'Check against tfjs with tools/models/verify-default-bundle.ts.',
    },
  };
  if (!Value.Check(BundleManifestSchema, manifest)) {
    const errors = [...Value.Errors(BundleManifestSchema, manifest)].map((e) => `${e.path}: ${e.message}`);
    throw new Error(`default bundle manifest does not validate:\n  ${errors.join('\n  ')}`);
  }
  await mkdir(outDir, { recursive: true });
  await writeAtomic(join(outDir, 'encoder.onnx'), onnx);
  await writeAtomic(join(outDir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}

async function main(): Promise<void> {
  const outDir = resolve(process.argv[2] ?? join(repoRoot(), DEFAULT_BUNDLE_DIR));
  const t0 = performance.now();
  const manifest = await buildDefaultBundle(outDir);
  const ms = performance.now() - t0;
  for (const name of [...manifest.files.map((f) => f.path), 'manifest.json']) {
    console.log(`${sha256(readFileSync(join(outDir, name)))}  ${join(outDir, name)}`);
  }
  console.error(`built ${manifest.id} ${manifest.version} in ${ms.toFixed(0)} ms (taps ${manifest.encoder.taps.map((t) => t.name).join(', ')})`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    process.exitCode = 1;
  });
}
