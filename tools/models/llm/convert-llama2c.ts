/**
 * llama2.c checkpoint (v0 "legacy" format) + tokenizer.bin → an LLM bundle folder implementing
 * src/vlm/llm/llm-interface.ts:
 *   llm.onnx        the decoder (inputs_embeds, attention_mask, position_ids, KV cache → logits, present)
 *   embeddings.bin  the token embedding table, raw float32 [vocab, hidden] (lookup outside the graph)
 *   tokenizer.bin   the llama2.c tokenizer, copied byte for byte
 *   manifest.json   dimensions, files with sha256, special ids, stop ids (src/vlm/llm/llm-manifest.ts)
 * Deterministic: the same inputs and options give the same bytes.
 *
 *   node dist-tools/tools/models/llm/convert-llama2c.js <checkpoint.bin> <tokenizer.bin> <outDir> [--rope-layout interleaved|half] [--id ID] [--license TEXT]
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Value } from '@sinclair/typebox/value';
import { OPSET } from '../../../src/inference/onnx-graph.js';
import { parseLlama2cCheckpoint, type LlamaWeights } from '../../../src/vlm/llm/checkpoint.js';
import type { RopeLayout } from '../../../src/vlm/llm/llm-interface.js';
import { LLM_BUNDLE_SCHEMA_ID, LlmManifestSchema, type LlmManifest } from '../../../src/vlm/llm/llm-manifest.js';
import { Llama2cTokenizer } from '../../../src/vlm/llm/tokenizer.js';
import { buildLlamaGraph } from './llama-graph.js';
import { toHalfRopeLayout } from './rope-layout.js';

export interface ConvertOptions {
  /**
   * RoPE pairing of the written graph. `interleaved` (default) keeps llama2.c's weights as they
   * are; `half` permutes q/k rows to the Hugging Face layout (what the Vicuna export uses).
   */
  readonly ropeLayout?: RopeLayout;
  readonly id?: string;
  readonly source?: string;
  readonly license?: string;
}

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

async function writeAtomic(path: string, bytes: Uint8Array | string): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, bytes);
  await rename(tmp, path);
}

/** The weights as the graph will be built (layout conversion applied). */
export function weightsForLayout(w: LlamaWeights, layout: RopeLayout): LlamaWeights {
  return layout === 'half' ? toHalfRopeLayout(w) : w;
}

export async function convertLlama2c(checkpointPath: string, tokenizerPath: string, outDir: string, opts: ConvertOptions = {}): Promise<LlmManifest> {
  const ckptBytes = await readFile(checkpointPath);
  const weights = weightsForLayout(parseLlama2cCheckpoint(ckptBytes, checkpointPath), opts.ropeLayout ?? 'interleaved');
  const c = weights.config;
  const tokBytes = await readFile(tokenizerPath);
  // Fails with E_LLM_TOKENIZER when the tokenizer's vocabulary is not the model's.
  const tokenizer = Llama2cTokenizer.parse(tokBytes, c.vocabSize, tokenizerPath);

  const onnx = buildLlamaGraph(weights, (opts.id ?? 'llama').replace(/[^A-Za-z0-9_]/g, '_'));
  const emb = weights.tokenEmbedding;
  const embBytes = new Uint8Array(emb.buffer, emb.byteOffset, emb.byteLength); // little-endian hosts only (x86, ARM)

  await mkdir(outDir, { recursive: true });
  const files: LlmManifest['files'] = [];
  const put = async (path: string, bytes: Uint8Array, role: LlmManifest['files'][number]['role']): Promise<void> => {
    await writeAtomic(join(outDir, path), bytes);
    files.push({ path, sha256: sha256(bytes), bytes: bytes.byteLength, role });
  };
  await put('llm.onnx', onnx, 'decoder');
  await put('embeddings.bin', embBytes, 'embeddings');
  await put('tokenizer.bin', tokBytes, 'tokenizer');

  const manifest: LlmManifest = {
    schema: LLM_BUNDLE_SCHEMA_ID,
    id: opts.id ?? basename(checkpointPath).replace(/\.bin$/, '').toLowerCase().replace(/[^a-z0-9._-]/g, '-'),
    version: '1',
    kind: 'llm',
    files,
    config: c,
    decoder: { file: 'llm.onnx', opset: OPSET },
    embeddings: { file: 'embeddings.bin', dtype: 'float32', shape: [c.vocabSize, c.hidden] },
    tokenizer: { file: 'tokenizer.bin', format: 'llama2c', vocabSize: tokenizer.vocabSize, bosId: tokenizer.bosId, eosId: tokenizer.eosId },
    // run.c stops when the model produces BOS; EOS ends a story too.
    generation: { stopTokenIds: [tokenizer.bosId, tokenizer.eosId] },
    provenance: {
      source: opts.source ?? `llama2.c checkpoint ${basename(checkpointPath)} (sha256 ${sha256(ckptBytes)}), tokenizer ${basename(tokenizerPath)} (sha256 ${sha256(tokBytes)})`,
      license: opts.license ?? 'see the checkpoint source',
      builtBy: 'tools/models/llm/convert-llama2c.ts',
      notes: `RoPE layout ${c.ropeLayout}; classifier ${weights.sharedClassifier ? 'shared with the token embedding' : 'unshared (wcls)'}`,
    },
  };
  if (!Value.Check(LlmManifestSchema, manifest)) throw new Error('internal: converter wrote an invalid manifest');
  await writeAtomic(join(outDir, 'manifest.json'), `${JSON.stringify(manifest, null, 1)}\n`);
  return manifest;
}

async function main(argv: string[]): Promise<void> {
  const positional: string[] = [];
  const opts: { ropeLayout?: RopeLayout; id?: string; license?: string } = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--rope-layout') {
      const v = argv[++i];
      if (v !== 'interleaved' && v !== 'half') throw new Error(`--rope-layout must be interleaved or half, got ${v}`);
      opts.ropeLayout = v;
    } else if (a === '--id') opts.id = argv[++i];
    else if (a === '--license') opts.license = argv[++i];
    else positional.push(a);
  }
  if (positional.length !== 3) {
    console.error('usage: convert-llama2c <checkpoint.bin> <tokenizer.bin> <outDir> [--rope-layout interleaved|half] [--id ID] [--license TEXT]');
    process.exit(64);
  }
  const [ckpt, tok, out] = positional;
  const m = await convertLlama2c(ckpt, tok, out, opts);
  for (const f of m.files) console.log(`${f.sha256}  ${f.bytes}  ${join(resolve(out), f.path)}`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).catch((e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  });
}
