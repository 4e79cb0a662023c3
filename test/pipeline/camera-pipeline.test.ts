import t from 'tap';
import { Camera } from '../../src/capture/camera.js';
import type { Frame } from '../../src/capture/frame.js';
import type { FrameSource, SourceCounters } from '../../src/capture/frame-source.js';
import { AppError, ErrorCodes } from '../../src/errors.js';
import type { Verdict } from '../../src/judge/verdict.js';
import { CameraPipeline, type FrameInspector, type VerdictRecord } from '../../src/pipeline/camera-pipeline.js';
import { SinkFanout, type VerdictSink } from '../../src/publish/sink.js';
import { capturingLogger, silentLogger, sleep, syntheticFrame, until, verdictFor } from './helpers.js';
import type { TriggerMode } from '../../src/config/index.js';

/** A real FrameSource producing small synthetic frames, live or not, with an optional read delay. */
class TestSource implements FrameSource {
  readonly counters: SourceCounters = { frames: 0, unreadable: 0 };
  readonly description: string;
  constructor(readonly live: boolean, private readonly readDelayMs = 0) {
    this.description = live ? 'test:live' : 'test:replay';
  }
  async open() {}
  async read(): Promise<Frame | null> {
    if (this.readDelayMs > 0) await sleep(this.readDelayMs);
    return syntheticFrame(++this.counters.frames, 'src', 8, 8);
  }
  async close() {}
}

/** A stand-in for the Inspector (constructor injection, not a module mock): takes `ms` per frame. */
class SlowInspector implements FrameInspector {
  readonly seen: number[] = [];
  constructor(private readonly ms: number, private readonly failEvery = 0) {}
  async inspect(frame: Frame): Promise<Verdict> {
    this.seen.push(frame.seq);
    await sleep(this.ms);
    if (this.failEvery > 0 && frame.seq % this.failEvery === 0) {
      throw new AppError(ErrorCodes.FRAME_INVALID, `frame ${frame.seq} is invalid`);
    }
    return verdictFor(frame, frame.seq % 2 === 1, this.ms);
  }
}

/**
 * A stand-in for the inspection record (constructor injection): keeps the ids in commit order,
 * takes `ms` per append, and refuses frames whose seq `failWhen` picks. The real record has its
 * own tests (test/archive/) and runs in the daemon tests.
 */
class TestRecord implements VerdictRecord {
  readonly ids: string[] = [];
  busy = 0;
  maxBusy = 0;
  constructor(private readonly ms = 0, private readonly failWhen: (seq: number) => boolean = () => false) {}
  async append(v: Verdict): Promise<number> {
    this.maxBusy = Math.max(this.maxBusy, ++this.busy);
    try {
      if (this.ms > 0) await sleep(this.ms);
      if (this.failWhen(v.seq)) throw new AppError(ErrorCodes.ARCHIVE_IO, `disk full at frame ${v.seq}`);
      this.ids.push(v.id);
      return this.ids.length;
    } finally {
      this.busy--;
    }
  }
}

function recorder(name = 'rec') {
  const seqs: number[] = [];
  const sink: VerdictSink = { name, publish: (v) => void seqs.push(v.seq) };
  return { sink, seqs };
}

function makePipeline(opts: {
  live: boolean;
  readDelayMs?: number;
  inspector: FrameInspector;
  sinks: VerdictSink[];
  mode?: TriggerMode;
  logger?: ReturnType<typeof silentLogger>;
  record?: VerdictRecord;
}) {
  const trigger = { mode: opts.mode ?? 'free-run', fps: 0 } as const;
  const logger = opts.logger ?? silentLogger();
  let progress = 0;
  const pipeline = new CameraPipeline({
    cameraId: 'cam1',
    trigger,
    camera: (onFrame) =>
      new Camera(
        { id: 'cam1', trigger, reconnect: { initialDelayMs: 10, maxDelayMs: 20 } },
        { logger, createSource: () => new TestSource(opts.live, opts.readDelayMs ?? 0), onFrame },
      ),
    inspector: opts.inspector,
    record: opts.record ?? new TestRecord(),
    sinks: new SinkFanout(opts.sinks, { logger, timeoutMs: 1000 }),
    logger,
    onProgress: () => progress++,
  });
  return { pipeline, progress: () => progress };
}

t.test('live camera faster than inference: newest frame wins, drops are counted', async (t) => {
  const inspector = new SlowInspector(25);
  const rec = recorder();
  const { pipeline, progress } = makePipeline({ live: true, readDelayMs: 2, inspector, sinks: [rec.sink] });
  await pipeline.start();
  await until(() => pipeline.counters.inspected >= 6);
  await pipeline.stop();
  const c = pipeline.counters;
  t.ok(c.dropped > 0, `dropped ${c.dropped} of ${c.frames} frames`);
  t.equal(c.frames, c.inspected + c.errors + c.dropped, 'every frame is inspected or counted as dropped');
  t.equal(progress(), c.inspected + c.errors, 'progress reported per completed frame');
  t.same(rec.seqs, inspector.seen, 'every inspected frame reached the sink, in order');
  for (let i = 1; i < inspector.seen.length; i++) {
    t.ok(inspector.seen[i] - inspector.seen[i - 1] > 1, 'frames were skipped between inspections (only the newest waits)');
  }
  const s = pipeline.status();
  t.equal(s.camera.state, 'stopped');
  t.equal(s.inFlight, false);
  t.ok(s.timings.p50TotalMs === 25 && s.timings.p99TotalMs === 25, 'p50/p99 from the verdict timings');
  t.match(s.lastVerdict, { seq: inspector.seen[inspector.seen.length - 1] });
});

t.test('non-live source is paced by the pipeline: nothing dropped', async (t) => {
  const inspector = new SlowInspector(5);
  const rec = recorder();
  const { pipeline } = makePipeline({ live: false, inspector, sinks: [rec.sink] });
  await pipeline.start();
  await until(() => pipeline.counters.inspected >= 10);
  await pipeline.stop();
  const c = pipeline.counters;
  t.equal(c.dropped, 0);
  t.same(inspector.seen, Array.from({ length: inspector.seen.length }, (_, i) => i + 1), 'every frame, in order');
  t.equal(c.passed + c.failed, c.inspected);
  t.ok(c.passed > 0 && c.failed > 0);
});

t.test('inference errors are counted and skipped; a throwing sink does not stop another', async (t) => {
  const { logger, lines } = capturingLogger('warn');
  const inspector = new SlowInspector(1, 3);
  const rec = recorder('good');
  const bad: VerdictSink = { name: 'bad', publish: () => { throw new Error('sink down'); } };
  const { pipeline } = makePipeline({ live: false, inspector, sinks: [bad, rec.sink], logger });
  await pipeline.start();
  await until(() => pipeline.counters.frames >= 12);
  await pipeline.stop();
  const c = pipeline.counters;
  t.equal(c.errors, Math.floor(inspector.seen.length / 3), 'every third frame failed inference');
  t.equal(c.inspected, inspector.seen.length - c.errors);
  t.same(rec.seqs, inspector.seen.filter((s) => s % 3 !== 0), 'the good sink got every verdict');
  t.match(pipeline.status().lastError, { code: 'E_FRAME_INVALID' });
  t.same(c.errorsByCode, { E_FRAME_INVALID: c.errors }, 'errors counted by code');
  t.equal(lines.filter((l) => l.msg === 'inspection failed; frame skipped').length, 1, 'inference errors are logged rate-limited');
  t.equal(lines.filter((l) => l.msg === 'sink failed to publish a verdict').length, 1);
});

t.test('trigger() on an on-demand camera inspects one frame per call', async (t) => {
  const inspector = new SlowInspector(2);
  const rec = recorder();
  const { pipeline } = makePipeline({ live: false, inspector, sinks: [rec.sink], mode: 'on-demand' });
  await pipeline.start();
  await sleep(30);
  t.equal(pipeline.counters.frames, 0, 'idle until triggered');
  t.equal(pipeline.activity.mode, 'on-demand');
  const v1 = await pipeline.trigger();
  const v2 = await pipeline.trigger();
  t.equal(v1.seq, 1);
  t.equal(v2.seq, 2);
  t.equal(v1.cameraId, 'cam1');
  const [a, b] = await Promise.all([pipeline.trigger(), pipeline.trigger()]);
  t.ok(a.seq >= 3 && b.seq >= 3, 'concurrent triggers each get a fresh frame');
  await sleep(10);
  t.equal(pipeline.activity.triggersPending, 0);
  await pipeline.stop();
  await t.rejects(pipeline.trigger(), { code: 'E_CAMERA_READ' }, 'a stopped camera cannot be triggered');
});

t.test('trigger() on a free-running camera answers with the next frame', async (t) => {
  const inspector = new SlowInspector(3);
  const { pipeline } = makePipeline({ live: true, readDelayMs: 1, inspector, sinks: [] });
  await pipeline.start();
  await until(() => pipeline.counters.inspected >= 2);
  const before = pipeline.counters.frames;
  const v = await pipeline.trigger();
  t.ok(v.seq > before, `verdict of frame ${v.seq}, delivered after the trigger (frames before: ${before})`);
  await pipeline.stop();
});

t.test('a trigger error reaches the caller', async (t) => {
  const { pipeline } = makePipeline({ live: false, inspector: new SlowInspector(1, 1), sinks: [], mode: 'on-demand' });
  await pipeline.start();
  await t.rejects(pipeline.trigger(), { code: 'E_FRAME_INVALID' });
  await pipeline.stop();
});

t.test('stop lets the frame in flight finish and reach the sinks', async (t) => {
  const inspector = new SlowInspector(80);
  const published: number[] = [];
  const slowSink: VerdictSink = { name: 'slow', publish: (v) => sleep(40).then(() => void published.push(v.seq)) };
  const { pipeline } = makePipeline({ live: false, inspector, sinks: [slowSink] });
  await pipeline.start();
  await until(() => pipeline.activity.inFlight);
  const inFlight = pipeline.counters.frames;
  await pipeline.stop();
  t.equal(pipeline.activity.inFlight, false);
  t.ok(published.includes(inFlight), `frame ${inFlight}, in flight at stop, was published (published: ${published})`);
  t.equal(pipeline.counters.inspected, inspector.seen.length);
});

t.test('a slow record holds the pipeline back: frames are dropped before inspection, no verdict after it', async (t) => {
  // Inspection 5 ms, durable write 30 ms, a live camera every 2 ms: the record is the bottleneck.
  const inspector = new SlowInspector(5);
  const record = new TestRecord(30);
  const rec = recorder();
  const { pipeline } = makePipeline({ live: true, readDelayMs: 2, inspector, sinks: [rec.sink], record });
  await pipeline.start();
  await until(() => record.ids.length >= 6);
  await pipeline.stop();
  const c = pipeline.counters;
  t.equal(record.maxBusy, 1, 'one verdict per camera waits for the record at a time');
  t.equal(record.ids.length, inspector.seen.length, 'every inspected frame was recorded (stop waits for the last write)');
  t.same(rec.seqs, inspector.seen, 'and published, in order');
  t.equal(c.inspected, record.ids.length, 'verdicts are counted once recorded');
  t.ok(c.dropped > c.inspected, `frames dropped before inspection while the record was behind (${c.dropped} dropped, ${c.inspected} inspected)`);
  t.equal(c.frames, c.inspected + c.errors + c.dropped, 'every frame is recorded or counted as dropped');
});

t.test('a verdict the record refuses is never published: counted as an error, the trigger rejects', async (t) => {
  const { logger, lines } = capturingLogger('warn');
  const record = new TestRecord(0, (seq) => seq === 2);
  const rec = recorder();
  const { pipeline } = makePipeline({ live: false, inspector: new SlowInspector(1), sinks: [rec.sink], mode: 'on-demand', record, logger });
  await pipeline.start();
  const v1 = await pipeline.trigger();
  await t.rejects(pipeline.trigger(), { code: 'E_ARCHIVE_IO' }, 'the PLC gets the record error, not an unrecorded verdict');
  const v3 = await pipeline.trigger();
  await pipeline.stop();
  t.same(rec.seqs, [v1.seq, v3.seq], 'only recorded verdicts reached the sinks');
  t.same(record.ids, [v1.id, v3.id]);
  t.equal(pipeline.counters.errors, 1);
  t.equal(pipeline.counters.inspected, 2);
  t.match(pipeline.status().lastError, { code: 'E_ARCHIVE_IO' });
  t.equal(lines.filter((l) => l.msg === 'verdict not recorded; not published').length, 1);
});
