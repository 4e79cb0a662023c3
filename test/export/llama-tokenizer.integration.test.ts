/**
 * The LLaMA tokenizer path (README "6. llm/" step 5): a SentencePiece BPE model trained with
 * LLaMA's settings (export/anomalygpt_export/sp_corpus.py), converted to llama2.c format by
 * export/anomalygpt_export/sentencepiece_to_llama2c.py (driven by test/export/tokenizer_check.py), must give through the TS Llama2cTokenizer (run.c's
 * BPE) exactly SentencePiece's ids on the SPEC §6 segments (no BOS: add_special_tokens=False)
 * and on digits, whitespace runs, unicode with byte fallback and newlines; decoding must give
 * back the text. Needs /usr/bin/python3 with sentencepiece; skipped without it.
 * With LLAMA_TOKENIZER_MODEL=/path/to/vicuna/tokenizer.model the same comparison runs on the real
 * 32k LLaMA tokenizer (not available on the test machine, so skipped by default).
 */
import t, { type Test } from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Llama2cTokenizer } from '../../src/vlm/llm/tokenizer.js';
import { createRng } from '../../src/util/prng.js';
import { pythonMissing, runPyFixture, succeeded } from '../support/python.js';

const VOCAB = 1000;

const QUESTION = 'Is there any anomaly in the image?';
const BOTTLE = 'This is a photo of a bottle for anomaly detection, which should be round, without any damage, flaw, defect, scratch, hole or broken part.';
const CAPSULE = "This is a photo of a capsule for anomaly detection, which should be black and orange, with print '500', without any damage, flaw, defect, scratch, hole or broken part.";
const q0 = `${BOTTLE} ${QUESTION}`;
const a0 = 'Yes, there is an anomaly in the image, at the top left of the image.';
// SPEC §6 multi-turn: q0 + "\n### Assistant: " + a0 + "\n###" + " Human: " + q_now
const multiTurn = `${q0}\n### Assistant: ${a0}\n###` + ' Human: ' + 'Where is the anomaly?' + '\n### Assistant:';

const TEXTS = [
  // SPEC §6 segments, each tokenized on its own.
  '### Human: <Img>', '</Img> ', `${q0}\n### Assistant:`, `${CAPSULE} ${QUESTION}\n### Assistant:`, multiTurn,
  'Yes', 'No', 'Yes, there are 2 anomalies in the image, they are at the top and bottom right of the image.',
  'No, there is no anomaly in the image.', '###', '##', '\n###', '\n##', ' Human: ',
  // Digits (split_digits), punctuation.
  '2023', 'pcb1 pcb4 macaroni2', "print '500' and 'FF'", '3.14159, 42!', '4 candles', 'There are 12 candles',
  // Whitespace: runs, leading, trailing, only spaces, tabs, newlines, CR.
  'a  b   c', '    four leading spaces', 'trailing   ', ' ', '  ', '\t tab', 'line one\nline two', '\n', '\n\n### Assistant:',
  'a\r\nb', 'end with newline\n',
  // Unicode: in the vocabulary (é ï 中文), partly (中文字), not at all (emoji, 日本, combining accent).
  'café', 'naïve résumé', '中文', '中文字', '日本', '😀', 'ok 👍🏽 fine', 'e\u0301', 'Ω über', 'déjà vu',
  // Strings that look like special or byte pieces are plain text to SentencePiece.
  '<s>', '</s>', '<unk>', '<0x41>', '',
];

/** Seeded random strings from words, space runs, digits, newlines and non-ASCII characters. */
function fuzzTexts(n: number, seed: number): string[] {
  const rng = createRng(seed);
  const atoms = ['the', 'image', 'anomaly', ' ', '  ', '    ', '\n', '###', '#', 'Yes', 'No', ',', '.', '?', "'", '0', '7', '42',
    'é', 'ï', '中', '文', '字', '😀', 'Ω', '\t', 'Human', ':', '<Img>', '</Img>', 'bottle', 'ab', 'le', 'tt', 'x'];
  return Array.from({ length: n }, () => Array.from({ length: rng.int(1, 12) }, () => rng.pick(atoms)).join(''));
}
const FUZZ = fuzzTexts(400, 4);

interface Case { text: string; ids: number[]; pieces: string[]; decoded: string }
interface Info { vocabSize: number; bosId: number; eosId: number; hashHash: number; hashHashHash: number; yesFirst: number; noFirst: number; yesPiece: string; noPiece: string }

/** SentencePiece's ids for TEXTS + FUZZ against the converted tokenizer.bin read by the TS port. */
async function compareWith(t: Test, modelArgs: string[]): Promise<{ info: Info; cases: Case[]; tok: Llama2cTokenizer }> {
  const dir = mkdtempSync(join(tmpdir(), 'llama-tok-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const r = runPyFixture('tokenizer_check.py', [...modelArgs, '--out-dir', dir], { input: JSON.stringify([...TEXTS, ...FUZZ]) });
  const { info, cases } = JSON.parse(succeeded(r, 'tokenizer_check.py')) as { info: Info; cases: Case[] };
  const tok = await Llama2cTokenizer.read(join(dir, 'tokenizer.bin'), info.vocabSize);
  t.equal(cases.length, TEXTS.length + FUZZ.length);
  for (const c of cases.slice(0, TEXTS.length)) {
    const label = JSON.stringify(c.text);
    t.same(tok.encode(c.text, { bos: false }), c.ids, `encode ${label} = SentencePiece ${c.pieces.join(' ')}`);
    t.same(tok.encode(c.text), [tok.bosId, ...c.ids], `with BOS ${label}`);
    t.equal(c.decoded, c.text, `SentencePiece round trip ${label}`);
    t.equal(tok.decode([tok.bosId, ...c.ids]), c.text, `TS decode after BOS ${label}`);
  }
  // Fuzz: report only disagreements (one assertion, so 400 passes do not flood the log).
  const bad = cases.slice(TEXTS.length).filter((c) => {
    const ids = tok.encode(c.text, { bos: false });
    return ids.length !== c.ids.length || ids.some((id, i) => id !== c.ids[i]) || tok.decode([tok.bosId, ...ids]) !== c.text;
  });
  t.same(bad.map((c) => c.text), [], `${FUZZ.length} random strings: same ids and round trip`);
  // Ids the bundle manifest and the verdict use (SPEC §6): "##" stop piece, "▁Yes" / "▁No".
  t.equal(info.yesPiece, '▁Yes');
  t.equal(info.noPiece, '▁No');
  t.not(info.yesFirst, info.noFirst);
  t.equal(tok.encode('Yes', { bos: false })[0], info.yesFirst);
  t.equal(tok.encode('No', { bos: false })[0], info.noFirst);
  t.equal(Buffer.from(tok.piece(info.hashHash)).toString('utf8'), '##');
  t.equal(Buffer.from(tok.piece(info.hashHashHash)).toString('utf8'), '###');
  t.comment(`vocab ${info.vocabSize}: "##" ${info.hashHash}, "###" ${info.hashHashHash}, "▁Yes" ${info.yesFirst}, "▁No" ${info.noFirst}`);
  return { info, cases, tok };
}

const missing = pythonMissing(['sentencepiece']);
t.test('llama2.c conversion + TS run.c BPE agree with SentencePiece (LLaMA-like test model)', { skip: missing }, async (t) => {
  const { info, cases, tok } = await compareWith(t, ['--train-vocab', String(VOCAB)]);
  t.equal(info.vocabSize, VOCAB);
  t.equal(tok.vocabSize, VOCAB);
  // The trained model has multi-character merges, or the comparison would only test characters.
  const longest = Math.max(...cases.flatMap((c) => c.pieces.map((p) => [...p].length)));
  t.ok(longest >= 6, `pieces of up to ${longest} characters`);
  // Byte fallback really happened for the emoji (4 UTF-8 bytes → ids byte + 3), and not for é.
  const emoji = cases.find((c) => c.text === '😀');
  t.same(emoji?.ids.slice(-4), [...Buffer.from('😀')].map((b) => b + 3));
  t.ok(cases.find((c) => c.text === 'café')?.pieces.includes('▁café'), 'é is in the vocabulary');
  t.ok(cases.find((c) => c.text === '\n###')?.pieces.includes('<0x0A>'), 'newline falls back to <0x0A> as in LLaMA');
});

const REAL = process.env.LLAMA_TOKENIZER_MODEL;
t.test('the same on the real LLaMA 32k tokenizer.model', { skip: missing || (REAL ? false : 'set LLAMA_TOKENIZER_MODEL=/path/to/tokenizer.model to run') }, async (t) => {
  const { info, cases } = await compareWith(t, ['--model', resolve(REAL ?? '')]);
  t.equal(info.vocabSize, 32000);
  t.equal(info.hashHash, 2277, 'SPEC §6 stop id');
  for (const s of ['### Human: <Img>', '</Img> ', 'Yes', 'No']) t.comment(`${JSON.stringify(s)} → ${JSON.stringify(cases.find((c) => c.text === s)?.ids)}`);
});
