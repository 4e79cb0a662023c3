/**
 * The MQTT output (docs/mqtt.md): a VerdictSink and a lifecycle Component. Start it after the
 * inspection record and before the camera pipelines, so it stops after them and `stopped` is
 * the last word on the status topic.
 * - Verdicts drain from the inspection record (record-outbox.ts): the pipeline makes a verdict
 *   durable there first, then publish() only wakes the drainer, which sends at QoS 1 and moves
 *   the record's `mqtt` cursor on PUBACK. An outage, a slow broker or a crash loses nothing the
 *   record still holds; nothing blocks the pipeline.
 * - `<prefix>/status`: retained `online` on every connect, `stopped` on a clean stop,
 *   `offline` as the retained QoS 1 last will (zigbee2mqtt / Frigate presence).
 * - Commands (command-handler.ts), state (state-reporter.ts), optional Sparkplug B edge node
 *   (sparkplug-node.ts, on a second connection: a connection has one will).
 */
import path from 'node:path';
import { connect, type IClientOptions, type IPublishPacket, type MqttClient } from 'mqtt';
import type { Frame } from '../../capture/frame.js';
import type { SecretEnvironment } from '../../config/index.js';
import type { Component } from '../../component.js';
import { AppError, ErrorCodes, toError } from '../../errors.js';
import type { Verdict } from '../../judge/verdict.js';
import type { Logger } from '../../log.js';
import { RateLimitedLog } from '../../util/rate-limited-log.js';
import type { VerdictSink } from '../sink.js';
import type { DaemonControl } from '../control.js';
import { endClient, publishProperties, withTimeout } from './client-util.js';
import { CommandHandler } from './command-handler.js';
import { clientOptions, resolveCredentials } from './connection-options.js';
import type { MqttConfig } from '../../config/mqtt.js';
import type { MqttCounters } from './payloads.js';
import { QueueDrainer, type DrainerStats } from './queue-drainer.js';
import { RecordOutbox, type OutboxStats, type VerdictLog } from './record-outbox.js';
import { SparkplugNode, type SparkplugStatus } from './sparkplug-node.js';
import { StateReporter } from './state-reporter.js';
import { Topics, TopicError } from './topics.js';
import { verdictMessages } from './verdict-messages.js';

export interface MqttPublisherOptions {
  readonly config: MqttConfig;
  /** The Sparkplug bdSeq file lives under it. */
  readonly stateDirectory: string;
  /** The inspection record the verdicts drain from (started before the publisher). */
  readonly record: VerdictLog;
  readonly control: DaemonControl;
  readonly logger: Logger;
  /** Where password references are resolved. Default: process.env / $CREDENTIALS_DIRECTORY. */
  readonly secrets?: SecretEnvironment;
  /** Bound of each wait in stop() (in-flight PUBACKs, `stopped`, DISCONNECT). Default 3000 ms. */
  readonly stopTimeoutMs?: number;
}

export interface MqttPublisherStatus {
  readonly connected: boolean;
  readonly connects: number;
  readonly lastConnectAt: number | null;
  readonly lastError?: { readonly code?: string | number; readonly message: string; readonly at: number };
  readonly queue: OutboxStats;
  readonly delivery: DrainerStats;
  readonly commands: { readonly handled: number; readonly failed: number };
  readonly sparkplug?: SparkplugStatus;
}

export class MqttPublisher implements Component, VerdictSink {
  readonly name = 'mqtt';
  /** publish() only wakes the drainer: it never waits. */
  readonly maxPending = Number.POSITIVE_INFINITY;
  readonly topics: Topics;
  readonly #c: MqttConfig;
  readonly #log: Logger;
  readonly #warn: RateLimitedLog;
  readonly #options: IClientOptions;
  readonly #stopMs: number;
  readonly #queue: RecordOutbox;
  readonly #drainer: QueueDrainer;
  readonly #commands: CommandHandler;
  readonly #state: StateReporter;
  readonly #sparkplug: SparkplugNode | undefined;
  #client: MqttClient | undefined;
  #accepting = false;
  #connects = 0;
  #lastConnectAt: number | null = null;
  #lastError: MqttPublisherStatus['lastError'];

  constructor(options: MqttPublisherOptions) {
    const c = options.config;
    this.#c = c;
    this.#log = options.logger;
    this.#warn = new RateLimitedLog(options.logger, 10_000);
    this.#stopMs = options.stopTimeoutMs ?? 3000;
    try {
      this.topics = new Topics(c.prefix);
      for (const cam of options.control.cameras) this.topics.inspection(cam.id);
    } catch (e) {
      if (e instanceof TopicError) throw new AppError(ErrorCodes.CONFIG_INVALID, `mqtt: ${e.message}`);
      throw e;
    }
    const credentials = resolveCredentials(c, options.secrets);
    const will = { topic: this.topics.status, payload: Buffer.from('offline'), qos: 1 as const, retain: true };
    this.#options = clientOptions(c, credentials, c.clientId, will);
    this.#queue = new RecordOutbox({
      log: options.record,
      messages: (v) => verdictMessages(v, this.topics, c),
      maxWaiting: c.queue.maxMessages,
      logger: options.logger,
    });
    this.#drainer = new QueueDrainer({
      queue: this.#queue,
      logger: options.logger,
      send: (msg, done) => {
        const payload = Buffer.from(msg.payload.buffer, msg.payload.byteOffset, msg.payload.byteLength); // a view, not a copy
        const opts = { qos: 1 as const, retain: msg.retain ?? false, ...publishProperties(c.protocolVersion, msg.properties) };
        this.#client!.publish(msg.topic, payload, opts, (err) => done(err as (Error & { code?: unknown }) | undefined));
      },
    });
    this.#commands = new CommandHandler({ topics: this.topics, control: options.control, logger: options.logger });
    this.#state = new StateReporter({
      control: options.control,
      topics: this.topics,
      periodMs: c.statePeriodS * 1000,
      counters: () => this.#counters(),
      publish: (topic, payload) => this.#publishDirect(topic, payload, true),
    });
    const sp = c.sparkplug;
    this.#sparkplug = sp?.enabled
      ? new SparkplugNode({
          url: c.url,
          clientOptions: clientOptions(c, credentials, `${c.clientId}-spb`, will),
          groupId: sp.groupId,
          edgeNodeId: sp.edgeNodeId,
          bdSeqFile: path.resolve(options.stateDirectory, 'sparkplug-bdseq'),
          control: options.control,
          mqttCounters: () => ({ queued: this.#queue.stats().length, dropped: this.#queue.stats().dropped }),
          logger: options.logger.child({ sparkplug: `${sp.groupId}/${sp.edgeNodeId}` }),
        })
      : undefined;
  }

  async start(_signal: AbortSignal): Promise<void> {
    await this.#queue.open();
    this.#accepting = true;
    const client = connect(this.#c.url, { ...this.#options, resubscribe: false });
    this.#client = client;
    client.on('connect', (connack) => this.#onConnect(client, connack.properties?.receiveMaximum));
    client.on('close', () => this.#drainer.setConnected(false));
    client.on('offline', () => this.#warn.log('warn', { url: this.#c.url }, 'MQTT broker unreachable; verdicts wait in the inspection record'));
    client.on('error', (err) => this.#error(err, 'MQTT connection error'));
    client.on('message', (topic, payload, packet) => void this.#onCommand(client, topic, payload, packet));
    this.#state.start();
    this.#sparkplug?.start();
    this.#log.info({ url: this.#c.url, protocolVersion: this.#c.protocolVersion, prefix: this.#c.prefix, queued: this.#queue.stats().length }, 'MQTT publisher started');
  }

  #onConnect(client: MqttClient, receiveMaximum: number | undefined): void {
    this.#connects++;
    this.#lastConnectAt = Date.now();
    this.#log.info({ url: this.#c.url, connects: this.#connects, queued: this.#queue.stats().length }, 'MQTT connected');
    this.#publishDirect(this.topics.status, Buffer.from('online'), true);
    const sub = this.#c.protocolVersion === 5 ? { qos: 1 as const, rh: 2 as const, nl: true } : { qos: 1 as const };
    client.subscribe(this.topics.commandFilter, sub, (err, granted) => {
      const refused = granted?.find((g) => g.qos > 2);
      if (err || refused) this.#error(err ?? Object.assign(new Error(`subscription to ${this.topics.commandFilter} refused`), { code: refused!.qos }), 'MQTT command subscription failed');
    });
    this.#state.publishAll();
    this.#drainer.setConnected(true, receiveMaximum);
  }

  async #onCommand(client: MqttClient, topic: string, payload: Buffer, packet: IPublishPacket): Promise<void> {
    const p = packet.properties;
    const response = await this.#commands.handle({
      topic,
      payload,
      retain: packet.retain,
      ...(p?.responseTopic ? { responseTopic: p.responseTopic } : {}),
      ...(p?.correlationData ? { correlationData: p.correlationData } : {}),
    });
    if (!response || !client.connected) return;
    const props = publishProperties(this.#c.protocolVersion, { contentType: 'application/json', ...(response.correlationData ? { correlationData: response.correlationData } : {}) });
    client.publish(response.topic, JSON.stringify(response.reply), { qos: 1, ...props }, (err) => {
      if (err) this.#error(err, 'MQTT command reply not delivered');
    });
  }

  /**
   * The sink: the verdict is already durable in the inspection record (the pipeline appended
   * it first); keep it for the live path (no mask file read back) and wake the drainer.
   */
  publish(verdict: Verdict, _frame: Frame): void {
    if (!this.#accepting) throw new Error('MQTT publisher is not running; the verdict waits in the record');
    this.#queue.noteLive(verdict);
    this.#drainer.kick();
    this.#state.noteVerdict(verdict);
    this.#sparkplug?.noteVerdict(verdict);
  }

  async stop(): Promise<void> {
    this.#accepting = false;
    this.#state.stop();
    this.#drainer.stop();
    await this.#drainer.idle(this.#stopMs);
    await this.#sparkplug?.stop(this.#stopMs);
    const client = this.#client;
    this.#client = undefined;
    if (client) {
      if (client.connected) {
        const ok = await withTimeout(client.publishAsync(this.topics.status, 'stopped', { qos: 1, retain: true }).then(() => true, () => false), this.#stopMs, false);
        if (!ok) this.#log.warn('MQTT status "stopped" not acknowledged; the broker will show "offline"');
      }
      await endClient(client, this.#stopMs);
    }
    await this.#queue.close();
    this.#log.info({ ...this.#counters(), published: this.#drainer.stats().published }, 'MQTT publisher stopped');
  }

  status(): MqttPublisherStatus {
    return {
      connected: this.#client?.connected ?? false,
      connects: this.#connects,
      lastConnectAt: this.#lastConnectAt,
      ...(this.#newestError() ? { lastError: this.#newestError() } : {}),
      queue: this.#queue.stats(),
      delivery: this.#drainer.stats(),
      commands: this.#commands.counters,
      ...(this.#sparkplug ? { sparkplug: this.#sparkplug.status() } : {}),
    };
  }

  /** The latest of: connection/subscription/publish errors and negative PUBACKs of queued messages. */
  #newestError(): MqttPublisherStatus['lastError'] {
    const r = this.#drainer.stats().lastRefusal;
    if (r && (!this.#lastError || r.at >= this.#lastError.at)) return { code: r.reasonCode, message: `broker refused ${r.topic}: ${r.message}`, at: r.at };
    return this.#lastError;
  }

  #counters(): MqttCounters {
    const q = this.#queue.stats();
    return { queued: q.length, dropped: q.dropped, rejected: this.#drainer.stats().rejected };
  }

  /** Status/state: straight to the client (current values, not history); false when offline. */
  #publishDirect(topic: string, payload: Buffer, retain: boolean): boolean {
    const client = this.#client;
    if (!client?.connected) return false;
    client.publish(topic, payload, { qos: 1, retain }, (err) => {
      if (err) this.#error(err, `MQTT publish to ${topic} failed`);
    });
    return true;
  }

  #error(thrown: unknown, message: string): void {
    const err = toError(thrown);
    const code = (err as { code?: unknown }).code;
    this.#lastError = { ...(typeof code === 'string' || typeof code === 'number' ? { code } : {}), message: `${message}: ${err.message}`, at: Date.now() };
    this.#warn.log('error', { err, code }, message);
  }
}
