/**
 * What the industrial outputs (OPC UA, MQTT, later HTTP) may do to the daemon: read each
 * camera's state, trigger an inspection, select a recipe. Publishers depend on this and on
 * the Verdict type only, never on pipeline internals (DESIGN "dependencies point one way").
 * The composition root adapts the pipelines to it.
 */
import type { CameraState } from '../capture/camera.js';
import type { TriggerMode } from '../config/index.js';
import type { DriftStateName } from '../judge/drift.js';
import type { Verdict } from '../judge/verdict.js';

export interface CameraSnapshot {
  readonly id: string;
  readonly health: CameraState;
  readonly triggerMode: TriggerMode;
  readonly busy: boolean;
  readonly recipe: { readonly id: string; readonly version: string };
  readonly model: { readonly id: string; readonly version: string };
  readonly counters: {
    readonly inspected: number;
    readonly passed: number;
    readonly failed: number;
    readonly dropped: number;
    readonly errors: number;
  };
  readonly lastVerdictAt: number | null;
  /**
   * The drift watch's state of the active recipe (src/judge/drift.ts): margin = m, the share
   * of the references' margin to the boundary that recent passes still keep. Absent when the
   * daemon has no drift watch.
   */
  readonly drift?: { readonly state: DriftStateName; readonly margin: number | null; readonly passes: number };
}

export interface CameraControl {
  readonly id: string;
  snapshot(): CameraSnapshot;
  /**
   * Inspect the next frame and resolve with its verdict. Rejects with AppError
   * E_CAMERA_BUSY when a trigger is already being served (the PLC must wait for
   * ResultReady), E_CAMERA_OPEN/E_CAMERA_READ when the camera is down.
   */
  trigger(): Promise<Verdict>;
  /** Switch the recipe (E_RECIPE_NOT_FOUND / E_RECIPE_BUNDLE_MISMATCH on failure; the old one stays). */
  selectRecipe(recipeId: string): Promise<void>;
}

export interface DaemonControl {
  readonly cameras: readonly CameraControl[];
  camera(id: string): CameraControl | undefined;
  /** Subscribe to camera health changes; returns the unsubscribe function. */
  onHealth(listener: (cameraId: string, health: CameraState) => void): () => void;
}
