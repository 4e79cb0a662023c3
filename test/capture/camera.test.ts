import t from 'tap';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AppError, ErrorCodes } from '../../src/errors.js';
import { loadOpenCv } from '../../src/capture/opencv.js';
import { Camera, type CameraSettings, type CameraState } from '../../src/capture/camera.js';
import { backoffDelay, type CameraTimers } from '../../src/capture/camera-timing.js';
import { FolderSource } from '../../src/capture/folder-source.js';
import { OpenCvSource } from '../../src/capture/opencv-source.js';
import type { Frame } from '../../src/capture/frame.js';
import type { CaptureLogger, FrameSource, SourceCounters } from '../../src/capture/frame-source.js';
import { until } from '../support/wait.js';

const logger: CaptureLogger = { warn: () => {}, info: () => {}, debug: () => {} };
const tick = () => new Promise<void>((r) => setImmediate(r));
async function flush(rounds = 20) {
  for (let i = 0; i < rounds; i++) await tick();
}

/** Timers the test steps by hand; records every delay asked for. */
class ManualTimers implements CameraTimers {
  time = 1_000_000;
  delays: number[] = [];
  private pending: Array<{ at: number; fn: () => void; id: number }> = [];
  private ids = 0;
  now = () => this.time;
  setTimeout = (fn: () => void, ms: number) => {
    this.delays.push(ms);
    const id = ++this.ids;
    this.pending.push({ at: this.time + ms, fn, id });
    return id;
  };
  clearTimeout = (id: unknown) => {
    this.pending = this.pending.filter((p) => p.id !== id);
  };
  get waiting() {
    return this.pending.length;
  }
  async advance(ms: number) {
    const end = this.time + ms;
    for (;;) {
      await flush();
      const next = this.pending.filter((p) => p.at <= end).sort((a, b) => a.at - b.at)[0];
      if (!next) break;
      this.pending = this.pending.filter((p) => p !== next);
      this.time = next.at;
      next.fn();
    }
    this.time = end;
    await flush();
  }
}

/** A real FrameSource implementation driven by a script: opens may fail, reads may fail. */
class ScriptedSource implements FrameSource {
  readonly counters: SourceCounters = { frames: 0, unreadable: 0 };
  opened = false;
  closed = false;
  readsStarted = 0;
  constructor(
    readonly description: string,
    readonly live: boolean,
    private readonly script: { openFails?: boolean; frames?: number; failAfter?: number; readDelayMs?: number },
  ) {}
  async open() {
    if (this.script.openFails) throw new AppError(ErrorCodes.CAMERA_OPEN, `cannot open ${this.description}`);
    this.opened = true;
  }
  async read(): Promise<Frame | null> {
    if (!this.opened || this.closed) throw new AppError(ErrorCodes.CAMERA_READ, 'not open');
    const n = ++this.readsStarted;
    if (this.script.readDelayMs) await new Promise((r) => setTimeout(r, this.script.readDelayMs));
    if (this.script.failAfter !== undefined && n > this.script.failAfter) {
      throw new AppError(ErrorCodes.CAMERA_READ, 'cable pulled');
    }
    if (this.script.frames !== undefined && n > this.script.frames) return null;
    this.counters.frames++;
    return { cameraId: 'src', seq: n, capturedAt: 0, width: 1, height: 1, channels: 1, data: new Uint8Array([n & 0xff]), origin: `${this.description}#${n}` };
  }
  async close() {
    this.closed = true;
  }
}

function config(over: Partial<CameraSettings['trigger']> = {}, reconnect = { initialDelayMs: 10, maxDelayMs: 50 }): CameraSettings {
  return { id: 'cam1', trigger: { mode: 'free-run', fps: 0, ...over }, reconnect };
}

t.test('backoff doubles to the maximum, jitter only shortens', async (t) => {
  t.same([0, 1, 2, 3, 4, 5].map((f) => backoffDelay(f, 100, 1000, 0)), [100, 200, 400, 800, 1000, 1000]);
  t.equal(backoffDelay(0, 100, 1000, 0.999), 80);
  t.equal(backoffDelay(50, 100, 1000, 0), 1000, 'no overflow');
});

t.test('reopens with exponential backoff until the source opens', async (t) => {
  const timers = new ManualTimers();
  const sources: ScriptedSource[] = [];
  const states: CameraState[] = [];
  const frames: Frame[] = [];
  const cam = new Camera(config({ mode: 'on-demand' }), {
    logger,
    timers,
    random: () => 0,
    createSource: () => {
      const s = new ScriptedSource(`s${sources.length}`, false, { openFails: sources.length < 5 });
      sources.push(s);
      return s;
    },
    onFrame: (f) => void frames.push(f),
    onState: (s) => void states.push(s),
  });
  await cam.start();
  t.equal(cam.state, 'reconnecting');
  t.match(cam.stats.lastError, { code: 'E_CAMERA_OPEN', message: /s0/ });
  t.ok(sources[0].closed, 'a failed source is closed');
  await timers.advance(1000);
  t.same(timers.delays, [10, 20, 40, 50, 50], 'initial delay doubling to the maximum');
  t.equal(sources.length, 6);
  t.equal(cam.state, 'streaming');
  t.same(states, ['reconnecting', 'streaming']);
  t.equal(cam.stats.reopens, 5);
  t.ok(sources.slice(0, 5).every((s) => s.closed));
  const frame = await cam.trigger();
  t.equal(frame.cameraId, 'cam1');
  t.equal(frame.seq, 1);
  t.equal(frames[0], frame, 'onFrame got the triggered frame');
  await cam.stop();
  t.ok(sources[5].closed);
  t.equal(cam.state, 'stopped');
});

t.test('a failing read reopens; seq keeps counting across sources', async (t) => {
  const timers = new ManualTimers();
  let made = 0;
  const frames: Frame[] = [];
  const cam = new Camera(config({ fps: 0 }), {
    logger,
    timers,
    random: () => 0,
    createSource: () => new ScriptedSource(`s${made++}`, true, { failAfter: 2 }),
    onFrame: (f) => void frames.push(f),
  });
  await cam.start();
  await flush();
  t.equal(cam.state, 'reconnecting');
  t.equal(cam.stats.lastError?.code, 'E_CAMERA_READ');
  t.same(frames.map((f) => f.seq), [1, 2]);
  await timers.advance(10);
  await flush();
  t.same(frames.map((f) => f.seq), [1, 2, 3, 4]);
  t.same(frames.map((f) => f.origin), ['s0#1', 's0#2', 's1#1', 's1#2']);
  t.same(timers.delays, [10, 10], 'a source that delivered frames resets the backoff');
  await cam.stop();
});

t.test('on-demand trigger on a live source hands over a frame read after the trigger', async (t) => {
  const source = new ScriptedSource('live', true, { readDelayMs: 2 });
  const frames: Frame[] = [];
  const cam = new Camera(config({ mode: 'on-demand' }), {
    logger,
    createSource: () => source,
    onFrame: (f) => void frames.push(f),
  });
  await cam.start();
  await until(() => source.readsStarted >= 5);
  t.equal(frames.length, 0, 'nothing delivered without a trigger');
  const before = source.readsStarted;
  const frame = await cam.trigger();
  const n = Number(frame.origin.split('#')[1]);
  t.ok(n > before, `frame #${n} was read after the trigger (reads before: ${before})`);
  t.same(frames, [frame]);
  t.ok(cam.stats.skipped >= 4, 'drained frames are counted as skipped');
  const [a, b] = await Promise.all([cam.trigger(), cam.trigger()]);
  t.equal(a, b, 'concurrent triggers on a live camera share the next frame');
  await cam.stop();
  await t.rejects(cam.trigger(), { code: 'E_CAMERA_READ' });
});

t.test('on-demand on a non-live source reads one frame per trigger', async (t) => {
  const source = new ScriptedSource('files', false, { frames: 3 });
  const cam = new Camera(config({ mode: 'on-demand' }), { logger, createSource: () => source, onFrame: () => {} });
  await cam.start();
  await flush();
  t.equal(source.readsStarted, 0, 'no read before a trigger');
  const [a, b] = await Promise.all([cam.trigger(), cam.trigger()]);
  t.same([a.origin, b.origin], ['files#1', 'files#2']);
  t.equal((await cam.trigger()).origin, 'files#3');
  await t.rejects(cam.trigger(), { code: 'E_CAMERA_READ', message: /end/ });
  await until(() => cam.state === 'ended');
  await cam.stop();
});

t.test('free-run paces a non-live source at fps and waits for the consumer', async (t) => {
  const timers = new ManualTimers();
  const source = new ScriptedSource('files', false, {});
  const frames: Frame[] = [];
  const cam = new Camera(config({ fps: 10 }), { logger, timers, createSource: () => source, onFrame: (f) => void frames.push(f) });
  await cam.start();
  await flush();
  t.equal(frames.length, 1, 'first frame at once');
  await timers.advance(99);
  t.equal(frames.length, 1);
  await timers.advance(1);
  t.equal(frames.length, 2, 'second after 100 ms');
  await timers.advance(300);
  t.equal(frames.length, 5);
  await cam.stop();

  // fps 0: as fast as the consumer allows, never faster.
  const slow = new ScriptedSource('files', false, {});
  let release: () => void = () => {};
  let delivered = 0;
  const cam2 = new Camera(config({ fps: 0 }), {
    logger,
    createSource: () => slow,
    onFrame: () => {
      delivered++;
      return new Promise<void>((r) => (release = r));
    },
  });
  await cam2.start();
  await flush();
  t.equal(slow.readsStarted, 1, 'no read while the consumer is busy');
  release();
  await until(() => delivered === 2);
  t.equal(slow.readsStarted, 2);
  const t0 = Date.now();
  await cam2.stop();
  t.ok(Date.now() - t0 < 200, 'stop does not wait for a stuck consumer');
});

t.test('free-run on a live source drains every frame but delivers at most fps', async (t) => {
  const timers = new ManualTimers();
  const source = new ScriptedSource('live', true, {});
  const frames: Frame[] = [];
  const cam = new Camera(config({ fps: 10 }), { logger, timers, createSource: () => source, onFrame: (f) => void frames.push(f) });
  await cam.start();
  await until(() => source.readsStarted > 20);
  t.equal(frames.length, 1, 'clock frozen: one frame delivered, the rest drained');
  t.ok(cam.stats.skipped >= 19);
  timers.time += 100;
  await until(() => frames.length === 2);
  const next = cam.trigger();
  timers.time += 100;
  const frame = await next;
  t.equal(frame.seq, 3, 'trigger() in free-run resolves with the next delivered frame');
  await cam.stop();
});

t.test('stop() is prompt, closes the source and is idempotent', async (t) => {
  const source = new ScriptedSource('live', true, { readDelayMs: 20 });
  const cam = new Camera(config(), { logger, createSource: () => source, onFrame: () => {} });
  await cam.start();
  await until(() => cam.stats.frames >= 2);
  const t0 = Date.now();
  const p1 = cam.stop();
  const p2 = cam.stop();
  t.equal(p1, p2);
  await p1;
  const took = Date.now() - t0;
  t.ok(took < 150, `stopped in ${took} ms`);
  t.ok(source.closed);
  t.equal(cam.state, 'stopped');

  // Stop during a long backoff wait (real timers) returns at once.
  const failing = new Camera(config({}, { initialDelayMs: 60_000, maxDelayMs: 60_000 }), {
    logger,
    createSource: () => new ScriptedSource('dead', true, { openFails: true }),
    onFrame: () => {},
  });
  await failing.start();
  t.equal(failing.state, 'reconnecting');
  const t1 = Date.now();
  await failing.stop();
  t.ok(Date.now() - t1 < 100, 'backoff sleep cancelled');
  await t.rejects(failing.start(), { code: 'E_CAMERA_BUSY' });
});

t.test('a non-looping folder ends the camera', async (t) => {
  const cv = loadOpenCv();
  const dir = t.testdir({ 'bad.png': '' });
  for (let i = 1; i <= 3; i++) writeFileSync(join(dir, `${i}.png`), cv.imencode('.png', new cv.Mat(4, 4, cv.CV_8UC1, i)));
  const states: CameraState[] = [];
  const frames: Frame[] = [];
  const cam = new Camera(config({ fps: 0 }), {
    logger,
    createSource: () => new FolderSource({ kind: 'folder', path: dir, loop: false }, { cameraId: 'x', logger }),
    onFrame: (f) => void frames.push(f),
    onState: (s) => void states.push(s),
  });
  await cam.start();
  await until(() => cam.state === 'ended');
  t.same(frames.map((f) => f.data[0]), [1, 2, 3]);
  t.same(states, ['streaming', 'ended']);
  t.equal(cam.stats.frames, 3);
  t.equal(cam.stats.unreadable, 1);
  t.type(cam.stats.lastFrameAt, 'number');
  await cam.stop();
  t.equal(cam.state, 'stopped');
});

t.test('a camera device that never opens reports E_CAMERA_OPEN and keeps retrying', async (t) => {
  const timers = new ManualTimers();
  const cam = new Camera(config(), {
    logger,
    timers,
    random: () => 0,
    createSource: () => new OpenCvSource({ kind: 'device', index: 99 }, { cameraId: 'cam1', logger }),
    onFrame: () => {},
  });
  await cam.start();
  t.equal(cam.state, 'reconnecting');
  t.match(cam.stats.lastError, { code: 'E_CAMERA_OPEN', message: /device:99/ });
  await timers.advance(10);
  t.equal(cam.stats.reopens, 1);
  await cam.stop();
});
