/**
 * The one composition root (DESIGN principle 1): a frozen Config in, every component built
 * here with its config slice, a child logger and its collaborators — no singletons, no
 * globals. Start order is dependency order; stop is the exact reverse (Lifecycle):
 *
 *   engine → recipes → archive → sinks → pipeline:<camera>… → status-server → watchdog
 *
 * - engine: bundle verified (E_BUNDLE_*), encoder opened and warmed up before READY.
 * - recipes: each camera's recipe loaded (E_RECIPE_NOT_FOUND fails the start; a simulated
 *   camera gets one calibrated from its own clean renders) and opened as an Inspector.
 * - archive, sinks: the inspection archive and the verdict fan-out (archive + log sinks).
 * - pipeline:<camera>: Camera → latest-frame slot → Inspector → sinks. A camera that cannot
 *   open does not fail the start: it reconnects with backoff and says so in /status.
 * - status-server: /status and /healthz (config.http).
 * - watchdog: WATCHDOG=1 only while the pipelines make progress (liveness.ts).
 *
 * READY=1 goes out after every component started. Stopping (SIGTERM) runs the reverse: the
 * cameras stop first among the working parts, the frame in flight is inspected and archived,
 * then the sinks drain, the archive closes and the model sessions are released.
 */
import type { ImageInput } from '../vlm/anomalygpt.js';
import { Assistant } from '../vlm/assistant/assistant.js';
import { AssistantHttp } from '../http/dialogue-routes.js';
import { DialogueService } from '../vlm/assistant/dialogue.js';
import { Camera } from '../capture/camera.js';
import { readImageFile } from '../capture/image-io.js';
import { createFrameSource } from '../capture/create-source.js';
import { loadOpenCv, type Cv } from '../capture/opencv.js';
import type { CameraConfig, Config } from '../config/index.js';
import { InspectionArchive } from '../archive/archive.js';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { componentLogger, type Logger } from '../log.js';
import { ArchiveSink } from '../archive/archive-sink.js';
import { CameraPipeline } from '../pipeline/camera-pipeline.js';
import { LogSink } from '../publish/log-sink.js';
import { SinkFanout, type VerdictSink } from '../publish/sink.js';
import { MqttPublisher } from '../publish/mqtt/mqtt-publisher.js';
import { buildAppStatus, type AppStatus } from './app-status.js';
import { CameraController, DaemonController } from './daemon-control.js';
import { OpcuaOutput } from '../publish/opcua/opcua-output.js';
import { sourceOptions } from './camera-source.js';
import { EngineComponent } from '../fewshot/engine-component.js';
import { Lifecycle, type Component, type LifecycleResult, type LifecycleState } from './lifecycle.js';
import { LivenessMonitor } from './liveness.js';
import { RecipeBook, recipeNeeds } from '../fewshot/recipe/recipe-book.js';
import { SdNotifier, Watchdog, watchdogIntervalMs } from './sd-notify.js';
import { StatusServer } from '../http/http-server.js';

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
function step(name: string, start: (signal: AbortSignal) => Promise<void> | void, stop: () => Promise<void> | void): Component {
  return { name, start: async (signal) => start(signal), stop: async () => stop() };
}

export class App {
  readonly #log: Logger;
  readonly #notifier: SdNotifier;
  readonly #engine: EngineComponent;
  readonly #recipes: RecipeBook;
  readonly #archive: InspectionArchive;
  readonly #fanout: SinkFanout;
  readonly #pipelines: CameraPipeline[];
  readonly #control: DaemonController;
  readonly #mqtt: MqttPublisher | undefined;
  readonly #opcua: OpcuaOutput | undefined;
  readonly #statusServer: StatusServer | undefined;
  readonly #assistant: Assistant | undefined;
  readonly #dialogue: DialogueService | undefined;
  readonly #watchdog: Watchdog | undefined;
  readonly #liveness: LivenessMonitor | undefined;
  readonly #watchdogMs: number | null;
  readonly #lifecycle: Lifecycle;
  readonly #createdAt = Date.now();
  #ready = false;
  #readyAfterMs: number | null = null;
  #stopping: Promise<LifecycleResult> | undefined;

  constructor(options: AppOptions) {
    const { config, logger } = options;
    const env = options.env ?? process.env;
    this.#log = componentLogger(logger, 'app');
    let cvLoaded: Cv | undefined;
    const cv = options.cv ?? (() => (cvLoaded ??= loadOpenCv()));

    this.#notifier = new SdNotifier({ env, logger: componentLogger(logger, 'sd-notify') });
    this.#engine = new EngineComponent({
      config: config.inference,
      cv,
      needs: () => recipeNeeds(config.recipes.directory, config.cameras),
      logger: componentLogger(logger, 'engine'),
    });
    this.#recipes = new RecipeBook({
      directory: config.recipes.directory,
      cameras: config.cameras,
      engine: () => this.#engine.engine,
      cv,
      intraOpThreads: config.inference.intraOpThreads,
      warmupRuns: config.inference.warmupRuns,
      logger: componentLogger(logger, 'recipes'),
    });
    this.#archive = new InspectionArchive(config.archive, componentLogger(logger, 'archive'));
    if (config.assistant.enabled) {
      this.#assistant = new Assistant({
        config: config.assistant,
        executionProviders: config.inference.executionProviders,
        intraOpThreads: config.inference.intraOpThreads,
        logger: componentLogger(logger, 'assistant'),
        archivedFrame: (id) => this.#archivedFrame(id),
      });
      this.#dialogue = new DialogueService(config.assistant.dialogue, this.#assistant, componentLogger(logger, 'dialogue'));
    }
    // What OPC UA / MQTT may do to the cameras (trigger, select a recipe, read health).
    this.#control = new DaemonController(
      config.cameras.map(
        (cam) =>
          new CameraController(cam.id, () => this.pipeline(cam.id)!, this.#recipes, cam.recipe, () => {
            // Before start (or after a failed one) there is no loaded bundle to name.
            const m = this.#engine.loaded ? this.#engine.engine.bundle.manifest : undefined;
            return { id: m?.id ?? '', version: m?.version ?? '' };
          }),
      ),
    );
    this.#mqtt = config.mqtt.enabled
      ? new MqttPublisher({ config: config.mqtt, stateDirectory: config.stateDirectory, control: this.#control, logger: componentLogger(logger, 'mqtt'), secrets: { env } })
      : undefined;
    this.#opcua = config.opcua.enabled
      ? new OpcuaOutput(config.opcua, componentLogger(logger, 'opcua'), this.#control, config.stateDirectory, { env })
      : undefined;
    this.#fanout = new SinkFanout(
      [
        new ArchiveSink(this.#archive),
        new LogSink(componentLogger(logger, 'verdicts')),
        ...(this.#opcua ? [this.#opcua] : []),
        ...(this.#mqtt ? [this.#mqtt] : []),
        ...(options.sinks ?? []),
      ],
      { logger: componentLogger(logger, 'sinks'), timeoutMs: config.shutdown.stepTimeoutMs },
    );

    const intervalMs = watchdogIntervalMs(env);
    this.#watchdogMs = intervalMs;
    this.#watchdog = intervalMs === null ? undefined : new Watchdog({ notifier: this.#notifier, intervalMs, logger: componentLogger(logger, 'watchdog') });
    this.#pipelines = config.cameras.map((cam, i) => this.#pipeline(cam, i, env, logger));
    this.#liveness = this.#watchdog && intervalMs !== null
      ? new LivenessMonitor({ pipelines: this.#pipelines, watchdog: this.#watchdog, intervalMs, logger: componentLogger(logger, 'watchdog') })
      : undefined;

    this.#statusServer = config.http.enabled
      ? new StatusServer({
          host: config.http.host,
          port: config.http.port,
          isReady: () => this.#ready,
          status: () => this.status(),
          logger: componentLogger(logger, 'status-server'),
          ...(this.#assistant && this.#dialogue ? { routes: routesOf(new AssistantHttp(this.#assistant, this.#dialogue)) } : {}),
        })
      : undefined;

    const components: Component[] = [
      this.#engine,
      this.#recipes,
      // Required when enabled: a bad AnomalyGPT bundle fails the start (E_BUNDLE_*, E_PART_UNKNOWN…).
      ...(this.#assistant ? [this.#assistant, step('dialogue', () => this.#dialogue!.start(), () => this.#dialogue!.stop())] : []),
      step('archive', () => this.#archive.open(), () => this.#archive.close()),
      // OPC UA is required when enabled: a port that cannot be bound fails the start.
      ...(this.#opcua ? [this.#opcua] : []),
      // MQTT is recoverable: start() returns at once and the client keeps reconnecting with
      // backoff; verdicts wait in its on-disk queue meanwhile.
      ...(this.#mqtt ? [this.#mqtt] : []),
      step('sinks', () => undefined, () => this.#fanout.drain()),
      ...this.#pipelines.map((p) => step(`pipeline:${p.cameraId}`, () => p.start(), () => p.stop())),
      ...(this.#statusServer ? [this.#statusServer] : []),
      ...(this.#liveness ? [step('watchdog', () => this.#liveness!.start(), () => this.#liveness!.stop())] : []),
    ];
    this.#lifecycle = new Lifecycle(components, { logger: componentLogger(logger, 'lifecycle'), stepTimeoutMs: config.shutdown.stepTimeoutMs });
  }

  #pipeline(cam: CameraConfig, index: number, env: NodeJS.ProcessEnv, logger: Logger): CameraPipeline {
    // Camera log lines carry the camera id themselves.
    const log = componentLogger(logger, 'camera');
    // Resolved once here: a missing secret is a config error at construction, not a reconnect loop.
    const options = sourceOptions(cam.source, `cameras[${index}].source`, { env });
    const trigger = { mode: cam.trigger.mode, fps: cam.trigger.mode === 'free-run' ? cam.trigger.fps : 0 };
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
      // The assistant (when enabled) may replace the judge's verdict by the LLM's (assistant.mode).
      inspector: {
        inspect: async (frame) => {
          const verdict = await this.#control.camera(cam.id)!.inspector().inspect(frame);
          return this.#assistant ? this.#assistant.decide(frame, verdict) : verdict;
        },
      },
      sinks: this.#fanout,
      logger: componentLogger(logger, 'pipeline', { camera: cam.id }),
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
      { ms: Math.round(this.#readyAfterMs), cameras: this.#pipelines.map((p) => p.cameraId), provider: engine.provider, watchdogMs: this.#watchdogMs, status: this.#statusServer ? this.#statusServer.address() : null },
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

  /** The frame the archive saved for an inspection, decoded (for questions about old ones). */
  async #archivedFrame(id: string): Promise<ImageInput | undefined> {
    const rec = await this.#archive.get(id).catch(() => undefined);
    if (!rec?.paths.frame) return undefined;
    const mat = await readImageFile(rec.paths.frame);
    return { data: mat.getData(), width: mat.cols, height: mat.rows, channels: mat.channels === 1 ? 1 : 3 };
  }

  /** Where /status listens; undefined when http is disabled or not started. */
  statusAddress(): { host: string; port: number } | undefined {
    try {
      return this.#statusServer?.address();
    } catch {
      return undefined;
    }
  }

  status(): AppStatus {
    return buildAppStatus({
      state: this.#lifecycle.state,
      ready: this.#ready,
      createdAt: this.#createdAt,
      readyAfterMs: this.#readyAfterMs,
      engine: this.#engine.loaded ? this.#engine.engine : undefined,
      pipelines: this.#pipelines,
      recipeOf: (cameraId) => {
        const r = this.#control.camera(cameraId)?.snapshot().recipe;
        return { id: r?.id ?? '?', version: r?.version || null };
      },
      outputs: { ...(this.#mqtt ? { mqtt: this.#mqtt.status() } : {}) },
      ...(this.#assistant ? { assistant: { ...this.#assistant.status(), dialogue: this.#dialogue!.status() } } : {}),
      sinks: this.#fanout.stats(),
      archive: this.#archive.stats,
      watchdog: this.#watchdog
        ? { enabled: true, intervalMs: this.#watchdogMs, pings: this.#watchdog.pings, stalled: [...(this.#liveness?.stalled ?? [])] }
        : { enabled: false, intervalMs: null, pings: 0, stalled: [] },
      failures: this.#lifecycle.result().failures,
    });
  }
}


function routesOf(api: AssistantHttp): (req: IncomingMessage, res: ServerResponse) => boolean {
  return (req, res) => api.handle(req, res);
}
