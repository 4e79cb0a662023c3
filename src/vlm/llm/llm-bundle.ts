/**
 * Loading an LLM bundle folder (tools/models/llm/convert-llama2c.ts writes one; the Vicuna export will
 * write the same): manifest checked against its schema, every file present and matching its
 * sha256, the tokenizer and embedding table matching the decoder's vocabulary, and the graph
 * implementing the interface — all at load time, so nothing fails mid-inspection.
 */
import { join, resolve } from 'node:path';
import { Value } from '@sinclair/typebox/value';
import type { Logger } from 'pino';
import { AppError, ErrorCodes } from '../../errors.js';
import { readManifestJson, verifyBundleFiles } from '../../inference/bundle-files.js';
import { openSession, type ExecutionProviderName } from '../../inference/ort-session.js';
import { EmbeddingTable } from './embeddings.js';
import { Generator } from './generator.js';
import { LlmDecoder } from './llm-decoder.js';
import { configProblems } from './llm-interface.js';
import { LlmManifestSchema, type LlmManifest } from './llm-manifest.js';
import { Llama2cTokenizer } from './tokenizer.js';

export interface LlmBundle {
  readonly dir: string;
  readonly manifest: LlmManifest;
  readonly decoder: LlmDecoder;
  readonly embeddings: EmbeddingTable;
  readonly tokenizer: Llama2cTokenizer;
  readonly generator: Generator;
  readonly provider: ExecutionProviderName;
  release(): Promise<void>;
}

export interface LoadLlmOptions {
  readonly logger: Pick<Logger, 'info' | 'warn'>;
  readonly executionProviders?: readonly ExecutionProviderName[];
  readonly intraOpThreads?: number;
  /** false skips the sha256 pass (large files in tests of other parts). */
  readonly verify?: boolean;
}

function parseLlmManifest(json: unknown, where: string): LlmManifest {
  if (!Value.Check(LlmManifestSchema, json)) {
    const problems = [...Value.Errors(LlmManifestSchema, json)].slice(0, 20).map((e) => `${e.path || '/'}: ${e.message}`);
    throw new AppError(ErrorCodes.BUNDLE_INVALID, `${where}: invalid LLM manifest:\n  ${problems.join('\n  ')}`);
  }
  const m = json as LlmManifest;
  const problems = configProblems(m.config);
  for (const f of [m.decoder.file, m.embeddings.file, m.tokenizer.file]) {
    if (!m.files.some((e) => e.path === f)) problems.push(`${f} is not listed in files`);
  }
  const [rows, cols] = m.embeddings.shape;
  if (rows !== m.config.vocabSize || cols !== m.config.hidden) {
    problems.push(`embeddings shape [${rows}, ${cols}] does not match vocab ${m.config.vocabSize} × hidden ${m.config.hidden}`);
  }
  if (problems.length > 0) throw new AppError(ErrorCodes.BUNDLE_INVALID, `${where}: ${problems.join('; ')}`);
  if (m.tokenizer.vocabSize !== m.config.vocabSize) {
    throw new AppError(ErrorCodes.LLM_TOKENIZER, `${where}: tokenizer vocabulary ${m.tokenizer.vocabSize} does not match the LLM's ${m.config.vocabSize}`);
  }
  return m;
}

async function readManifest(root: string): Promise<LlmManifest> {
  const { json, path } = await readManifestJson(root, 'LLM bundle');
  return parseLlmManifest(json, path);
}

export async function loadLlmBundle(dir: string, opts: LoadLlmOptions): Promise<LlmBundle> {
  const root = resolve(dir);
  const manifest = await readManifest(root);
  await verifyBundleFiles(root, `LLM bundle ${manifest.id}`, manifest.files, opts.verify !== false);
  const { config } = manifest;
  const tokenizer = await Llama2cTokenizer.read(join(root, manifest.tokenizer.file), config.vocabSize);
  if (tokenizer.bosId !== manifest.tokenizer.bosId || tokenizer.eosId !== manifest.tokenizer.eosId) {
    throw new AppError(ErrorCodes.LLM_TOKENIZER, `LLM bundle ${manifest.id}: tokenizer special ids (BOS ${manifest.tokenizer.bosId}, EOS ${manifest.tokenizer.eosId}) are not llama2.c's (1, 2)`);
  }
  const embeddings = await EmbeddingTable.read(join(root, manifest.embeddings.file), config.vocabSize, config.hidden);
  const opened = await openSession(
    join(root, manifest.decoder.file),
    { executionProviders: opts.executionProviders ?? ['cpu'], intraOpThreads: opts.intraOpThreads ?? 0 },
    opts.logger,
  );
  let decoder: LlmDecoder;
  try {
    decoder = new LlmDecoder(opened.session, config);
  } catch (e) {
    await opened.session.release();
    throw e;
  }
  const generator = new Generator(decoder, embeddings, tokenizer, { stopTokenIds: manifest.generation.stopTokenIds });
  return {
    dir: root,
    manifest,
    decoder,
    embeddings,
    tokenizer,
    generator,
    provider: opened.provider,
    release: () => opened.session.release(),
  };
}
