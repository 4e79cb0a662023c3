/**
 * The loaded inference engine shared by every camera: one verified bundle, one encoder
 * session (warm), and the factory that opens recipe scorer graphs with the same providers.
 */
import type * as ort from 'onnxruntime-node';
import type { Logger } from 'pino';
import type { Cv } from '../capture/opencv.js';
import { AppError, ErrorCodes } from '../errors.js';
import { loadBundle, type LoadedBundle } from './bundle.js';
import type { EncoderInputSpec, TapSpec } from './bundle-manifest.js';
import { Encoder } from './encoder.js';
import { openSession, type ExecutionProviderName, type SessionOptions } from '../inference/ort-session.js';

export interface Engine {
  readonly bundle: LoadedBundle;
  readonly provider: ExecutionProviderName;
  readonly encoder: Encoder;
  readonly taps: readonly TapSpec[];
  readonly inputSpec: EncoderInputSpec;
  readonly openSession: (model: Uint8Array) => Promise<ort.InferenceSession>;
  close(): Promise<void>;
}

export interface EngineOptions extends SessionOptions {
  readonly bundleDir: string;
  /** Tap layer names to use (default: all the bundle's taps). */
  readonly taps?: readonly string[];
  readonly verify?: boolean;
}

export async function openEngine(cv: Cv, options: EngineOptions, logger: Logger): Promise<Engine> {
  const bundle = await loadBundle(options.bundleDir, { verify: options.verify });
  const all = bundle.manifest.encoder.taps;
  const taps = options.taps ? options.taps.map((name) => tapByName(all, name, bundle.manifest.id)) : all;
  const opened = await openSession(bundle.encoderPath, options, logger);
  const sessions: ort.InferenceSession[] = [opened.session];
  const encoder = new Encoder(cv, opened.session, bundle.manifest.encoder.input, taps);
  const open = async (model: Uint8Array) => {
    // Scorer graphs run on the provider the encoder got; no second round of fallbacks.
    const s = await openSession(model, { ...options, executionProviders: [opened.provider] }, logger.child({ graph: 'scorer' }));
    sessions.push(s.session);
    return s.session;
  };
  return {
    bundle,
    provider: opened.provider,
    encoder,
    taps,
    inputSpec: bundle.manifest.encoder.input,
    openSession: open,
    async close() {
      // Sessions a caller already released (a recipe swapped out, calibration done) are
      // skipped: onnxruntime rejects a second release.
      await Promise.all(sessions.splice(0).map((s) => s.release().catch(() => undefined)));
    },
  };
}

function tapByName(all: readonly TapSpec[], name: string, bundleId: string): TapSpec {
  const tap = all.find((t) => t.name === name || t.output === name);
  if (!tap) {
    throw new AppError(ErrorCodes.RECIPE_BUNDLE_MISMATCH, `bundle ${bundleId} has no tap ${name} (has ${all.map((t) => t.name).join(', ')})`);
  }
  return tap;
}
