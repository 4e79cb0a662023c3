/**
 * In-process CLI runs: a CliContext whose stdout/stderr are kept, and a temp config that
 * points at the real default bundle.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CliContext } from '../../src/cli/cli-context.js';
import { defaultBundleDir, silentLogger } from '../pipeline/helpers.js';

export function captureIO(cwd?: string): { ctx: CliContext; out: () => string; err: () => string; lines: () => Record<string, any>[] } {
  let out = '';
  let err = '';
  const ctx: CliContext = {
    logger: silentLogger(),
    io: { out: (s) => void (out += s), err: (s) => void (err += s) },
    env: {},
    ...(cwd ? { cwd } : {}),
  };
  return {
    ctx,
    out: () => out,
    err: () => err,
    lines: () => out.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, any>),
  };
}

/** config.yaml in `dir`: state in dir/state, the default bundle, one simulated camera. */
export async function writeTestConfig(dir: string, extra = ''): Promise<string> {
  const path = join(dir, 'config.yaml');
  writeFileSync(
    path,
    `stateDirectory: state
inference:
  bundle: ${JSON.stringify(await defaultBundleDir())}
  executionProviders: [cpu]
  warmupRuns: 1
cameras:
  - id: cam1
    recipe: sim-part
    source: { kind: sim, width: 320, height: 240, defectRate: 0.5, seed: 1 }
    trigger: { mode: free-run, fps: 0 }
http:
  enabled: true
  host: 127.0.0.1
  port: 0
shutdown:
  stepTimeoutMs: 5000
${extra}`,
  );
  return path;
}
