/**
 * The /status document: one JSON object a technician (curl), a health check or later the web
 * page reads. Built on request from the components' own counters; nothing here is cached.
 */
import type { ArchiveStats } from '../archive/archive.js';
import type { Engine } from '../fewshot/engine.js';
import type { CameraPipeline, PipelineStatus } from '../pipeline/camera-pipeline.js';
import type { SinkCounters } from '../publish/sink.js';
import type { LifecycleFailure, LifecycleState } from './lifecycle.js';

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
  readonly archive: ArchiveStats;
  readonly watchdog: { readonly enabled: boolean; readonly intervalMs: number | null; readonly pings: number; readonly stalled: readonly string[] };
  readonly failures: readonly { readonly component: string; readonly phase: string; readonly code?: string; readonly message: string }[];
  readonly outputs: Record<string, unknown>;
  /** The AnomalyGPT assistant (LLM verdict + dialogue), when enabled. */
  readonly assistant?: unknown;
}

export interface AppStatusInputs {
  readonly state: LifecycleState;
  readonly ready: boolean;
  readonly createdAt: number;
  readonly readyAfterMs: number | null;
  readonly engine: Engine | undefined;
  readonly pipelines: readonly CameraPipeline[];
  readonly recipeOf: (cameraId: string) => { id: string; version: string | null };
  readonly sinks: Record<string, SinkCounters>;
  readonly archive: ArchiveStats;
  readonly watchdog: AppStatus['watchdog'];
  readonly failures: readonly LifecycleFailure[];
  /** Industrial outputs' own status (connection, queue…), by name. */
  readonly outputs: Record<string, unknown>;
  readonly assistant?: unknown;
}

export function buildAppStatus(i: AppStatusInputs): AppStatus {
  const cameras: Record<string, CameraStatus> = {};
  for (const p of i.pipelines) {
    const { cameraId: _id, ...rest } = p.status();
    cameras[p.cameraId] = { ...rest, recipe: i.recipeOf(p.cameraId) };
  }
  const m = i.engine?.bundle.manifest;
  return {
    state: i.state,
    ready: i.ready,
    uptimeS: Math.round((Date.now() - i.createdAt) / 1000),
    readyAfterMs: i.readyAfterMs === null ? null : Math.round(i.readyAfterMs),
    provider: i.engine?.provider ?? null,
    bundle: m ? { id: m.id, version: m.version } : null,
    cameras,
    sinks: i.sinks,
    archive: i.archive,
    watchdog: i.watchdog,
    outputs: i.outputs,
    ...(i.assistant !== undefined ? { assistant: i.assistant } : {}),
    failures: i.failures.map((f) => {
      const code = (f.error as { code?: unknown }).code;
      return { component: f.component, phase: f.phase, ...(typeof code === 'string' ? { code } : {}), message: f.error.message };
    }),
  };
}
