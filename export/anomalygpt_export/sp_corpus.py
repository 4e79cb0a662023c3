"""A small SentencePiece BPE tokenizer trained with LLaMA's settings on the AnomalyGPT prompt
texts (SPEC §6 segments, per-class descriptions and questions, SPEC §7 answers), for the
random-weights LLM bundle and the tokenizer agreement tests. It is not Vicuna's tokenizer: it
shares its algorithm and options (BPE, byte fallback, split digits, identity normalisation,
dummy prefix, extra whitespace kept, ids 0/1/2 = <unk>/<s>/</s>), not its vocabulary.
"""
from __future__ import annotations

import io
import itertools

import sentencepiece as spm

QUESTION = 'Is there any anomaly in the image?'
TAIL = 'without any damage, flaw, defect, scratch, hole or broken part.'
# SPEC §6 "Per-class descriptions used by the test scripts" (the prefix before the question).
DESCRIPTIONS = [
    f'This is a photo of a bottle for anomaly detection, which should be round, {TAIL}',
    f'This is a photo of three cables for anomaly detection, cables cannot be missed or swapped, which should be {TAIL}',
    f"This is a photo of a capsule for anomaly detection, which should be black and orange, with print '500', {TAIL}",
    *[f'This is a photo of {c} for anomaly detection, which should be {TAIL}' for c in ('carpet', 'grid', 'tile', 'pcb')],
    *[f'This is a photo of a {c} for anomaly detection, which should be {TAIL}'
      for c in ('hazelnut', 'toothbrush', 'transistor', 'zipper', 'cashew', 'pipe fryum')],
    f'This is a photo of leather for anomaly detection, which should be brown and {TAIL}',
    f"This is a photo of a metal nut for anomaly detection, which should be {TAIL[:-1]}, and shouldn't be fliped.",
    f"This is a photo of a pill for anomaly detection, which should be white, with print 'FF' and red patterns, {TAIL}",
    f'This is a photo of a screw for anomaly detection, which tail should be sharp, and {TAIL}',
    f'This is a photo of wood for anomaly detection, which should be brown with patterns, {TAIL}',
    f'This is a photo of 4 candles for anomaly detection, every candle should be round, {TAIL}',
    f'This is a photo of many small capsules for anomaly detection, every capsule is green, should be {TAIL}',
    f'This is a photo of a chewinggom for anomaly detection, which should be white, {TAIL}',
    f'This is a photo of a fryum for anomaly detection on green background, which should be {TAIL}',
    f'This is a photo of 4 macaronis for anomaly detection, which should be {TAIL}',
]
POSITIONS = ['top left', 'top', 'top right', 'left', 'center', 'right', 'bottom left', 'bottom', 'bottom right']
OTHER_QUESTIONS = ["What's the object in the image?", 'Are there any defects in the image?',
                   'Is there any defect in the image?', 'Where is the anomaly?']


def answers() -> list[str]:
    """SPEC §7 answer templates, every position (and position pair) filled in."""
    out = ['No, there is no anomaly in the image.', 'No, there are no defects in the image.',
           'Yes, there is an anomaly in the image.']
    for p in POSITIONS:
        out.append(f'Yes, there is an anomaly in the image, at the {p} of the image.')
        out.append(f'Yes, there is a defect in the image, at the {p} of the image.')
    for p, q in itertools.permutations(POSITIONS, 2):
        out.append(f'Yes, there are 2 anomalies in the image, they are at the {p} and {q} of the image.')
    return out


def segments(description: str, history: list[tuple[str, str]] = ()) -> list[str]:
    """The SPEC §6 text segments of one turn (each tokenized on its own, without BOS)."""
    q = f'{description} {QUESTION}'
    prompt = ''.join(f'{hq}\n### Assistant: {ha}\n###' + ' Human: ' for hq, ha in history) + q if history else q
    return ['### Human: <Img>', '</Img> ', prompt + '\n### Assistant:']


def corpus_text() -> list[str]:
    """Training text: prompts, multi-turn dialogues and answers, split at newlines as LLaMA's
    corpus was line-based, so "\\n" stays out of the vocabulary and falls back to <0x0A> as in LLaMA."""
    ans = answers()
    docs: list[str] = []
    for i, d in enumerate(DESCRIPTIONS):
        a0, a1 = ans[i % len(ans)], ans[(7 * i + 3) % len(ans)]
        docs += segments(d)
        docs += segments(d, [(f'{d} {QUESTION}', a0), (OTHER_QUESTIONS[i % 4], a1)])
        docs.append(f'{a0}\n###')
    docs += ans + [f'Human: {q}\n### Assistant:' for q in OTHER_QUESTIONS]
    docs += [f'There are {n} candles, {n * 7} parts and {n * 113} pixels.' for n in range(1, 40)]
    return [line for doc in docs for line in doc.split('\n') if line]


def train_llama_like(vocab_size: int = 700, extra_lines: list[str] = ()) -> bytes:
    """Serialised tokenizer.model. Deterministic: one thread, no sampling or shuffling."""
    buf = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(corpus_text() + list(extra_lines)), model_writer=buf,
        model_type='bpe', vocab_size=vocab_size, character_coverage=1.0,
        byte_fallback=True, split_digits=True, normalization_rule_name='identity',
        add_dummy_prefix=True, remove_extra_whitespaces=False, allow_whitespace_only_pieces=True,
        split_by_unicode_script=True, split_by_whitespace=True, max_sentencepiece_length=16,
        unk_id=0, bos_id=1, eos_id=2, pad_id=-1, num_threads=1, input_sentence_size=0,
        shuffle_input_sentence=False, minloglevel=2,
    )
    return buf.getvalue()
