#!/usr/bin/env node
/**
 * anomalygpt-edge command line: argv → subcommand. Exit codes follow sysexits(3):
 * 78 for configuration errors (systemd's RestartPreventExitStatus), 64 for usage errors,
 * 65 for unusable input data (no reference images, bad images).
 */
import { ExitCodes } from './errors.js';
import { createLogger } from './log.js';
import { calibrateCommand } from './cli/calibrate-command.js';
import { checkConfigCommand } from './cli/check-config-command.js';
import { describeError, exitCodeFor, processIO, type CliContext } from './cli/cli-context.js';
import { benchCommand } from './cli/bench-command.js';
import { evalCommand } from './cli/eval-command.js';
import { inspectCommand } from './cli/inspect-command.js';
import { opcuaCommand } from './cli/opcua-command.js';
import { runCommand } from './cli/run-command.js';

const USAGE = `usage: anomalygpt-edge <command> [options]   (<command> --help for its options)
  run [--config FILE]                                   the inspection daemon (default: embedded config)
  check-config FILE                                     validate a configuration file
  calibrate --recipe R DIR [--shots K] [--recipes DIR]  make a recipe from normal reference images
  inspect --recipe R IMAGE... [--out DIR]               judge image files with a recipe
  eval DIR --shots K [--draws N] [--json OUT] [--out DIR]   few-shot evaluation on an MVTec-layout folder
  bench [--seconds S] [--shots K] [--json OUT]          inspections/s and per-stage p50/p99
  opcua list|trust|reject [THUMBPRINT] [--config FILE]   OPC UA client certificates in the daemon's PKI`;

/** One entry per command; eval and bench take the CLI logger only. */
const COMMANDS: Record<string, (argv: string[], ctx: CliContext) => Promise<number>> = {
  run: runCommand,
  'check-config': checkConfigCommand,
  calibrate: calibrateCommand,
  inspect: inspectCommand,
  eval: (argv, ctx) => evalCommand(argv, ctx.logger),
  bench: (argv, ctx) => benchCommand(argv, ctx.logger),
  opcua: opcuaCommand,
};

const HELP = new Set([undefined, 'help', '--help', '-h']);

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  // CLI tools keep stdout for their results: their logs go to stderr. `run` makes its own
  // logger (stdout, the config's level) once the config is loaded.
  const logger = createLogger({ level: (process.env.LOG_LEVEL as 'info') ?? 'warn', destination: process.stderr as never });
  const ctx: CliContext = { logger, io: processIO, env: process.env };
  const run = command !== undefined && Object.hasOwn(COMMANDS, command) ? COMMANDS[command] : undefined;
  if (run) return run(rest, ctx);
  process.stderr.write(`${HELP.has(command) ? '' : `unknown command: ${command}\n`}${USAGE}\n`);
  return HELP.has(command) ? ExitCodes.OK : ExitCodes.USAGE;
}

// A natural exit: Node flushes stdout and stderr before it leaves. No process.exit() here: it
// used to skip V8's teardown because opencv4nodejs reported Mat memory to V8 from finalisers,
// which crashed the process (issue 9); the binding is patched instead (patches/README.md).
main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`anomalygpt-edge: ${describeError(e)}\n`);
    process.exitCode = exitCodeFor(e);
  },
);
