/**
 * pino logger: JSON lines on stdout, which journald stores as-is under systemd.
 * Components get a child logger (`logger.child({ component })`) from the composition root;
 * there is no global logger.
 */
import { createRequire } from 'node:module';
import { pino, type DestinationStream, type Logger as PinoLogger } from 'pino';

export type Logger = PinoLogger;

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface LoggerOptions {
  level: LogLevel | 'silent';
  /** Human-readable output via pino-pretty when it is installed (development only). */
  pretty?: boolean;
  /** Default: stdout (fd 1). Tests pass a stream to read the lines back. */
  destination?: DestinationStream;
  /** Fields on every line. Default: { pid }; the hostname is left out (journald has it). */
  base?: Record<string, unknown>;
}

function prettyAvailable(): boolean {
  try {
    createRequire(import.meta.url).resolve('pino-pretty');
    return true;
  } catch {
    return false;
  }
}

export function createLogger(options: LoggerOptions): Logger {
  const common = {
    level: options.level,
    base: options.base ?? { pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    // Errors logged as { err } keep their name, message, stack and our AppError `code`.
    serializers: { err: pino.stdSerializers.err, error: pino.stdSerializers.err },
  };
  if (options.pretty && options.destination === undefined) {
    if (prettyAvailable()) return pino({ ...common, transport: { target: 'pino-pretty', options: { colorize: true } } });
    const logger = pino(common);
    logger.warn('pino-pretty is not installed; logging JSON');
    return logger;
  }
  return options.destination ? pino(common, options.destination) : pino(common);
}

/** The child logger handed to one component. */
export function componentLogger(logger: Logger, component: string, bindings: Record<string, unknown> = {}): Logger {
  return logger.child({ component, ...bindings });
}
