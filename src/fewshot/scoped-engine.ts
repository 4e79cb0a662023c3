/**
 * A view of the shared Engine whose extra graph sessions belong to the caller. Calibration
 * opens a features graph and one leave-one-out scorer per reference; through the shared
 * engine they would stay loaded until shutdown (engine.close() releases every session it
 * opened). Through this view they are released as soon as the recipe is made, and each at
 * most once (PatchFeatures releases its own session already).
 */
import type * as ort from 'onnxruntime-node';
import { toError } from '../errors.js';
import type { Engine } from './engine.js';
import { openSession } from '../inference/ort-session.js';
import type { Logger } from '../log.js';

export interface ScopedEngine {
  readonly engine: Engine;
  /** Releases every session opened through `engine.openSession`; never throws. */
  release(): Promise<void>;
}

export function scopedEngine(engine: Engine, options: { intraOpThreads: number }, logger: Logger): ScopedEngine {
  const sessions: ort.InferenceSession[] = [];
  // One "execution provider selected" line per graph is noise here: keep warnings only.
  const quiet = logger.levelVal < 40 ? logger.child({}, { level: 'warn' }) : logger;
  const view: Engine = {
    ...engine,
    openSession: async (model: Uint8Array) => {
      // The provider the encoder got; no second round of fallbacks (as engine.openSession).
      const opened = await openSession(model, { executionProviders: [engine.provider], intraOpThreads: options.intraOpThreads }, quiet);
      sessions.push(opened.session);
      return opened.session;
    },
    close: () => Promise.reject(new Error('a scoped engine view cannot close the shared engine')),
  };
  return {
    engine: view,
    async release() {
      for (const s of sessions.splice(0)) {
        try {
          await s.release();
        } catch (e) {
          // "Session already disposed": released by its user (PatchFeatures.release).
          logger.debug({ err: toError(e).message }, 'scoped session already released');
        }
      }
    },
  };
}
