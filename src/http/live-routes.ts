/**
 * The live view's API (issue 10 items 1 and 5; docs/http-api.md "Live"):
 *
 *   GET /api/cameras                  every camera: state, trigger, recipe, counters, rate, last verdict, drift
 *   GET /api/events                   Server-Sent Events: `verdict` as each is recorded, `cameras`
 *                                     every second, `recipe` when a camera's recipe changes (by
 *                                     anyone: page, OPC UA, MQTT), `drift` when a drift state changes
 *   PUT /api/cameras/{id}/recipe      { recipe } (engineer) — CameraControl.selectRecipe, the
 *                                     same path as OPC UA SelectRecipe and MQTT cmd/recipe
 *
 * One hub feeds every open stream, and it runs only while a stream is open. A client that does
 * not keep up (more than `maxBufferedBytes` unsent) is disconnected — the page reconnects and
 * starts from the current state — rather than buffering without bound.
 */
import type { FastifyInstance } from 'fastify';
import { AppError, ErrorCodes, toError } from '../errors.js';
import type { DriftReport } from '../judge/drift.js';
import type { Logger } from '../log.js';
import type { DaemonControl } from '../publish/control.js';
import { EventStream } from './event-stream.js';
import { allowOnly, type HttpRoutes } from './http-server.js';
import { liveSummary, type InspectionSummary } from './inspection-view.js';
import type { LiveCache } from './live-cache.js';

/** A camera as the pipeline reports it (the composition root maps its status to this). */
export interface CameraInfo {
  readonly id: string;
  readonly state: string;
  readonly trigger: { readonly mode: string; readonly fps: number };
  readonly recipe: { readonly id: string; readonly version: string };
  readonly counters: { readonly frames: number; readonly inspected: number; readonly passed: number; readonly failed: number; readonly dropped: number; readonly errors: number };
  readonly timings: { readonly p50TotalMs: number | null; readonly p99TotalMs: number | null };
  readonly lastError: { readonly code?: string; readonly message: string; readonly at: number } | null;
}

export type RecipeDriftReport = DriftReport & { readonly recipe: string; readonly version: string };

/** The drift watch (src/pipeline/drift-watch.ts), as the page needs it. */
export interface DriftSource {
  report(recipeId: string): RecipeDriftReport | undefined;
  reports(): RecipeDriftReport[];
  onChange(listener: (report: RecipeDriftReport) => void): () => void;
}

export interface LiveRoutesOptions {
  readonly cameras: () => readonly CameraInfo[];
  readonly control: Pick<DaemonControl, 'camera'>;
  readonly live: LiveCache;
  readonly drift?: DriftSource;
  readonly logger: Logger;
  /** Default 1000 ms. */
  readonly tickMs?: number;
  /** Default 4 MiB. */
  readonly maxBufferedBytes?: number;
}

export interface CameraView extends CameraInfo {
  /** Inspections per second over the last 10 s. */
  readonly fps: number;
  readonly lastVerdict: InspectionSummary | null;
  readonly drift: RecipeDriftReport | null;
}

class EventHub {
  readonly #streams = new Set<EventStream>();
  readonly #recipes = new Map<string, string>();
  /** Who changed a camera's recipe through this API, until the next tick reports the change. */
  readonly changedBy = new Map<string, string>();
  #stop: (() => void) | undefined;

  constructor(private readonly o: LiveRoutesOptions, private readonly cameras: () => CameraView[]) {}

  add(stream: EventStream): void {
    this.#streams.add(stream);
    stream.signal.addEventListener('abort', () => this.#remove(stream));
    if (this.#streams.size === 1) this.#start();
    // The current state first, so the page is complete without waiting for the next event.
    const cams = this.cameras();
    stream.send('cameras', cams);
    for (const c of cams) if (c.lastVerdict) stream.send('verdict', { camera: c.id, inspection: c.lastVerdict });
    for (const d of this.o.drift?.reports() ?? []) stream.send('drift', d);
  }

  #remove(stream: EventStream): void {
    if (!this.#streams.delete(stream)) return;
    if (this.#streams.size === 0) {
      this.#stop?.();
      this.#stop = undefined;
    }
  }

  #start(): void {
    for (const c of this.o.cameras()) this.#recipes.set(c.id, `${c.recipe.id}@${c.recipe.version}`);
    const offVerdict = this.o.live.onVerdict((e) => this.#send('verdict', { camera: e.verdict.cameraId, inspection: liveSummary(e.verdict, e.seq) }));
    const offDrift = this.o.drift?.onChange((r) => this.#send('drift', r));
    const timer = setInterval(() => this.#tick(), this.o.tickMs ?? 1000);
    timer.unref();
    this.#stop = () => {
      clearInterval(timer);
      offVerdict();
      offDrift?.();
    };
  }

  #tick(): void {
    try {
      const cams = this.cameras();
      for (const c of cams) {
        const key = `${c.recipe.id}@${c.recipe.version}`;
        if (this.#recipes.get(c.id) !== key) {
          this.#recipes.set(c.id, key);
          this.#send('recipe', { camera: c.id, recipe: c.recipe, by: this.changedBy.get(c.id) ?? null });
        }
        this.changedBy.delete(c.id);
      }
      this.#send('cameras', cams);
    } catch (e) {
      this.o.logger.warn({ err: toError(e) }, 'live event tick failed');
    }
  }

  #send(event: string, data: unknown): void {
    const limit = this.o.maxBufferedBytes ?? 4 * 1024 * 1024;
    for (const s of this.#streams) {
      if (s.buffered > limit) {
        this.o.logger.warn({ buffered: s.buffered }, 'event stream client is not keeping up; disconnected');
        s.end();
        continue;
      }
      s.send(event, data);
    }
  }
}

export function liveRoutes(o: LiveRoutesOptions): HttpRoutes {
  const cameras = (): CameraView[] =>
    o.cameras().map((c) => {
      const last = o.live.latest(c.id);
      return {
        ...c,
        fps: Math.round(o.live.rate(c.id) * 100) / 100,
        lastVerdict: last ? liveSummary(last.verdict, last.seq) : null,
        drift: o.drift?.report(c.recipe.id) ?? null,
      };
    });
  const hub = new EventHub(o, cameras);
  return {
    name: 'live',
    register(app: FastifyInstance) {
      app.get('/api/cameras', async (_req, reply) => reply.header('Cache-Control', 'no-store').send(cameras()));

      app.get('/api/events', async (_req, reply) => {
        const stream = new EventStream(reply);
        stream.open();
        hub.add(stream);
        return reply;
      });

      app.put<{ Params: { id: string }; Body: unknown }>('/api/cameras/:id/recipe', { config: { role: 'engineer' } }, async (req) => {
        const camera = o.control.camera(req.params.id);
        if (!camera) throw new AppError(ErrorCodes.NOT_FOUND, `no camera ${req.params.id}`);
        const recipe = (req.body as { recipe?: unknown } | null)?.recipe;
        if (typeof recipe !== 'string' || recipe.trim() === '') throw new AppError(ErrorCodes.REQUEST_INVALID, 'body: { "recipe": "<recipe id>" }');
        const before = camera.snapshot().recipe;
        await camera.selectRecipe(recipe);
        const now = camera.snapshot().recipe;
        const by = req.principal?.user ?? null;
        if (by) hub.changedBy.set(camera.id, by);
        o.logger.info({ camera: camera.id, from: before, recipe: now, by }, 'recipe selected over HTTP');
        return { camera: camera.id, recipe: now, previous: before };
      });

      allowOnly(app, '/api/cameras', ['GET']);
      allowOnly(app, '/api/events', ['GET']);
      allowOnly(app, '/api/cameras/:id/recipe', ['PUT']);
    },
  };
}
