/**
 * The live view's memory (src/http/live-cache.ts): bounded per camera, frames kept by
 * reference and encoded once on request, the record's seq attached, listeners told in order,
 * inspections per second over the window.
 */
import t from 'tap';
import { loadOpenCv } from '../../src/capture/opencv.js';
import { LiveCache } from '../../src/http/live-cache.js';
import { capturingLogger } from '../support/logger.js';
import { syntheticFrame, verdictFor } from '../pipeline/helpers.js';

t.test('keeps the newest N per camera, by reference; seq from the record; JPEG and map PNG once', async (t) => {
  let now = 100_000;
  const { logger } = capturingLogger();
  const live = new LiveCache({ perCamera: 2, logger, now: () => now });
  const told: string[] = [];
  live.onVerdict((e) => told.push(`${e.verdict.id}#${e.seq}`));
  const frames = [1, 2, 3].map((i) => syntheticFrame(i, 'a', 64, 48));
  frames.forEach((f, i) => {
    const v = { ...verdictFor(f, i !== 1), decidedAt: now - 1000 + i };
    live.noteSeq(10 + i, v);
    live.publish(v, f);
  });
  const fb = syntheticFrame(1, 'b', 64, 48);
  const vb = verdictFor(fb);
  live.publish(vb, fb);
  t.equal(told.length, 4);
  t.match(told[0], /#10$/, 'the record\'s seq is attached');
  t.match(told[3], /#null$/, 'no seq when the record did not report one');
  t.equal(live.get(verdictFor(frames[0]).id), undefined, 'the oldest of camera a is gone (2 kept)');
  const e = live.get(verdictFor(frames[2]).id)!;
  t.equal(e.frame, frames[2], 'the frame itself, not a copy');
  t.equal(live.latest('a'), e);
  t.equal(live.get(vb.id)?.frame, fb, 'camera b keeps its own');
  const jpg = await live.jpeg(e);
  t.equal(await live.jpeg(e), jpg, 'encoded once');
  const m = loadOpenCv().imdecode(jpg);
  t.same([m.cols, m.rows], [64, 48]);
  t.equal(live.mapPng(e), undefined, 'no map without Verdict.map');
  const withMap = { ...verdictFor(syntheticFrame(9, 'a', 64, 48)), decidedAt: now, map: { width: 2, height: 2, data: new Float32Array([0, 0.25, 0.5, 1]), crop: { x: 0, y: 0, width: 64, height: 48 } } };
  live.publish(withMap, syntheticFrame(9, 'a', 64, 48));
  const png = live.mapPng(live.get(withMap.id)!)!;
  t.same([...loadOpenCv().imdecode(png, loadOpenCv().IMREAD_UNCHANGED).getData()], [0, 64, 128, 255], '128 = the boundary (0.5)');
  t.equal(live.rate('a'), 0.4, '4 verdicts of camera a in the last 10 s');
  now += 20_000;
  t.equal(live.rate('a'), 0, 'none in the window later');
});
