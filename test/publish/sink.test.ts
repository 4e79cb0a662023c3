import t from 'tap';
import { SinkFanout, type VerdictSink } from '../../src/publish/sink.js';
import { LogSink } from '../../src/publish/log-sink.js';
import { capturingLogger, silentLogger, syntheticFrame, verdictFor } from '../pipeline/helpers.js';

function recorder(name: string) {
  const seen: number[] = [];
  const sink: VerdictSink = { name, publish: (v) => void seen.push(v.seq) };
  return { sink, seen };
}

t.test('a throwing and a rejecting sink do not stop the others', async (t) => {
  const { logger, lines } = capturingLogger('warn');
  const good = recorder('good');
  const thrower: VerdictSink = { name: 'thrower', publish: () => { throw new Error('boom'); } };
  const rejecter: VerdictSink = { name: 'rejecter', publish: async () => { throw Object.assign(new Error('disk full'), { code: 'E_ARCHIVE_IO' }); } };
  const fan = new SinkFanout([thrower, rejecter, good.sink], { logger });
  for (let i = 1; i <= 5; i++) {
    const f = syntheticFrame(i);
    await fan.publish(verdictFor(f), f);
  }
  t.same(good.seen, [1, 2, 3, 4, 5], 'the healthy sink got every verdict');
  const s = fan.stats();
  t.match(s.thrower, { failed: 5, published: 0, pending: 0, lastError: { message: 'boom' } });
  t.match(s.rejecter, { failed: 5, lastError: { code: 'E_ARCHIVE_IO' } });
  t.match(s.good, { published: 5, failed: 0 });
  const errors = lines.filter((l) => l.msg === 'sink failed to publish a verdict');
  t.equal(errors.length, 2, 'one line per failing sink: the rest are rate-limited');
  t.same(errors.map((l) => l.sink).sort(), ['rejecter', 'thrower']);
});

t.test('a hanging sink is timed out, then skipped once maxPending publishes hang', async (t) => {
  const good = recorder('good');
  const hanging: VerdictSink = { name: 'hanging', publish: () => new Promise<void>(() => {}) };
  const fan = new SinkFanout([hanging, good.sink], { logger: silentLogger(), timeoutMs: 20, maxPending: 2 });
  const t0 = performance.now();
  for (let i = 1; i <= 4; i++) {
    const f = syntheticFrame(i);
    await fan.publish(verdictFor(f), f);
  }
  const ms = performance.now() - t0;
  t.same(good.seen, [1, 2, 3, 4]);
  t.match(fan.stats().hanging, { timedOut: 2, skipped: 2, pending: 2, published: 0 });
  t.ok(ms < 500, `4 publishes took ${ms.toFixed(0)} ms: only the first two waited for the timeout`);
  await fan.drain();
  t.pass('drain returns although the sink still hangs (its publishes timed out)');
});

t.test('drain waits for slow sinks', async (t) => {
  let finished = 0;
  const slow: VerdictSink = { name: 'slow', publish: () => new Promise<void>((r) => setTimeout(() => { finished++; r(); }, 30)) };
  const fan = new SinkFanout([slow], { logger: silentLogger() });
  const f = syntheticFrame(1);
  void fan.publish(verdictFor(f), f);
  void fan.publish(verdictFor(f), f);
  t.equal(finished, 0);
  await fan.drain();
  t.equal(finished, 2);
  t.throws(() => new SinkFanout([slow, slow], { logger: silentLogger() }), /duplicate sink name/);
});

t.test('the log sink writes one info line per verdict', async (t) => {
  const { logger, lines } = capturingLogger('info');
  const sink = new LogSink(logger);
  const f = syntheticFrame(7);
  const v = { ...verdictFor(f, false), locations: [{ box: { x: 0, y: 0, width: 2, height: 2 }, centroid: { x: 1, y: 1 }, grid: 'top left' as const, area: 4, peak: 1 }] };
  sink.publish(v, f);
  t.equal(lines.length, 1);
  t.match(lines[0], { level: 30, msg: 'fail', id: v.id, pass: false, score: 0.9, threshold: 0.5, confidence: 0.9, locations: ['top left'], ms: { total: 1 } });
});
