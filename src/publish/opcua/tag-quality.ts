import type { CameraState } from '../../capture/camera.js';
import type { TriggerMode } from '../../config/index.js';
/**
 * The StatusCode rule of the result tags (Pass, Fail, Score, Confidence, Locations,
 * DefectCount, InspectionId, MaskPng). A PLC must be able to tell a fresh result from an old
 * one without comparing timestamps, so the quality travels with the value (OPC 10000-4 §7.39,
 * OPC 10000-8 §6.3.2 quality of data):
 *
 * | situation                                                    | StatusCode                |
 * |--------------------------------------------------------------|---------------------------|
 * | no verdict yet since the daemon started                      | BadWaitingForInitialData  |
 * | camera down (reconnecting, ended, stopped), no verdict yet   | BadNoCommunication        |
 * | camera down, a verdict exists                                | UncertainLastUsableValue  |
 * | free-run camera, last verdict older than `staleAfterMs`      | UncertainLastUsableValue  |
 * | otherwise                                                    | Good                      |
 *
 * An on-demand camera's last result never goes stale by age: it is the answer to the PLC's
 * last trigger and stays valid until the next one. The value itself is kept (the last
 * verdict), with its source timestamp = capture time, so a client can still see what it was.
 * Status tags (Busy, ResultReady, CameraState, Heartbeat, Recipe, Model) are always Good.
 */

export type TagQuality = 'good' | 'waiting' | 'no-communication' | 'last-usable';

export interface QualityInput {
  readonly health: CameraState;
  readonly triggerMode: TriggerMode;
  /** Capture time of the last verdict shown, or null when none yet. */
  readonly lastCapturedAt: number | null;
  readonly now: number;
  readonly staleAfterMs: number;
}

const DOWN: ReadonlySet<CameraState> = new Set(['reconnecting', 'ended', 'stopped']);

export function resultQuality(input: QualityInput): TagQuality {
  const down = DOWN.has(input.health);
  if (input.lastCapturedAt === null) return down ? 'no-communication' : 'waiting';
  if (down) return 'last-usable';
  if (input.triggerMode === 'free-run' && input.now - input.lastCapturedAt > input.staleAfterMs) return 'last-usable';
  return 'good';
}
