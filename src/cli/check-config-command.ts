/**
 * `anomalygpt-edge check-config FILE` (or `--config FILE`): validates a configuration the way
 * `run` would (schema, unknown keys, cross-checks, secrets resolvable now), then what `run`
 * would load from it (check-deployment.ts: the model bundle verified by sha256, each
 * camera's recipe), and prints "ok" or every problem with its key path.
 * Exit 0, or 78 (EX_CONFIG) like a failed `run`.
 */
import { checkConfigFile } from '../config/index.js';
import { ExitCodes } from '../errors.js';
import { checkDeployment } from './check-deployment.js';
import { parseCommand, resolvePath, usageError, type CliContext } from './cli-context.js';

const CHECK_CONFIG_USAGE = `usage: anomalygpt-edge check-config FILE
  Validates FILE (also accepted as --config FILE), its model bundle (sha256 of every file) and
  each camera's recipe; prints "ok" or every problem with its key path.
  Exit status: 0 valid, 78 invalid or unreadable.`;

export async function checkConfigCommand(argv: readonly string[], ctx: CliContext): Promise<number> {
  const parsed = parseCommand(argv, { config: { type: 'string', short: 'c' } }, CHECK_CONFIG_USAGE, ctx.io);
  if (!parsed) return ExitCodes.OK;
  const files = [...parsed.positionals, ...(parsed.values.config !== undefined ? [parsed.values.config] : [])];
  if (files.length !== 1) throw usageError('check-config takes exactly one FILE', CHECK_CONFIG_USAGE);
  const file = resolvePath(ctx, files[0]);
  const result = checkConfigFile(file, { env: ctx.env ?? process.env });
  // The deployment is checked only for a valid config: its paths are not known otherwise.
  const deployment = result.ok && result.config ? await checkDeployment(result.config) : { problems: [], notes: [] };
  for (const note of deployment.notes) ctx.io.err(`note: ${note}\n`);
  const errors = [...result.errors, ...deployment.problems];
  if (errors.length === 0) {
    ctx.io.out('ok\n');
    return ExitCodes.OK;
  }
  const n = errors.length;
  ctx.io.err(`${file}: ${n} problem${n === 1 ? '' : 's'}\n${errors.map((e) => `  - ${e}\n`).join('')}`);
  return ExitCodes.CONFIG;
}
