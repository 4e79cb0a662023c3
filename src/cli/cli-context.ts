/**
 * What every subcommand shares: where its output goes (injectable, so tests run commands
 * in-process and read what they print), argument parsing with `--help` and usage errors
 * (E_USAGE → exit 64), the sysexits(3) mapping of named errors, and finding the config,
 * bundle and recipes directory the same way the daemon does.
 */
import { resolve } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { loadConfig, type Config } from '../config/index.js';
import { AppError, ErrorCodes, ExitCodes, isAppError } from '../errors.js';
import type { Logger } from '../log.js';

export interface CliIO {
  /** Results (stdout). */
  out(text: string): void;
  /** Progress, problems, usage (stderr). */
  err(text: string): void;
}

export const processIO: CliIO = {
  out: (text) => void process.stdout.write(text),
  err: (text) => void process.stderr.write(text),
};

export interface CliContext {
  /** Log lines of the command's components; CLI tools log to stderr. */
  readonly logger: Logger;
  readonly io: CliIO;
  /** Default process.env (secrets, NOTIFY_SOCKET, STATE_DIRECTORY). */
  readonly env?: NodeJS.ProcessEnv;
  /** Relative paths resolve here. Default process.cwd(). */
  readonly cwd?: string;
}

export type CommandOptions = NonNullable<ParseArgsConfig['options']>;

export function usageError(message: string, usage: string): AppError {
  return new AppError(ErrorCodes.USAGE, `${message}\n${usage}`);
}

/**
 * parseArgs (strict, positionals allowed) plus `-h/--help`. Unknown options and missing
 * option values become E_USAGE. Returns null after printing the usage for --help.
 */
export function parseCommand<O extends CommandOptions>(argv: readonly string[], options: O, usage: string, io: CliIO) {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      options: { ...options, help: { type: 'boolean', short: 'h' } } as O & { help: { type: 'boolean'; short: 'h' } },
      allowPositionals: true,
      strict: true,
    });
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS')) throw usageError((e as Error).message, usage);
    throw e;
  }
  if ((parsed.values as { help?: boolean }).help) {
    io.out(`${usage}\n`);
    return null;
  }
  return parsed;
}

/** A positive integer option, or a usage error naming it. */
export function positiveInt(value: string | undefined, name: string, usage: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1) throw usageError(`--${name} must be a positive integer (got "${value}")`, usage);
  return n;
}

/** sysexits(3): 78 config, 64 usage, 65 bad input data, 1 anything else. */
const DEPLOYMENT_ERRORS: ReadonlySet<string> = new Set([
  ErrorCodes.RECIPE_NOT_FOUND,
  ErrorCodes.RECIPE_INVALID,
  ErrorCodes.RECIPE_BUNDLE_MISMATCH,
]);

export function exitCodeFor(error: unknown): number {
  if (!isAppError(error)) return ExitCodes.FAILURE;
  // A missing or corrupt bundle or recipe is a deployment error like a bad config: a restart
  // cannot fix it, so exit 78 and let RestartPreventExitStatus=78 stop systemd's loop.
  if (error.code.startsWith('E_CONFIG') || error.code.startsWith('E_BUNDLE') || DEPLOYMENT_ERRORS.has(error.code)) return ExitCodes.CONFIG;
  if (error.code === ErrorCodes.USAGE) return ExitCodes.USAGE;
  if (error.code === ErrorCodes.RECIPE_NO_REFERENCES || error.code.startsWith('E_IMAGE') || error.code === ErrorCodes.DATASET_LAYOUT) {
    return ExitCodes.DATA;
  }
  return ExitCodes.FAILURE;
}

/** `E_CODE: message` for stderr. */
export function describeError(error: unknown): string {
  const code = isAppError(error) ? error.code : ErrorCodes.UNEXPECTED;
  return `${code}: ${error instanceof Error ? error.message : String(error)}`;
}

export function resolvePath(ctx: CliContext, path: string): string {
  return resolve(ctx.cwd ?? process.cwd(), path);
}

/** --config FILE, or the embedded default configuration. */
export function loadCliConfig(ctx: CliContext, path: string | undefined): Config {
  return loadConfig(path === undefined ? undefined : resolvePath(ctx, path), { env: ctx.env ?? process.env });
}

/** --recipes DIR, else the config's recipes.directory (--config FILE or the default config). */
export function recipesDirectory(ctx: CliContext, values: { recipes?: string; config?: string }): string {
  if (values.recipes !== undefined) return resolvePath(ctx, values.recipes);
  return loadCliConfig(ctx, values.config).recipes.directory;
}
