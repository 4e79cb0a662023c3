#!/usr/bin/env node
/**
 * anomalygpt-edge command line: argv → subcommand. Exit codes follow sysexits(3):
 * 78 for configuration errors (systemd's RestartPreventExitStatus), 64 for usage errors.
 */
import { AppError, ErrorCodes, ExitCodes } from './errors.js';
import { createLogger } from './log.js';
import { evalCommand } from './cli/eval-command.js';

const USAGE = `usage: anomalygpt-edge <command> [options]
  eval DIR --shots K [--draws N] [--json OUT] [--out DIR]   few-shot evaluation on an MVTec-layout folder`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  // CLI tools keep stdout for their results: their logs go to stderr.
  const logger = createLogger({ level: (process.env.LOG_LEVEL as 'info') ?? 'warn', destination: process.stderr as never });
  switch (command) {
    case 'eval':
      return evalCommand(rest, logger);
    default:
      process.stderr.write(`${USAGE}\n`);
      return command === undefined || command === 'help' || command === '--help' ? ExitCodes.OK : ExitCodes.USAGE;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    const code = e instanceof AppError ? e.code : 'E_UNEXPECTED';
    process.stderr.write(`anomalygpt-edge: ${code}: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = e instanceof AppError && e.code.startsWith('E_CONFIG') ? ExitCodes.CONFIG : e instanceof AppError && e.code === ErrorCodes.USAGE ? ExitCodes.USAGE : ExitCodes.FAILURE;
  },
);
