/** The pure parts of the assistant: when the LLM decides (LlmPolicy) and the bounded map. */
import t from 'tap';
import { LlmPolicy } from '../../../src/vlm/assistant/llm-policy.js';
import { RecentMap } from '../../../src/util/recent-map.js';

t.test('modes: every frame, fails only, on request', async (t) => {
  const every = new LlmPolicy('every-frame', 1);
  t.same([every.wants('a', true), every.wants('a', false)], [true, true]);
  const fails = new LlmPolicy('fails-only', 1);
  t.same([fails.wants('a', true), fails.wants('a', false)], [false, true], 'only the judge\'s fails');
  const onRequest = new LlmPolicy('on-request', 1);
  t.same([onRequest.wants('a', true), onRequest.wants('a', false)], [false, false], 'never on the hot path');
});

t.test('rate: a token bucket per camera, at most maxPerSecond', async (t) => {
  let now = 0;
  const p = new LlmPolicy('rate', 2, () => now);
  const asked: boolean[] = [];
  // 100 frames at 50 fps = 2 s: the first frame, then one every 500 ms.
  for (let i = 0; i < 100; i++, now += 20) asked.push(p.wants('cam1', true));
  t.equal(asked.filter(Boolean).length, 4, '1 at start + 2/s over the following 1.98 s');
  t.equal(asked.indexOf(true), 0, 'the first frame is asked');
  t.equal(asked.indexOf(true, 1), 25, 'the next one after 500 ms');
  t.equal(p.wants('cam2', false), true, 'cameras have their own bucket');
  now += 10_000;
  t.equal(p.wants('cam1', true), true);
  t.equal(p.wants('cam1', true), false, 'an idle period does not bank a burst (capacity 1)');
});

t.test('RecentMap keeps the most recently used entries', async (t) => {
  const evicted: string[] = [];
  const m = new RecentMap<string, number>(2, (k) => evicted.push(k));
  m.set('a', 1);
  m.set('b', 2);
  t.equal(m.get('a'), 1, 'touch a');
  m.set('c', 3);
  t.same(evicted, ['b'], 'b was the least recently used');
  t.equal(m.get('b'), undefined);
  t.equal(m.size, 2);
  t.equal(m.delete('a'), true);
  t.equal(m.delete('a'), false);
  t.same(evicted, ['b', 'a']);
});
