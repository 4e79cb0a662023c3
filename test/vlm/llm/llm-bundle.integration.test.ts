/**
 * Bad input is caught at load time with named errors: a tokenizer that does not match the LLM,
 * a missing or altered file, a manifest that disagrees with the graph, a truncated checkpoint.
 */
import t from 'tap';
import { cp, readFile, rm, writeFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { convertLlama2c } from '../../../tools/models/llm/convert-llama2c.js';
import { ErrorCodes } from '../../../src/errors.js';
import { parseLlama2cCheckpoint } from '../../../src/vlm/llm/checkpoint.js';
import type { LlmManifest } from '../../../src/vlm/llm/llm-manifest.js';
import { TINY, openBundle, randomCheckpoint, tokenizerFile } from './fixtures.js';

const dir = t.testdir({});
const good = join(dir, 'good');
const ckpt = join(dir, 'random.bin');
const tok = join(dir, 'tok.bin');

t.before(async () => {
  await writeFile(ckpt, randomCheckpoint({ ...TINY, shared: true }, 3));
  await writeFile(tok, tokenizerFile(TINY.vocab));
  await convertLlama2c(ckpt, tok, good, { id: 'tiny' });
});

/** A copy of the good bundle, changed by `edit`, the manifest rewritten with fresh sha256s. */
async function variant(name: string, edit: (d: string, m: LlmManifest) => Promise<void> | void, rehash = true): Promise<string> {
  const d = join(dir, name);
  await cp(good, d, { recursive: true });
  const m = JSON.parse(await readFile(join(d, 'manifest.json'), 'utf8')) as LlmManifest;
  await edit(d, m);
  if (rehash) {
    for (const f of m.files) {
      const bytes = await readFile(join(d, f.path));
      f.sha256 = createHash('sha256').update(bytes).digest('hex');
      f.bytes = bytes.byteLength;
    }
  }
  await writeFile(join(d, 'manifest.json'), JSON.stringify(m));
  return d;
}

t.test('the good bundle loads and generates', async (t) => {
  const b = await openBundle(good);
  t.teardown(() => b.release());
  t.equal(b.provider, 'cpu');
  const res = await b.generator.generate([1, 260, 261], { maxNewTokens: 5, stopTokenIds: [] });
  t.equal(res.ids.length, 5);
  t.ok(res.prefillMs >= 0 && res.decodeMs >= 0);
});

t.test('a tokenizer with another vocabulary size is E_LLM_TOKENIZER at load time', async (t) => {
  const bigger = await variant('tok-bigger', (d) => writeFile(join(d, 'tokenizer.bin'), tokenizerFile(TINY.vocab + 20)));
  await t.rejects(openBundle(bigger), { code: ErrorCodes.LLM_TOKENIZER, message: /larger vocabulary than the model/ });
  const declared = await variant('tok-declared', (_d, m) => {
    m.tokenizer.vocabSize = 512;
  });
  await t.rejects(openBundle(declared), { code: ErrorCodes.LLM_TOKENIZER, message: /does not match the LLM's 300/ });
  await t.rejects(convertLlama2c(ckpt, join(bigger, 'tokenizer.bin'), join(dir, 'never')), { code: ErrorCodes.LLM_TOKENIZER });
});

t.test('missing file, altered file, inconsistent manifest, graph of another size', async (t) => {
  const noEmb = await variant('no-emb', (d) => rm(join(d, 'embeddings.bin')), false);
  await t.rejects(openBundle(noEmb), { code: ErrorCodes.BUNDLE_MISSING_FILE });
  const altered = await variant('altered', async (d) => {
    const b = await readFile(join(d, 'embeddings.bin'));
    b[0] ^= 1;
    await writeFile(join(d, 'embeddings.bin'), b);
  }, false);
  await t.rejects(openBundle(altered), { code: ErrorCodes.BUNDLE_CHECKSUM });
  const shape = await variant('emb-shape', (_d, m) => {
    m.embeddings.shape = [TINY.vocab, TINY.dim * 2];
  });
  await t.rejects(openBundle(shape), { code: ErrorCodes.BUNDLE_INVALID, message: /embeddings shape/ });
  const layers = await variant('layers', (_d, m) => {
    m.config.layers = TINY.layers + 1;
  });
  await t.rejects(openBundle(layers), { code: ErrorCodes.MODEL_SHAPE, message: /missing input past_key_values\.2\.key/ });
  const notJson = await variant('not-json', () => undefined);
  await writeFile(join(notJson, 'manifest.json'), '{');
  await t.rejects(openBundle(notJson), { code: ErrorCodes.BUNDLE_INVALID });
});

t.test('checkpoint: truncated or not llama2.c v0 is E_LLM_CHECKPOINT', async (t) => {
  const bytes = randomCheckpoint(TINY, 1);
  t.equal(parseLlama2cCheckpoint(bytes).config.vocabSize, TINY.vocab);
  t.notOk(parseLlama2cCheckpoint(bytes).sharedClassifier, 'negative vocab in the header: unshared wcls');
  t.throws(() => parseLlama2cCheckpoint(bytes.subarray(0, bytes.length - 4)), { code: ErrorCodes.LLM_CHECKPOINT, message: /implies/ });
  t.throws(() => parseLlama2cCheckpoint(new Uint8Array(20)), { code: ErrorCodes.LLM_CHECKPOINT });
  t.throws(() => parseLlama2cCheckpoint(new Uint8Array(4096).fill(0x7f)), { code: ErrorCodes.LLM_CHECKPOINT });
});

t.test('prompt embeddings of the wrong width are rejected before the session runs', async (t) => {
  const b = await openBundle(good);
  t.teardown(() => b.release());
  await t.rejects(b.decoder.forward(new Float32Array(10), 1), { code: ErrorCodes.MODEL_SHAPE });
  t.throws(() => b.embeddings.row(TINY.vocab), { code: ErrorCodes.LLM_TOKENIZER });
});
