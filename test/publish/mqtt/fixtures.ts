/**
 * Test peers for the MQTT publisher: a small real DaemonControl whose cameras make verdicts
 * from a counter (failed ones with a real mask PNG encoded by OpenCV) and hand them to the
 * sink the way the pipeline does; an MQTT subscriber that records what the broker delivers;
 * and a publisher factory. The lead's end-to-end test runs the real daemon instead.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Value } from '@sinclair/typebox/value';
import { connectAsync, type IClientOptions, type IPublishPacket, type MqttClient } from 'mqtt';
import type { Frame } from '../../../src/capture/frame.js';
import type { SecretEnvironment } from '../../../src/config/index.js';
import { loadOpenCv } from '../../../src/capture/opencv.js';
import { AppError, ErrorCodes } from '../../../src/errors.js';
import type { Verdict } from '../../../src/judge/verdict.js';
import type { CameraControl, CameraSnapshot, DaemonControl } from '../../../src/publish/control.js';
import { MqttConfigSchema, type MqttConfig } from '../../../src/config/mqtt.js';
import { InspectionRecord } from '../../../src/archive/inspection-record.js';
import { MqttPublisher, type MqttPublisherOptions } from '../../../src/publish/mqtt/mqtt-publisher.js';
import type { Logger } from '../../../src/log.js';
import type { CameraState } from '../../../src/capture/camera.js';
import { sleep, until } from '../../support/wait.js';
export { sleep, until };
import { capturingLogger, silentLogger } from '../../support/logger.js';
export { capturingLogger, silentLogger };

/**
 * A binary 0/255 mask PNG from OpenCV. `noise` fills a band with random pixels so the PNG does
 * not compress away (≈ 10 KB at 320×240 with noise 0.45); without it, one filled rectangle.
 */
export function maskPng(width: number, height: number, seed: number, noise = 0): Buffer {
  const cv = loadOpenCv();
  const data = Buffer.alloc(width * height);
  let s = seed >>> 0 || 1;
  const rand = () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
  const band = Math.floor(height * noise);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const inBox = x > width / 4 && x < width / 2 && y > height / 4 && y < height / 2;
      data[y * width + x] = (y < band ? rand() < 0.5 : inBox) ? 255 : 0;
    }
  }
  return cv.imencode('.png', new cv.Mat(data, height, width, cv.CV_8UC1));
}

export function makeVerdict(cameraId: string, seq: number, pass: boolean, mask?: Uint8Array): Verdict {
  const capturedAt = Date.UTC(2025, 4, 1) + seq * 100;
  return {
    id: `${cameraId}-${capturedAt}-${seq}`, cameraId, seq, capturedAt, decidedAt: capturedAt + 25,
    pass, confidence: pass ? 0.9 : 0.8, score: pass ? 0.2 : 0.9, threshold: 0.5,
    locations: pass ? [] : [
      { box: { x: 80, y: 60, width: 80, height: 60 }, centroid: { x: 120, y: 90 }, grid: 'top left', area: 4800, peak: 0.95 },
      { box: { x: 200, y: 150, width: 10, height: 10 }, centroid: { x: 205, y: 155 }, grid: 'bottom right', area: 100, peak: 0.7 },
    ],
    ...(mask ? { maskPng: mask } : {}),
    recipe: { id: 'bottle', version: '3' }, model: { id: 'mobilenetv2', version: '1' },
    timings: { preprocessMs: 1, encoderMs: 8, mapMs: 3, judgeMs: 1, totalMs: 13 },
    frame: { width: 320, height: 240, origin: 'rtsp://user:secret@cam/1' },
  };
}

export function frameOf(v: Verdict): Frame {
  return { cameraId: v.cameraId, seq: v.seq, capturedAt: v.capturedAt, width: 4, height: 2, channels: 1, data: new Uint8Array(8), origin: 'test' };
}

type Sink = (v: Verdict) => Promise<void> | void;

export class TestCamera implements CameraControl {
  seq = 0;
  recipe = 'bottle';
  health: CameraState = 'streaming';
  busy = false;
  readonly selected: string[] = [];
  readonly counters = { inspected: 0, passed: 0, failed: 0, dropped: 0, errors: 0 };
  lastVerdictAt: number | null = null;
  /** Where verdicts go (the publisher's publish), like the pipeline's sink fan-out. */
  sink: Sink | undefined;

  constructor(
    readonly id: string,
    private readonly opts: { recipes?: string[]; failEvery?: number; triggerMs?: number; mask?: () => Uint8Array } = {},
  ) {}

  snapshot(): CameraSnapshot {
    return {
      id: this.id, health: this.health, triggerMode: 'on-demand', busy: this.busy,
      recipe: { id: this.recipe, version: '3' }, model: { id: 'mobilenetv2', version: '1' },
      counters: { ...this.counters }, lastVerdictAt: this.lastVerdictAt,
    };
  }

  /** A verdict from the counter: every failEvery-th fails and carries a mask. */
  next(): Verdict {
    const seq = ++this.seq;
    const failEvery = this.opts.failEvery ?? 3;
    const pass = seq % failEvery !== 0;
    const v = makeVerdict(this.id, seq, pass, pass ? undefined : (this.opts.mask?.() ?? maskPng(64, 48, seq)));
    this.counters.inspected++;
    this.counters[pass ? 'passed' : 'failed']++;
    this.lastVerdictAt = v.capturedAt;
    return v;
  }

  async trigger(): Promise<Verdict> {
    if (this.health !== 'streaming') throw new AppError(ErrorCodes.CAMERA_READ, `camera ${this.id} is ${this.health}`);
    if (this.busy) throw new AppError(ErrorCodes.CAMERA_BUSY, `camera ${this.id} is busy`);
    this.busy = true;
    try {
      await sleep(this.opts.triggerMs ?? 20);
      const v = this.next();
      await this.sink?.(v);
      return v;
    } finally {
      this.busy = false;
    }
  }

  async selectRecipe(recipeId: string): Promise<void> {
    if (!(this.opts.recipes ?? ['bottle', 'screw']).includes(recipeId)) {
      throw new AppError(ErrorCodes.RECIPE_NOT_FOUND, `recipe ${recipeId} not found`);
    }
    this.selected.push(recipeId);
    this.recipe = recipeId;
  }
}

export class TestControl implements DaemonControl {
  readonly #listeners = new Set<(id: string, h: CameraState) => void>();
  constructor(readonly cameras: TestCamera[]) {}
  camera(id: string): TestCamera | undefined {
    return this.cameras.find((c) => c.id === id);
  }
  onHealth(listener: (cameraId: string, health: CameraState) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
  setHealth(id: string, h: CameraState): void {
    this.camera(id)!.health = h;
    for (const l of this.#listeners) l(id, h);
  }
}

export function mqttConfig(over: Record<string, unknown>): MqttConfig {
  const c = Value.Default(MqttConfigSchema, structuredClone({ enabled: true, ...over })) as MqttConfig;
  if (!Value.Check(MqttConfigSchema, c)) throw new Error(`bad test config: ${JSON.stringify([...Value.Errors(MqttConfigSchema, c)].map((e) => `${e.path} ${e.message}`))}`);
  return c;
}

export function tempDir(prefix = 'agpt-mqtt-'): { dir: string; remove: () => void } {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * The MQTT publisher with the real inspection record it drains from (in `<state>/archive`),
 * used the way the daemon does: publish() records the verdict durably, then hands it to the
 * publisher (the camera pipeline's order).
 */
export class RecordedPublisher {
  readonly record: InspectionRecord;
  readonly mqtt: MqttPublisher;

  constructor(o: Omit<MqttPublisherOptions, 'record'> & { fsync?: boolean }) {
    const { fsync, ...rest } = o;
    this.record = new InspectionRecord(
      { directory: path.join(o.stateDirectory, 'archive'), maxRecords: 1_000_000, maxBytes: 1e12, saveFrames: 'none', fsync: fsync ?? false },
      o.logger,
    );
    this.mqtt = new MqttPublisher({ ...rest, record: this.record });
  }

  get topics(): MqttPublisher['topics'] {
    return this.mqtt.topics;
  }

  async start(signal: AbortSignal): Promise<void> {
    await this.record.start();
    await this.mqtt.start(signal);
  }

  async stop(): Promise<void> {
    await this.mqtt.stop();
    await this.record.stop();
  }

  #chain: Promise<unknown> = Promise.resolve();

  /**
   * Resolves once the verdict is durable (the record) and handed to MQTT. Appends are chained
   * as a camera pipeline chains them, so record order is verdict order.
   */
  publish(v: Verdict, f: Frame): Promise<void> {
    const done = this.#chain.catch(() => undefined).then(async () => {
      await this.record.append(v, f);
      this.mqtt.publish(v, f);
    });
    this.#chain = done;
    return done;
  }

  status(): ReturnType<MqttPublisher['status']> {
    return this.mqtt.status();
  }
}

/** A publisher wired to the control's cameras the way the daemon's fan-out is. */
export function makePublisher(
  control: TestControl, config: MqttConfig, stateDirectory: string, extra: { logger?: Logger; secrets?: SecretEnvironment; fsync?: boolean } = {},
): RecordedPublisher {
  const p = new RecordedPublisher({
    config, stateDirectory, control, logger: extra.logger ?? silentLogger(), stopTimeoutMs: 1500,
    ...(extra.secrets ? { secrets: extra.secrets } : {}), ...(extra.fsync !== undefined ? { fsync: extra.fsync } : {}),
  });
  for (const cam of control.cameras) cam.sink = (v) => p.publish(v, frameOf(v));
  return p;
}

export interface Received {
  readonly topic: string;
  readonly payload: Buffer;
  readonly packet: IPublishPacket;
}

/** A subscriber that keeps every message it gets. */
export class Recorder {
  readonly messages: Received[] = [];
  private constructor(readonly client: MqttClient) {
    client.on('message', (topic, payload, packet) => this.messages.push({ topic, payload, packet }));
  }

  static async connect(url: string, filters: string[], options: IClientOptions = {}): Promise<Recorder> {
    const client = await connectAsync(url, { protocolVersion: 5, reconnectPeriod: 200, ...options });
    const r = new Recorder(client);
    await client.subscribeAsync(filters, { qos: 1 });
    return r;
  }

  on(topic: string | RegExp): Received[] {
    return this.messages.filter((m) => (typeof topic === 'string' ? m.topic === topic : topic.test(m.topic)));
  }

  json<T = Record<string, unknown>>(topic: string | RegExp): T[] {
    return this.on(topic).map((m) => JSON.parse(m.payload.toString('utf8')) as T);
  }

  async waitFor(topic: string | RegExp, count: number, ms = 5000): Promise<Received[]> {
    await until(() => this.on(topic).length >= count, ms, `${count} message(s) on ${String(topic)} (have ${this.on(topic).length})`);
    return this.on(topic);
  }

  close(): Promise<void> {
    return this.client.endAsync(true);
  }
}

/** Starts publisher-child.ts in a new Node process (same TypeScript loader as tap). */
export interface ChildPublisher {
  readonly child: ChildProcess;
  /** Everything the child printed so far. */
  output(): string;
}

export async function spawnPublisher(args: { config: MqttConfig; stateDirectory: string; cameras: string[] }): Promise<ChildPublisher> {
  const fromTap = process.execArgv.filter((a) => a.includes('@tapjs/typescript'));
  const loader = fromTap.length > 0 ? fromTap : [`--import=${new URL('../../../node_modules/@tapjs/typescript/dist/esm/import.mjs', import.meta.url).href}`];
  const script = fileURLToPath(new URL('./publisher-child.ts', import.meta.url));
  const child = spawn(process.execPath, [...loader, script, JSON.stringify(args)], { stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  await until(() => out.includes('connected\n') || child.exitCode !== null, 60_000, 'child publisher connected');
  if (child.exitCode !== null) throw new Error(`child publisher exited with ${child.exitCode}`);
  return { child, output: () => out };
}
