/**
 * The llama2.c tokenizer: run.c's encode (dummy prefix, per-character pieces, byte fallback,
 * merges by score) and decode (leading space after BOS, <0xXX> bytes), on a synthetic
 * vocabulary and on the real tok512.bin; a vocabulary-size mismatch is a named error.
 */
import t from 'tap';
import { readFileSync } from 'node:fs';
import { ErrorCodes } from '../../../src/errors.js';
import { Llama2cTokenizer, TokenTextStream } from '../../../src/vlm/llm/tokenizer.js';
import { GOLDEN, STORIES_TOK, sharedLlmMissing, tokenizerFile, type Golden } from './fixtures.js';

t.test('synthetic vocabulary: merges by highest score, byte fallback, BOS/EOS', async (t) => {
  // Extra pieces 259… with scores 0, −1, …: ' ', 'a', 'b', ' a', 'ab', ' ab'.
  const tok = Llama2cTokenizer.parse(tokenizerFile(300), 300);
  t.equal(tok.vocabSize, 300);
  // ' ' 'a' 'b' → ' a' (score −3) beats 'ab' (−4) → ' ab'.
  t.same(tok.encode('ab'), [1, 264]);
  t.same(tok.encode('ba'), [1, 259, 261, 260], 'no " b" or "ba" piece: no merge');
  t.same(tok.encode('ab', { bos: false, eos: true }), [264, 2]);
  t.same(tok.encode(''), [1], 'no dummy prefix for empty text');
  // 'é' is not a piece: its two UTF-8 bytes (0xC3 0xA9) fall back to ids byte + 3.
  t.same(tok.encode('é'), [1, 259, 0xc3 + 3, 0xa9 + 3]);
  t.equal(tok.decode(tok.encode('ab é')), 'ab é', 'round trip');
  t.equal(tok.decode([264], 1), 'ab', 'leading space dropped after BOS');
  t.equal(tok.decode([264], 5), ' ab', 'kept otherwise');
});

t.test('streaming decode holds back a UTF-8 sequence split across byte tokens', async (t) => {
  const tok = Llama2cTokenizer.parse(tokenizerFile(300), 300);
  const s = new TokenTextStream(tok, 1);
  t.equal(s.push(0xc3 + 3), '');
  t.equal(s.push(0xa9 + 3), 'é');
  t.equal(s.push(260), 'a');
  t.equal(s.flush(), '');
});

t.test('vocabulary mismatch and bad files are E_LLM_TOKENIZER', async (t) => {
  const bytes = tokenizerFile(300);
  t.throws(() => Llama2cTokenizer.parse(bytes, 280), { code: ErrorCodes.LLM_TOKENIZER, message: /bytes left after 280 tokens/ });
  t.throws(() => Llama2cTokenizer.parse(bytes, 512), { code: ErrorCodes.LLM_TOKENIZER, message: /ends after 300 tokens/ });
  t.throws(() => Llama2cTokenizer.parse(new Uint8Array(2), 10), { code: ErrorCodes.LLM_TOKENIZER });
  t.throws(() => Llama2cTokenizer.parse(new Uint8Array(64).fill(0xff), 10), { code: ErrorCodes.LLM_TOKENIZER });
  t.throws(() => Llama2cTokenizer.parse(bytes, 300).decode([300]), { code: ErrorCodes.LLM_TOKENIZER });
  await t.rejects(Llama2cTokenizer.read('/nonexistent/tok.bin', 300), { code: ErrorCodes.LLM_TOKENIZER });
});

const missing = sharedLlmMissing();
t.test('tok512.bin: the golden prompt ids and round trips', { skip: missing }, async (t) => {
  const tok = await Llama2cTokenizer.read(STORIES_TOK, 512);
  const golden = JSON.parse(readFileSync(GOLDEN, 'utf8')) as Golden;
  t.equal(tok.maxTokenLength, 7);
  t.same(tok.encode(golden.prompt), golden.prompt_ids, 'BOS, " Once", " upon", " a", " time"');
  t.same([...tok.piece(403)].map((b) => String.fromCharCode(b)).join(''), ' Once');
  t.equal(tok.decode(golden.prompt_ids), golden.prompt);
  t.equal(tok.decode(golden.generated_ids, golden.prompt_ids.at(-1)), golden.generated_text);
  t.equal(tok.decode([13], 5), '\n', '<0x0A> decodes to a newline');
  for (const s of ['Once upon a time', "Lily's mom said: \"Hi!\"", 'a\nb\tc', '  two leading spaces', 'naïve café 😀 日本', '<0x41> literally']) {
    const ids = tok.encode(s);
    t.equal(ids[0], 1);
    t.ok(ids.every((id) => id >= 0 && id < 512));
    t.equal(tok.decode(ids), s, `round trip ${JSON.stringify(s)} (${ids.length} ids)`);
  }
  const emoji = tok.encode('😀', { bos: false });
  t.same(emoji.slice(-4), [...Buffer.from('😀')].map((b) => b + 3), 'emoji falls back to 4 byte tokens');
});
