/**
 * `anomalygpt-edge run [--config FILE]`: the daemon. Without --config it runs the embedded
 * default configuration (one simulated camera). Logs are JSON lines on stdout (journald).
 *
 * Exit status: 0 after a clean stop (SIGTERM/SIGINT), 78 for configuration errors (systemd's
 * RestartPreventExitStatus), 1 when a required part (bundle, recipe…) failed to start or a
 * component failed to stop cleanly.
 */
import type { Config } from '../config/index.js';
import { App } from '../daemon/app.js';
import { handleStopSignals, type LifecycleFailure, type LifecycleResult } from '../daemon/lifecycle.js';
import { ExitCodes, ErrorCodes } from '../errors.js';
import { createLogger, type Logger } from '../log.js';
import { exitCodeFor, loadCliConfig, parseCommand, usageError, type CliContext } from './cli-context.js';

const RUN_USAGE = `usage: anomalygpt-edge run [--config FILE]
  Runs the inspection daemon. Without --config: the embedded config/default.yaml.
  Stops gracefully on SIGTERM/SIGINT. Exit status: 0 clean stop, 78 bad config, 1 failure.`;

export interface RunOptions {
  /** The daemon's logger for a config; default JSON lines on stdout at logging.level. */
  readonly daemonLogger?: (config: Config) => Logger;
  /** Where SIGTERM/SIGINT come from; default process. */
  readonly signals?: Pick<NodeJS.EventEmitter, 'on' | 'off'>;
  /** Called once the daemon is READY (tests, benchmarks). */
  readonly onReady?: (app: App) => void;
}

function failureCode(failures: readonly LifecycleFailure[]): number {
  const codes = failures.map((f) => exitCodeFor(f.error));
  return codes.includes(ExitCodes.CONFIG) ? ExitCodes.CONFIG : ExitCodes.FAILURE;
}

export async function runCommand(argv: readonly string[], ctx: CliContext, options: RunOptions = {}): Promise<number> {
  const parsed = parseCommand(argv, { config: { type: 'string', short: 'c' } }, RUN_USAGE, ctx.io);
  if (!parsed) return ExitCodes.OK;
  if (parsed.positionals.length > 0) throw usageError(`unexpected argument: ${parsed.positionals[0]}`, RUN_USAGE);
  const config = loadCliConfig(ctx, parsed.values.config);
  const logger = options.daemonLogger?.(config) ?? createLogger({ level: config.logging.level });
  const app = new App({ config, logger, env: ctx.env ?? process.env });

  let onStopped: (r: LifecycleResult) => void = () => {};
  const stopped = new Promise<LifecycleResult>((resolve) => (onStopped = resolve));
  const removeSignals = handleStopSignals({
    logger,
    target: options.signals,
    onSignal: (signal) => void app.stop(signal).then(onStopped),
  });
  try {
    const started = await app.start();
    if (!started.ok) {
      await app.stop('start failed');
      for (const f of started.failures) {
        const code = (f.error as { code?: string }).code ?? ErrorCodes.UNEXPECTED;
        ctx.io.err(`anomalygpt-edge: ${f.component} failed to ${f.phase}: ${code}: ${f.error.message}\n`);
      }
      return failureCode(started.failures);
    }
    if (app.state !== 'running') return (await app.stop()).ok ? ExitCodes.OK : ExitCodes.FAILURE; // stopped during start
    options.onReady?.(app);
    const result = await stopped;
    for (const f of result.failures) ctx.io.err(`anomalygpt-edge: ${f.component} failed to ${f.phase}: ${f.error.message}\n`);
    return result.ok ? ExitCodes.OK : ExitCodes.FAILURE;
  } finally {
    removeSignals();
  }
}
