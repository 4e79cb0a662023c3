/**
 * ONNX Runtime session factory with our own execution-provider fallback.
 * STACK-NOTES: asking onnxruntime-node for a provider that is known but cannot load
 * (tensorrt/cuda without a GPU build) rejects the whole session creation; there is no
 * automatic fallback. So we try each configured provider alone, in order, and keep the
 * first that creates a session (always ending with cpu, which is bundled).
 */
import * as ort from 'onnxruntime-node';
import type { Logger } from 'pino';
import { AppError, ErrorCodes } from '../errors.js';

export type ExecutionProviderName = 'tensorrt' | 'cuda' | 'cpu';

export interface SessionOptions {
  readonly executionProviders: readonly ExecutionProviderName[];
  /** 0 = onnxruntime's default (one thread per core). */
  readonly intraOpThreads: number;
}

export interface OpenedSession {
  readonly session: ort.InferenceSession;
  readonly provider: ExecutionProviderName;
  /** Providers that were tried and failed, with the reason, for the status page. */
  readonly rejected: readonly { provider: ExecutionProviderName; reason: string }[];
}

export async function openSession(
  model: string | Uint8Array,
  options: SessionOptions,
  logger: Pick<Logger, 'info' | 'warn'>,
): Promise<OpenedSession> {
  // A provider that cannot load makes onnxruntime's process-wide logger print raw error lines
  // to stderr (not JSON, not journald-friendly). Every such failure surfaces as an exception
  // that we log as one structured line, so its own logger is kept to fatal.
  ort.env.logLevel = 'fatal';
  const rejected: { provider: ExecutionProviderName; reason: string }[] = [];
  const order: ExecutionProviderName[] = [...options.executionProviders];
  if (!order.includes('cpu')) order.push('cpu');
  for (const provider of order) {
    const sessionOptions: ort.InferenceSession.SessionOptions = {
      executionProviders: [provider],
      graphOptimizationLevel: 'all',
      executionMode: 'sequential',
      ...(provider === 'cpu' ? {} : { logSeverityLevel: 4 as const }),
      ...(options.intraOpThreads > 0 ? { intraOpNumThreads: options.intraOpThreads } : {}),
    };
    try {
      const session =
        typeof model === 'string'
          ? await ort.InferenceSession.create(model, sessionOptions)
          : await ort.InferenceSession.create(model, sessionOptions);
      if (rejected.length > 0) {
        logger.warn({ provider, rejected }, 'execution provider fallback');
      } else {
        logger.info({ provider }, 'execution provider selected');
      }
      return { session, provider, rejected };
    } catch (e) {
      const reason = e instanceof Error ? e.message.split('\n')[0] : String(e);
      rejected.push({ provider, reason });
    }
  }
  throw new AppError(
    ErrorCodes.MODEL_LOAD,
    `no execution provider could load the model: ${rejected.map((r) => `${r.provider}: ${r.reason}`).join('; ')}`,
  );
}
