/**
 * Next-token choice: greedy takes the first maximum (run.c argmax, the golden data's rule);
 * top-p keeps the smallest likely set and is reproducible for a seed.
 */
import t from 'tap';
import { argmax, createSampler, sampleTopP } from '../../../src/vlm/llm/sampling.js';
import { createRng } from '../../../src/util/prng.js';

t.test('argmax: first index wins ties', async (t) => {
  t.equal(argmax(Float32Array.from([0, 3, 1, 3])), 1);
  t.equal(argmax(Float32Array.from([-5])), 0);
});

t.test('top-p keeps only the nucleus; a seed reproduces the draws', async (t) => {
  // probabilities ∝ e^2, e^1, e^0, e^−10: the top two hold ~0.9 of the mass.
  const logits = Float32Array.from([1, 2, 0, -10]);
  const rng = createRng(5);
  const counts = [0, 0, 0, 0];
  for (let i = 0; i < 2000; i++) counts[sampleTopP(logits, 0.8, 1, rng)]++;
  t.equal(counts[2] + counts[3], 0, 'tokens outside the 0.8 nucleus never drawn');
  t.ok(counts[1] > counts[0] && counts[0] > 300, `both nucleus tokens drawn, the likelier more often (${counts})`);
  const a = createSampler({ kind: 'top-p', topP: 0.95, temperature: 1, seed: 9 });
  const b = createSampler({ kind: 'top-p', topP: 0.95, temperature: 1, seed: 9 });
  const seqA = Array.from({ length: 50 }, () => a(logits));
  t.same(Array.from({ length: 50 }, () => b(logits)), seqA);
  t.equal(sampleTopP(logits, 1, 0, rng), 1, 'temperature 0 is greedy');
  t.equal(sampleTopP(logits, 1, 1, rng, 1), 1, 'top-k 1 is greedy');
  t.throws(() => createSampler({ kind: 'top-p', topP: 0, temperature: 1, seed: 1 }), RangeError);
});
