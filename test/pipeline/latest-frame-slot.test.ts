import t from 'tap';
import { LatestFrameSlot } from '../../src/pipeline/latest-frame-slot.js';
import { RollingWindow } from '../../src/util/rolling-window.js';

t.test('the newest item wins; replaced items are counted as dropped', async (t) => {
  const slot = new LatestFrameSlot<number>();
  t.equal(slot.take(), undefined, 'empty slot gives nothing');
  t.equal(slot.offer(1), undefined);
  t.equal(slot.full, true);
  t.equal(slot.offer(2), 1, 'offer returns the replaced item');
  t.equal(slot.offer(3), 2);
  t.equal(slot.dropped, 2);
  t.equal(slot.take(), 3, 'the newest is taken');
  t.equal(slot.full, false);
  t.equal(slot.take(), undefined);
  t.equal(slot.dropped, 2, 'taking is not dropping');
  slot.offer(4);
  t.equal(slot.clear(), 4);
  t.equal(slot.dropped, 3, 'clearing a waiting item drops it');
  t.equal(slot.clear(), undefined);
  t.equal(slot.dropped, 3, 'clearing an empty slot drops nothing');
});

t.test('undefined is a storable item', async (t) => {
  const slot = new LatestFrameSlot<undefined>();
  slot.offer(undefined);
  t.equal(slot.full, true);
  slot.offer(undefined);
  t.equal(slot.dropped, 1);
});

t.test('rolling window percentiles over the last N values', async (t) => {
  const w = new RollingWindow(4);
  t.equal(w.percentile(50), null);
  for (const v of [10, 20, 30, 40]) w.push(v);
  t.equal(w.percentile(50), 20);
  t.equal(w.percentile(99), 40);
  t.equal(w.percentile(0), 10);
  w.push(1000); // evicts 10
  t.equal(w.size, 4);
  t.equal(w.percentile(0), 20);
  t.equal(w.percentile(100), 1000);
  t.throws(() => new RollingWindow(0), RangeError);
});
