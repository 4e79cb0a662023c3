/**
 * Sparkplug B edge node (option `mqtt.sparkplug`): one device per camera, on its own MQTT
 * connection because a connection has exactly one will and Sparkplug's must be the NDEATH.
 *
 * Spec points (Sparkplug 3.0) and where the Tahu JavaScript client differs:
 * - NDEATH is the will at QoS 1, retain false, carrying the session's bdSeq; bdSeq goes up by
 *   one on every CONNECT and is persisted (bdseq-store.ts). Tahu: will at QoS 0, bdSeq fixed.
 * - On connect: subscribe NCMD/DCMD first, then NBIRTH (seq 0, every node metric incl. bdSeq)
 *   and one DBIRTH per camera with every metric; then NDATA/DDATA by exception; seq 0…255.
 * - NCMD `Node Control/Rebirth` = true → NBIRTH + DBIRTHs again (same bdSeq, seq from 0).
 * - DCMD `Device Control/Trigger` = true / `Device Control/Recipe` = "<id>" drive the camera.
 * - Clean stop: NDEATH published explicitly (QoS 1) before DISCONNECT (the will is not sent then).
 * BIRTH/DATA go at QoS 0 and are not queued: after an outage a new BIRTH carries the current
 * values; the no-loss history lives on the plain `/inspection` topic.
 */
import { connect, type IClientOptions, type MqttClient } from 'mqtt';
import sparkplug from 'sparkplug-payload';
import { toError } from '../../errors.js';
import type { Verdict } from '../../judge/verdict.js';
import type { Logger } from '../../log.js';
import { RateLimitedLog } from '../../util/rate-limited-log.js';
import type { DaemonControl } from '../control.js';
import { BdSeqStore } from './bdseq-store.js';
import { endClient, withTimeout } from './client-util.js';
import { changedMetrics, deviceMetrics, DEVICE_CONTROL, nodeMetrics, NODE_METRIC, type Metric } from './sparkplug-metrics.js';
import { SparkplugTopics } from './topics.js';

const spb = sparkplug.get('spBv1.0')!;
type UPayload = Parameters<typeof spb.encodePayload>[0];

export interface SparkplugNodeOptions {
  readonly url: string;
  /** Client options without will (connection-options.ts). */
  readonly clientOptions: IClientOptions;
  readonly groupId: string;
  readonly edgeNodeId: string;
  readonly bdSeqFile: string;
  readonly control: DaemonControl;
  readonly mqttCounters: () => { queued: number; dropped: number };
  readonly logger: Logger;
}

export interface SparkplugStatus {
  readonly connected: boolean;
  readonly bdSeq: number | null;
  readonly births: number;
  readonly lastError?: { readonly message: string; readonly at: number };
}

export class SparkplugNode {
  readonly topics: SparkplugTopics;
  readonly #o: SparkplugNodeOptions;
  readonly #bdSeq: BdSeqStore;
  readonly #errors: RateLimitedLog;
  readonly #last = new Map<string, Verdict>();
  readonly #deviceSent = new Map<string, Map<string, unknown>>();
  readonly #nodeSent = new Map<string, unknown>();
  #client: MqttClient | undefined;
  #seq = 0;
  #born = false;
  #births = 0;
  #lastError: SparkplugStatus['lastError'];
  #timer: NodeJS.Timeout | undefined;
  #unsubscribe: (() => void) | undefined;

  constructor(options: SparkplugNodeOptions) {
    this.#o = options;
    this.topics = new SparkplugTopics(options.groupId, options.edgeNodeId);
    this.#bdSeq = new BdSeqStore(options.bdSeqFile);
    this.#errors = new RateLimitedLog(options.logger, 10_000);
  }

  start(): void {
    const will = { topic: this.topics.node('NDEATH'), payload: this.#ndeath(this.#bdSeq.next()), qos: 1 as const, retain: false };
    const client = connect(this.#o.url, { ...this.#o.clientOptions, resubscribe: false, will });
    this.#client = client;
    // mqtt.js writes CONNECT right after emitting 'reconnect': the will gets the new bdSeq here.
    client.on('reconnect', () => {
      if (client.options.will) client.options.will.payload = this.#ndeath(this.#bdSeq.next());
    });
    client.on('connect', () => void this.#onConnect(client));
    client.on('close', () => (this.#born = false));
    client.on('error', (err) => this.#error(err, 'Sparkplug MQTT connection error'));
    client.on('message', (topic, payload) => this.#onMessage(topic, payload));
    // Counters and health change without a verdict: look for changes every second.
    this.#timer = setInterval(() => this.refresh(), 1000);
    this.#timer.unref();
    this.#unsubscribe = this.#o.control.onHealth((cameraId) => this.refresh(cameraId));
  }

  async #onConnect(client: MqttClient): Promise<void> {
    try {
      await client.subscribeAsync([this.topics.node('NCMD'), this.topics.deviceCommandFilter], { qos: 1 });
    } catch (err) {
      this.#error(err, 'Sparkplug could not subscribe to NCMD/DCMD; no birth published');
      return;
    }
    this.#birth();
  }

  /** NBIRTH (seq 0) and one DBIRTH per camera, every metric. */
  #birth(): void {
    const now = Date.now();
    this.#seq = 0;
    this.#nodeSent.clear();
    const node = changedMetrics(this.#nodeSent, nodeMetrics(this.#bdSeq.current ?? 0, this.#o.mqttCounters(), now));
    this.#publish(this.topics.node('NBIRTH'), node, now);
    for (const cam of this.#o.control.cameras) {
      const sent = new Map<string, unknown>();
      this.#deviceSent.set(cam.id, sent);
      const metrics = changedMetrics(sent, deviceMetrics(cam.snapshot(), this.#last.get(cam.id), now));
      this.#publish(this.topics.device('DBIRTH', cam.id), metrics, now);
    }
    this.#born = true;
    this.#births++;
    this.#o.logger.info({ bdSeq: this.#bdSeq.current, devices: this.#o.control.cameras.length }, 'Sparkplug NBIRTH/DBIRTH published');
  }

  noteVerdict(v: Verdict): void {
    this.#last.set(v.cameraId, v);
    this.refresh(v.cameraId);
  }

  /** NDATA/DDATA with the metrics that changed (all cameras, or one). */
  refresh(cameraId?: string): void {
    if (!this.#born || !this.#client?.connected) return;
    const now = Date.now();
    if (cameraId === undefined) {
      const node = changedMetrics(this.#nodeSent, nodeMetrics(this.#bdSeq.current ?? 0, this.#o.mqttCounters(), now));
      if (node.length > 0) this.#publish(this.topics.node('NDATA'), node, now);
    }
    for (const cam of this.#o.control.cameras) {
      if (cameraId !== undefined && cam.id !== cameraId) continue;
      const sent = this.#deviceSent.get(cam.id);
      if (!sent) continue;
      const metrics = changedMetrics(sent, deviceMetrics(cam.snapshot(), this.#last.get(cam.id), now));
      if (metrics.length > 0) this.#publish(this.topics.device('DDATA', cam.id), metrics, now);
    }
  }

  #publish(topic: string, metrics: Metric[], now: number): void {
    const payload: UPayload = { timestamp: now, seq: this.#seq, metrics: metrics.map((m) => ({ ...m })) };
    this.#seq = (this.#seq + 1) % 256;
    this.#client?.publish(topic, Buffer.from(spb.encodePayload(payload)), { qos: 0, retain: false });
  }

  #ndeath(bdSeq: number): Buffer {
    return Buffer.from(spb.encodePayload({ timestamp: Date.now(), metrics: [{ name: NODE_METRIC.bdSeq, type: 'UInt64', value: bdSeq }] }));
  }

  #onMessage(topic: string, payload: Buffer): void {
    let metrics: NonNullable<UPayload['metrics']>;
    try {
      metrics = spb.decodePayload(payload).metrics ?? [];
    } catch (err) {
      this.#error(err, `Sparkplug command on ${topic} is not a Sparkplug B payload; ignored`);
      return;
    }
    if (topic === this.topics.node('NCMD')) {
      if (metrics.some((m) => m.name === NODE_METRIC.rebirth && m.value === true)) {
        this.#o.logger.info('Sparkplug rebirth requested (NCMD)');
        this.#birth();
      }
      return;
    }
    const deviceId = this.topics.parseDeviceCommand(topic);
    const camera = deviceId === undefined ? undefined : this.#o.control.camera(deviceId);
    if (!camera) {
      this.#error(new Error(`unknown device ${deviceId}`), 'Sparkplug DCMD for an unknown device; ignored');
      return;
    }
    for (const m of metrics) {
      const done = () => this.refresh(camera.id);
      const failed = (err: unknown) => this.#error(err, `Sparkplug ${m.name} on ${camera.id} failed`);
      if (m.name === DEVICE_CONTROL.trigger && m.value === true) camera.trigger().then(done, failed);
      else if (m.name === DEVICE_CONTROL.recipe && typeof m.value === 'string') camera.selectRecipe(m.value).then(done, failed);
      else this.#error(new Error(`metric ${m.name}`), 'Sparkplug DCMD metric not writable; ignored');
    }
  }

  #error(thrown: unknown, message: string): void {
    const err = toError(thrown);
    this.#lastError = { message: `${message}: ${err.message}`, at: Date.now() };
    this.#errors.log('warn', { err }, message);
  }

  /** NDEATH (QoS 1, awaited up to timeoutMs), then DISCONNECT. */
  async stop(timeoutMs: number): Promise<void> {
    clearInterval(this.#timer);
    this.#unsubscribe?.();
    const client = this.#client;
    if (!client) return;
    this.#client = undefined;
    this.#born = false;
    if (client.connected) {
      const sent = client.publishAsync(this.topics.node('NDEATH'), this.#ndeath(this.#bdSeq.current ?? 0), { qos: 1, retain: false });
      await withTimeout(sent.then(() => true, () => false), timeoutMs, false);
    }
    await endClient(client, timeoutMs);
  }

  status(): SparkplugStatus {
    return {
      connected: this.#client?.connected ?? false,
      bdSeq: this.#bdSeq.current ?? null,
      births: this.#births,
      ...(this.#lastError ? { lastError: this.#lastError } : {}),
    };
  }
}
