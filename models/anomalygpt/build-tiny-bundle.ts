/**
 * Builds a tiny AnomalyGPT bundle with seeded random weights: the real bundle's structure and
 * interfaces (src/vlm/manifest.ts) at reduced width, so the whole path — image → encoder
 * → maps → prompt learner → LLM verdict and answer — runs in tests without the checkpoints.
 * Deterministic: the same seed gives the same bytes.
 *
 *   node dist/models/anomalygpt/build-tiny-bundle.js <outDir> [--seed N]
 *
 * Sizes (full size in brackets): S 224 [224], patch 14 [14] → 16×16 patches, tap width W 64
 * [1280], embedding E 32 [1024], 4 encoder blocks, all tapped [32 blocks, taps 8/16/24/32],
 * prompt-learner channels 4·8·16·16·32 [4·16·64·256·1024], LLM hidden H 64 [4096], 2 layers
 * [32], 4 heads [32], FFN 172 [11008], context 1024 [2048], byte-level tokenizer [LLaMA 32k].
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Value } from '@sinclair/typebox/value';
import { ANOMALYGPT_BUNDLE_SCHEMA_ID, AnomalyGptManifestSchema, type AnomalyGptManifest } from '../../src/vlm/manifest.js';
import { PREBUILT_CLASS_NAMES } from '../../src/vlm/class-names.js';
import { CLIP_MEAN, CLIP_STD } from '../../src/vlm/pil-resize.js';
import { createRng, type Rng } from '../../src/util/prng.js';
import { convertLlama2c } from '../llm/convert-llama2c.js';
import { tinyTokenizerFile, tinyTokenizerPieces } from './tiny-tokenizer.js';
import { buildEncoderGraph, buildLlamaProjGraph, buildPromptLearnerGraph, type ConvW, type LayerNormW, type LinearW } from './vision-graphs.js';

export const TINY_DIMS = {
  size: 224,
  patch: 14,
  width: 64,
  heads: 2,
  blocks: 4,
  embedDim: 32,
  plChannels: [4, 8, 16, 16, 32],
  hidden: 64,
  llmLayers: 2,
  llmHeads: 4,
  llmFfn: 172,
  context: 1024,
} as const;

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
const bytesOf = (a: Float32Array): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

function normal(rng: Rng, n: number, std: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = std * rng.normal();
  return a;
}
const lin = (rng: Rng, out: number, inp: number, bias = true): LinearW => ({
  weight: normal(rng, out * inp, 1 / Math.sqrt(inp)),
  ...(bias ? { bias: normal(rng, out, 0.02) } : {}),
  out,
  in: inp,
});
const ln = (rng: Rng, n: number): LayerNormW => {
  const gamma = normal(rng, n, 0.1);
  for (let i = 0; i < n; i++) gamma[i] += 1;
  return { gamma, beta: normal(rng, n, 0.02) };
};
const conv = (rng: Rng, out: number, inp: number, k: number): ConvW => ({
  weight: normal(rng, out * inp * k * k, Math.sqrt(2 / (inp * k * k))),
  bias: normal(rng, out, 0.02),
  out,
  in: inp,
  k,
});
function unit(v: Float32Array): Float32Array {
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
}

/** A llama2.c v0 checkpoint (the format the project's converter reads) with random weights. */
function llamaCheckpoint(rng: Rng, vocab: number): Uint8Array {
  const d = TINY_DIMS;
  const D = d.hidden;
  const hd = D / d.llmHeads;
  const header = [D, d.llmFfn, d.llmLayers, d.llmHeads, d.llmHeads, -vocab, d.context]; // −vocab: unshared classifier
  const blocks: [number, 'w' | 'g' | 'z'][] = [
    [vocab * D, 'w'],
    [d.llmLayers * D, 'g'],
    ...Array.from({ length: 4 }, (): [number, 'w'] => [d.llmLayers * D * D, 'w']),
    [d.llmLayers * D, 'g'],
    [d.llmLayers * d.llmFfn * D, 'w'],
    [d.llmLayers * D * d.llmFfn, 'w'],
    [d.llmLayers * d.llmFfn * D, 'w'],
    [D, 'g'],
    [d.context * hd, 'z'], // freq_cis (unused by readers)
    [vocab * D, 'w'],
  ];
  const total = blocks.reduce((a, [n]) => a + n, 0);
  const buf = Buffer.alloc(28 + 4 * total);
  header.forEach((v, i) => buf.writeInt32LE(v, 4 * i));
  let off = 28;
  for (const [n, kind] of blocks) {
    for (let i = 0; i < n; i++, off += 4) buf.writeFloatLE(kind === 'g' ? 1 + 0.1 * rng.normal() : kind === 'z' ? 0 : 0.3 * rng.normal(), off);
  }
  return buf;
}

export async function buildTinyBundle(outDir: string, opts: { seed?: number; classes?: readonly string[] } = {}): Promise<AnomalyGptManifest> {
  const d = TINY_DIMS;
  const rng = createRng(opts.seed ?? 1);
  const grid = d.size / d.patch;
  const W = d.width;
  const E = d.embedDim;
  const root = resolve(outDir);
  await mkdir(root, { recursive: true });
  const files: AnomalyGptManifest['files'] = [];
  const put = async (path: string, bytes: Uint8Array, role: AnomalyGptManifest['files'][number]['role']): Promise<void> => {
    await writeFile(join(root, path), bytes);
    files.push({ path, sha256: sha256(bytes), bytes: bytes.byteLength, role });
  };

  const encoder = buildEncoderGraph({
    size: d.size,
    patch: d.patch,
    width: W,
    heads: d.heads,
    embedDim: E,
    patchEmbed: normal(rng, W * 3 * d.patch * d.patch, 1 / Math.sqrt(3 * d.patch * d.patch)),
    cls: normal(rng, W, 0.5),
    pos: normal(rng, (grid * grid + 1) * W, 0.1),
    preLn: ln(rng, W),
    blocks: Array.from({ length: d.blocks }, () => ({
      ln1: ln(rng, W),
      q: lin(rng, W, W),
      k: lin(rng, W, W),
      v: lin(rng, W, W),
      o: lin(rng, W, W),
      ln2: ln(rng, W),
      fc1: lin(rng, 4 * W, W),
      fc2: lin(rng, W, 4 * W),
    })),
    tapBlocks: [1, 2, 3, 4],
    headLn: ln(rng, W),
    head: lin(rng, E, W, false),
  });
  await put('encoder.onnx', encoder, 'encoder');

  // decoder.bin: weights [4,E,W] then biases [4,E].
  const decoder = new Float32Array(4 * E * W + 4 * E);
  decoder.set(normal(rng, 4 * E * W, 1 / Math.sqrt(W)));
  decoder.set(normal(rng, 4 * E, 0.02), 4 * E * W);
  await put('decoder.bin', bytesOf(decoder), 'decoder');

  // Random prototypes: t_a near t_n so the 100× logits stay in the sigmoid's working range.
  const classes = opts.classes ?? PREBUILT_CLASS_NAMES;
  const protos = new Float32Array(classes.length * 2 * E);
  for (let c = 0; c < classes.length; c++) {
    const tn = unit(normal(rng, E, 1));
    const noise = unit(normal(rng, E, 1));
    protos.set(tn, c * 2 * E);
    protos.set(unit(tn.map((x, i) => x + 0.1 * noise[i])), (c * 2 + 1) * E);
  }
  await put('text-prototypes.bin', bytesOf(protos), 'text-prototypes');

  const ch = [1, ...d.plChannels];
  const promptLearner = buildPromptLearnerGraph({
    convs: d.plChannels.map((out, i) => conv(rng, out, ch[i], 3)),
    last: conv(rng, d.hidden, ch[ch.length - 1], 5),
    basePrompts: normal(rng, 9 * d.hidden, 0.3),
    size: d.size,
  });
  await put('prompt-learner.onnx', promptLearner, 'prompt-learner');
  await put('llama-proj.onnx', buildLlamaProjGraph(lin(rng, d.hidden, E)), 'llama-proj');

  // The LLM through the project's own llama2.c converter (same interface as the Vicuna export).
  const vocab = Math.ceil(tinyTokenizerPieces().length / 64) * 64;
  const tmpCkpt = join(root, 'tiny-llm.bin');
  const tmpTok = join(root, 'tiny-tok.bin');
  await writeFile(tmpCkpt, llamaCheckpoint(rng, vocab));
  await writeFile(tmpTok, tinyTokenizerFile(vocab));
  try {
    await convertLlama2c(tmpCkpt, tmpTok, join(root, 'llm'), {
      id: 'anomalygpt-tiny-llm',
      ropeLayout: 'half',
      source: `random weights, seed ${opts.seed ?? 1}, built by models/anomalygpt/build-tiny-bundle.ts`,
      license: 'Apache-2.0 (generated)',
    });
    const llmManifest = await readFile(join(root, 'llm', 'manifest.json'));
    files.push({ path: 'llm/manifest.json', sha256: sha256(llmManifest), bytes: llmManifest.byteLength, role: 'llm-manifest' });
  } finally {
    await rm(tmpCkpt, { force: true });
    await rm(tmpTok, { force: true });
  }

  const manifest: AnomalyGptManifest = {
    schema: ANOMALYGPT_BUNDLE_SCHEMA_ID,
    id: 'anomalygpt-tiny-random',
    version: '1',
    kind: 'anomalygpt',
    files,
    image: { size: d.size, patch: d.patch, mean: [...CLIP_MEAN], std: [...CLIP_STD], resize: 'shorter-side-crop', interpolation: 'bicubic-pil' },
    encoder: { file: 'encoder.onnx', width: W, embedDim: E, tapBlocks: [1, 2, 3, 4] },
    decoder: { file: 'decoder.bin', temperature: 100 },
    textPrototypes: { file: 'text-prototypes.bin', classes: [...classes], source: 'random' },
    promptLearner: { file: 'prompt-learner.onnx', basePrompts: 9, mapPrompts: 9 },
    llamaProj: { file: 'llama-proj.onnx' },
    llm: { dir: 'llm', hidden: d.hidden },
    verdict: { yes: 'Yes', no: 'No' },
    provenance: {
      source: `random weights, seed ${opts.seed ?? 1}`,
      license: 'Apache-2.0 (generated)',
      builtBy: 'models/anomalygpt/build-tiny-bundle.ts',
      notes: 'Structure and interfaces of AnomalyGPT at reduced size; byte-level tokenizer, not Vicuna\'s; prototypes random, not ImageBind text embeddings.',
    },
  };
  if (!Value.Check(AnomalyGptManifestSchema, manifest)) throw new Error('internal: builder wrote an invalid manifest');
  await writeFile(join(root, 'manifest.json'), `${JSON.stringify(manifest, null, 1)}\n`);
  return manifest;
}

async function main(argv: string[]): Promise<void> {
  const seedAt = argv.indexOf('--seed');
  const seed = seedAt >= 0 ? Number(argv[seedAt + 1]) : 1;
  const out = argv.find((a, i) => !a.startsWith('--') && argv[i - 1] !== '--seed');
  if (!out || !Number.isInteger(seed)) {
    console.error('usage: build-tiny-bundle <outDir> [--seed N]');
    process.exit(64);
  }
  const m = await buildTinyBundle(out, { seed });
  for (const f of m.files) console.log(`${f.sha256}  ${f.bytes}  ${join(resolve(out), f.path)}`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).catch((e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  });
}
