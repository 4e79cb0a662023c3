/**
 * The one composition root (DESIGN principle 1): a frozen Config in, every component built
 * here with its config slice, a child logger and its collaborators — no singletons, no
 * globals. App wires; the components compute. Start order is dependency order; stop is the
 * exact reverse (Lifecycle):
 *
 *   engine → recipes → [assistant] → record → [dialogue] → [opcua] → [mqtt] → sinks
 *     → pipeline:<camera>… → http → [watchdog]
 *
 * - engine: bundle verified (E_BUNDLE_*), encoder opened and warmed up before READY.
 * - recipes: each camera's recipe loaded (E_RECIPE_NOT_FOUND fails the start; a simulated
 *   camera gets one calibrated from its own clean renders) and opened as an Inspector.
 * - record, sinks: the inspection record (every verdict durable before it is published; the
 *   MQTT outbox drains from it) and the fan-out of recorded verdicts (log, OPC UA, MQTT).
 * - pipeline:<camera>: Camera → latest-frame slot → CameraController.inspect → record → sinks.
 *   A camera that cannot open does not fail the start: it reconnects with backoff and says so
 *   in /status.
 * - dialogue: questions about inspections — the AnomalyGPT LLM (assistant.enabled) or, by
 *   default, the grounded answerer (src/dialogue/grounded/: no language model).
 * - http: /healthz, /status, the dialogue API and the technician's page with its API
 *   (config.http; console-wiring.ts). The drift watch and the page's live cache are sinks.
 * - watchdog: WATCHDOG=1 only while the pipelines make progress (liveness.ts).
 *
 * READY=1 goes out after every component started. Stopping (SIGTERM) runs the reverse: the
 * cameras stop first among the working parts, the frame in flight is inspected and recorded,
 * then the sinks drain, the record closes and the model sessions are released.
 */
import { InspectionRecord } from '../archive/inspection-record.js';
import { Camera, cameraTrigger } from '../capture/camera.js';
import { createFrameSource } from '../capture/create-source.js';
import type { ImageLimits } from '../capture/image-limits.js';
import { loadOpenCv, type Cv } from '../capture/opencv.js';
import type { Component } from '../component.js';
import type { CameraConfig, Config } from '../config/index.js';
import { DialogueService } from '../dialogue/dialogue-service.js';
import { GroundedConversations, groundedAssistantInfo } from '../dialogue/grounded/grounded-conversation.js';
import { EngineComponent } from '../fewshot/engine-component.js';
import { RecipeBook, recipeNeeds } from '../fewshot/recipe/recipe-book.js';
import { dialogueRoutes } from '../http/dialogue-routes.js';
import { HttpServer } from '../http/http-server.js';
import { statusRoutes } from '../http/status-routes.js';
import { componentLogger, type Logger } from '../log.js';
import { CameraPipeline } from '../pipeline/camera-pipeline.js';
import { LogSink } from '../publish/log-sink.js';
import { MqttPublisher } from '../publish/mqtt/mqtt-publisher.js';
import { OpcuaOutput } from '../publish/opcua/opcua-output.js';
import { SinkFanout, type VerdictSink } from '../publish/sink.js';
import { Assistant } from '../vlm/assistant/assistant.js';
import { StatusReporter, type AppStatus } from './app-status.js';
import { sourceOptions, withDaemonOptions } from './camera-source.js';
import { consoleRoutes, createDriftWatch, createLiveCache, diskOf, snapshotDrift } from './console-wiring.js';
import { CameraController, DaemonController } from './daemon-control.js';
import { recipeLookup } from './grounded-recipes.js';
import { LlmConversations, llmAssistantInfo } from './llm-conversations.js';
import { Lifecycle, type LifecycleResult, type LifecycleState } from './lifecycle.js';
import { LivenessMonitor } from './liveness.js';
import { SdNotifier, Watchdog, watchdogIntervalMs } from './sd-notify.js';

export interface AppOptions {
  readonly config: Config;
  readonly logger: Logger;
  /** NOTIFY_SOCKET, WATCHDOG_USEC/PID, secrets. Default: process.env. */
  readonly env?: NodeJS.ProcessEnv;
  /** Default: loadOpenCv. */
  readonly cv?: () => Cv;
  /** More sinks after the archive and the log (MQTT, OPC UA…). */
  readonly sinks?: readonly VerdictSink[];
}

/** A lifecycle step made of two functions. */
function step(name: string, start: () => Promise<void> | void, stop: () => Promise<void> | void): Component {
  return { name, start: async () => start(), stop: async () => stop() };
}

export class App {
  readonly #log: Logger;
  readonly #notifier: SdNotifier;
  readonly #engine: EngineComponent;
  readonly #pipelines: CameraPipeline[];
  readonly #control: DaemonController;
  readonly #opcua: OpcuaOutput | undefined;
  readonly #http: HttpServer | undefined;
  readonly #status: StatusReporter;
  readonly #watchdogMs: number | null;
  readonly #lifecycle: Lifecycle;
  #ready = false;
  #readyAfterMs: number | null = null;
  #stopping: Promise<LifecycleResult> | undefined;

  constructor(options: AppOptions) {
    const { config, logger } = options;
    const env = options.env ?? process.env;
    const child = (component: string, bindings?: Record<string, unknown>) => componentLogger(logger, component, bindings);
    this.#log = child('app');
    let cvLoaded: Cv | undefined;
    const cv = options.cv ?? (() => (cvLoaded ??= loadOpenCv()));

    this.#notifier = new SdNotifier({ env, logger: child('sd-notify') });
    const engine = new EngineComponent({
      config: config.inference,
      cv,
      needs: () => recipeNeeds(config.recipes.directory, config.cameras),
      logger: child('engine'),
    });
    this.#engine = engine;
    const recipes = new RecipeBook({
      directory: config.recipes.directory,
      cameras: config.cameras,
      engine: () => engine.engine,
      cv,
      intraOpThreads: config.inference.intraOpThreads,
      warmupRuns: config.inference.warmupRuns,
      imageLimits: config.images,
      logger: child('recipes'),
    });
    const record = new InspectionRecord(config.archive, child('record'));
    const assistant = config.assistant.enabled
      ? new Assistant({
          config: config.assistant,
          executionProviders: config.inference.executionProviders,
          intraOpThreads: config.inference.intraOpThreads,
          logger: child('assistant'),
          archivedFrame: (id) => record.readFrame(id, config.images),
          recipeReferences: (r) => recipes.referenceImages(r.id, r.version),
          recipesInUse: () => recipes.loaded(),
        })
      : undefined;
    // Who answers questions about inspections: the AnomalyGPT LLM when configured, otherwise
    // (the default) the grounded answerer, from the record and the recipes, without an LLM.
    const conversations = assistant
      ? new LlmConversations(assistant)
      : config.http.enabled
        ? new GroundedConversations({ archive: record, recipes: recipeLookup(recipes), cameras: () => config.cameras.map((c) => c.id) })
        : undefined;
    const dialogue = conversations ? new DialogueService(config.assistant.dialogue, conversations, child('dialogue')) : undefined;
    // The drift watch (per recipe, over recorded passes) and the page's live cache: sinks.
    const drift = createDriftWatch(recipes, record, child('drift'));
    const live = config.http.enabled ? createLiveCache(config, record, child('live')) : undefined;

    // What OPC UA / MQTT may do to the cameras (trigger, select a recipe, read health), and
    // what each pipeline inspects with (the active recipe, then the assistant's policy).
    this.#control = new DaemonController(
      config.cameras.map(
        (cam) =>
          new CameraController({
            id: cam.id,
            pipeline: () => this.pipeline(cam.id)!,
            recipes,
            recipeId: cam.recipe,
            model: () => engine.model(),
            imageLimits: config.images,
            ...(assistant ? { decider: assistant } : {}),
            drift: (recipeId) => snapshotDrift(drift, recipeId),
          }),
      ),
    );
    const mqtt = config.mqtt.enabled
      ? new MqttPublisher({ config: config.mqtt, stateDirectory: config.stateDirectory, record, control: this.#control, logger: child('mqtt'), secrets: { env } })
      : undefined;
    this.#opcua = config.opcua.enabled ? new OpcuaOutput(config.opcua, child('opcua'), this.#control, config.stateDirectory, { env }) : undefined;
    const fanout = new SinkFanout(
      [new LogSink(child('verdicts')), ...(this.#opcua ? [this.#opcua] : []), ...(mqtt ? [mqtt] : []), drift, ...(live ? [live] : []), ...(options.sinks ?? [])],
      { logger: child('sinks'), timeoutMs: config.shutdown.stepTimeoutMs },
    );

    this.#pipelines = config.cameras.map((cam, i) => this.#cameraPipeline(cam, i, env, { stateDirectory: config.stateDirectory, limits: config.images }, record, fanout, child));
    const intervalMs = watchdogIntervalMs(env);
    this.#watchdogMs = intervalMs;
    const watchdog = intervalMs === null ? undefined : new Watchdog({ notifier: this.#notifier, intervalMs, logger: child('watchdog') });
    const liveness = watchdog && intervalMs !== null
      ? new LivenessMonitor({ pipelines: this.#pipelines, watchdog, intervalMs, logger: child('watchdog') })
      : undefined;

    const components: Component[] = [
      engine,
      recipes,
      // Required when enabled: a bad AnomalyGPT bundle fails the start (E_BUNDLE_*, E_PART_UNKNOWN…).
      ...(assistant ? [assistant] : []),
      record,
      // After the record: the grounded answerer reads it; stopped before it closes.
      ...(dialogue ? [step('dialogue', () => dialogue.start(), () => dialogue.stop())] : []),
      // OPC UA is required when enabled: a port that cannot be bound fails the start.
      ...(this.#opcua ? [this.#opcua] : []),
      // MQTT is recoverable: start() returns at once and the client keeps reconnecting with
      // backoff; verdicts wait in the inspection record meanwhile.
      ...(mqtt ? [mqtt] : []),
      step('sinks', () => undefined, () => fanout.drain()),
      ...this.#pipelines.map((p) => step(`pipeline:${p.cameraId}`, () => p.start(), () => p.stop())),
    ];
    const page = live
      ? consoleRoutes({ config, env, record, recipes, pipelines: this.#pipelines, control: this.#control, live, drift, engine: () => engine.engine, cv, logger: (c) => child(c) })
      : undefined;
    this.#http = config.http.enabled
      ? new HttpServer({
          host: config.http.host,
          port: config.http.port,
          headersTimeoutMs: config.http.headersTimeoutMs,
          requestTimeoutMs: config.http.requestTimeoutMs,
          ...(config.http.tls ? { tls: config.http.tls } : {}),
          logger: child('http'),
          routes: [
            ...(page ? [page.first] : []),
            statusRoutes({ isReady: () => this.#ready, status: () => this.status() }),
            ...(dialogue
              ? [dialogueRoutes(dialogue, assistant ? { assistant: () => llmAssistantInfo(assistant), llmVerdict: (id) => assistant.verdictFor(id) } : { assistant: groundedAssistantInfo })]
              : []),
            ...(page?.rest ?? []),
          ],
        })
      : undefined;
    if (this.#http) components.push(this.#http);
    if (liveness) components.push(step('watchdog', () => liveness.start(), () => liveness.stop()));
    this.#lifecycle = new Lifecycle(components, { logger: child('lifecycle'), stepTimeoutMs: config.shutdown.stepTimeoutMs });
    this.#status = new StatusReporter({
      lifecycle: this.#lifecycle,
      engine,
      pipelines: this.#pipelines,
      recipeOf: (cameraId) => this.#control.camera(cameraId)?.snapshot().recipe,
      sinks: fanout,
      archive: record,
      ...(watchdog && intervalMs !== null ? { watchdog: { watchdog, intervalMs, ...(liveness ? { liveness } : {}) } } : {}),
      outputs: { ...(mqtt ? { mqtt: () => mqtt.status() } : {}), ...(this.#opcua ? { opcua: () => this.#opcua!.status() } : {}) },
      drift: () => drift.reports(),
      disk: () => diskOf(record.directory),
      ...(page ? { http: () => ({ host: config.http.host, authRequired: page.access.authRequired, sessions: page.access.sessions }) } : {}),
      ...(dialogue ? { assistant: () => ({ ...(assistant ? assistant.status() : { mode: 'grounded' }), dialogue: dialogue.status() }) } : {}),
    });
  }

  #cameraPipeline(
    cam: CameraConfig,
    index: number,
    env: NodeJS.ProcessEnv,
    daemon: { stateDirectory: string; limits: ImageLimits },
    record: InspectionRecord,
    sinks: SinkFanout,
    child: (component: string, bindings?: Record<string, unknown>) => Logger,
  ): CameraPipeline {
    // Camera log lines carry the camera id themselves.
    const log = child('camera');
    // Resolved once here: a missing secret is a config error at construction, not a reconnect loop.
    const options = withDaemonOptions(sourceOptions(cam.source, `cameras[${index}].source`, { env }), { cameraId: cam.id, ...daemon });
    const trigger = cameraTrigger(cam.trigger);
    return new CameraPipeline({
      cameraId: cam.id,
      trigger,
      camera: (onFrame) =>
        new Camera(
          { id: cam.id, trigger, reconnect: cam.reconnect },
          {
            logger: log,
            createSource: () => createFrameSource(options, { cameraId: cam.id, logger: log }),
            onFrame,
            onState: (state) => this.#control.emitHealth(cam.id, state),
          },
        ),
      // The active recipe can change at run time (OPC UA RecipeId, MQTT cmd/recipe).
      inspector: this.#control.camera(cam.id)!,
      record,
      sinks,
      logger: child('pipeline', { camera: cam.id }),
      // No onProgress into the Watchdog: the LivenessMonitor reads every pipeline's
      // `activity.completed` and feeds progress only when none is stalled (liveness.ts).
    });
  }

  /**
   * Starts every component in order and sends READY=1. Resolves with ok: false (after
   * stopping what had started) when a required part failed; its failures name the error.
   */
  async start(): Promise<LifecycleResult> {
    const t0 = performance.now();
    this.#notifier.status('starting: loading model and recipes');
    const result = await this.#lifecycle.start();
    if (!result.ok || this.#lifecycle.state !== 'running') return result;
    this.#ready = true;
    this.#readyAfterMs = performance.now() - t0;
    const engine = this.#engine.engine;
    const summary = `ready: ${this.#pipelines.length} camera(s), ${engine.provider}, ${engine.bundle.manifest.id}@${engine.bundle.manifest.version}`;
    this.#notifier.ready(summary);
    this.#log.info(
      { ms: Math.round(this.#readyAfterMs), cameras: this.#pipelines.map((p) => p.cameraId), provider: engine.provider, watchdogMs: this.#watchdogMs, http: this.httpAddress() ?? null },
      'ready',
    );
    return result;
  }

  /** Graceful stop in exact reverse start order. Idempotent. */
  stop(reason = 'requested'): Promise<LifecycleResult> {
    this.#stopping ??= (async () => {
      this.#ready = false;
      this.#notifier.stopping(`stopping: ${reason}`);
      const result = await this.#lifecycle.stop(reason);
      this.#notifier.close();
      return result;
    })();
    return this.#stopping;
  }

  get state(): LifecycleState {
    return this.#lifecycle.state;
  }

  get ready(): boolean {
    return this.#ready;
  }

  /** Names of the started components, in start order. */
  get started(): string[] {
    return this.#lifecycle.started;
  }

  /** The OPC UA endpoint URL once started (opcua.enabled). */
  get opcuaEndpoint(): string | undefined {
    return this.#opcua?.endpointUrl;
  }

  /** Triggers, recipe selection and health for the industrial outputs. */
  get control(): DaemonController {
    return this.#control;
  }

  /** The pipeline of a camera: `trigger()` is the on-demand inspection API. */
  pipeline(cameraId: string): CameraPipeline | undefined {
    return this.#pipelines.find((p) => p.cameraId === cameraId);
  }

  /** Where the HTTP server listens; undefined when http is disabled or not started. */
  httpAddress(): { host: string; port: number } | undefined {
    try {
      return this.#http?.address();
    } catch {
      return undefined;
    }
  }

  status(): AppStatus {
    return this.#status.report({ ready: this.#ready, readyAfterMs: this.#readyAfterMs });
  }
}
