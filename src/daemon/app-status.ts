/**
 * The /status document: one JSON object a technician (curl), a health check or the web page
 * reads. Built on request from the components' own counters; nothing here is cached.
 */
import type { InspectionRecord, RecordStats } from '../archive/inspection-record.js';
import type { EngineComponent } from '../fewshot/engine-component.js';
import type { CameraPipeline, PipelineStatus } from '../pipeline/camera-pipeline.js';
import type { SinkCounters, SinkFanout } from '../publish/sink.js';
import type { LivenessMonitor } from './liveness.js';
import type { Lifecycle, LifecycleState } from './lifecycle.js';
import type { Watchdog } from './sd-notify.js';

export interface CameraStatus extends Omit<PipelineStatus, 'cameraId'> {
  readonly recipe: { readonly id: string; readonly version: string | null };
}

export interface AppStatus {
  readonly state: LifecycleState;
  readonly ready: boolean;
  readonly uptimeS: number;
  /** Start to READY=1, ms; null before READY. */
  readonly readyAfterMs: number | null;
  readonly provider: string | null;
  readonly bundle: { readonly id: string; readonly version: string } | null;
  readonly cameras: Record<string, CameraStatus>;
  readonly sinks: Record<string, SinkCounters>;
  readonly archive: RecordStats;
  readonly watchdog: { readonly enabled: boolean; readonly intervalMs: number | null; readonly pings: number; readonly stalled: readonly string[] };
  readonly failures: readonly { readonly component: string; readonly phase: string; readonly code?: string; readonly message: string }[];
  readonly outputs: Record<string, unknown>;
  /** The AnomalyGPT assistant (LLM verdict + dialogue), when enabled. */
  readonly assistant?: unknown;
  /** The drift watch, per recipe seen (src/judge/drift.ts). */
  readonly drift?: unknown;
  /** The file system holding the record. */
  readonly disk?: { readonly freeBytes: number; readonly totalBytes: number } | null;
  /** The page's access: sign-in required (not loopback), open sessions. */
  readonly http?: unknown;
}

/** What the status is read from: the components themselves. */
export interface StatusSources {
  readonly lifecycle: Pick<Lifecycle, 'state' | 'result'>;
  readonly engine: EngineComponent;
  readonly pipelines: readonly CameraPipeline[];
  readonly recipeOf: (cameraId: string) => { readonly id: string; readonly version: string } | undefined;
  readonly sinks: Pick<SinkFanout, 'stats'>;
  readonly archive: Pick<InspectionRecord, 'stats'>;
  readonly watchdog?: { readonly watchdog: Pick<Watchdog, 'pings'>; readonly liveness?: Pick<LivenessMonitor, 'stalled'>; readonly intervalMs: number };
  /** Industrial outputs' own status (connection, queue…), by name. */
  readonly outputs: Record<string, () => unknown>;
  readonly assistant?: () => unknown;
  readonly drift?: () => unknown;
  readonly disk?: () => { readonly freeBytes: number; readonly totalBytes: number } | null;
  readonly http?: () => unknown;
}

export class StatusReporter {
  readonly #createdAt = Date.now();

  constructor(private readonly s: StatusSources) {}

  report(readiness: { readonly ready: boolean; readonly readyAfterMs: number | null }): AppStatus {
    const s = this.s;
    const cameras: Record<string, CameraStatus> = {};
    for (const p of s.pipelines) {
      const { cameraId: _id, ...rest } = p.status();
      const r = s.recipeOf(p.cameraId);
      cameras[p.cameraId] = { ...rest, recipe: { id: r?.id ?? '?', version: r?.version || null } };
    }
    const engine = s.engine.loaded ? s.engine.engine : undefined;
    const m = engine?.bundle.manifest;
    const w = s.watchdog;
    const outputs: Record<string, unknown> = {};
    for (const [name, status] of Object.entries(s.outputs)) outputs[name] = status();
    return {
      state: s.lifecycle.state,
      ready: readiness.ready,
      uptimeS: Math.round((Date.now() - this.#createdAt) / 1000),
      readyAfterMs: readiness.readyAfterMs === null ? null : Math.round(readiness.readyAfterMs),
      provider: engine?.provider ?? null,
      bundle: m ? { id: m.id, version: m.version } : null,
      cameras,
      sinks: s.sinks.stats(),
      archive: s.archive.stats(),
      watchdog: w
        ? { enabled: true, intervalMs: w.intervalMs, pings: w.watchdog.pings, stalled: [...(w.liveness?.stalled ?? [])] }
        : { enabled: false, intervalMs: null, pings: 0, stalled: [] },
      outputs,
      ...(s.assistant ? { assistant: s.assistant() } : {}),
      ...(s.drift ? { drift: s.drift() } : {}),
      ...(s.disk ? { disk: s.disk() } : {}),
      ...(s.http ? { http: s.http() } : {}),
      failures: s.lifecycle.result().failures.map((f) => {
        const code = (f.error as { code?: unknown }).code;
        return { component: f.component, phase: f.phase, ...(typeof code === 'string' ? { code } : {}), message: f.error.message };
      }),
    };
  }
}
