/**
 * In-process CLI runs: a CliContext whose stdout/stderr are kept, and a temp config that
 * points at the real default bundle; and the real process (dist/main.js, or src/main.ts through
 * tap's loader when dist/ is older than src/).
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CliContext } from '../../src/cli/cli-context.js';
import { defaultBundleDir, silentLogger } from '../pipeline/helpers.js';
import { REPO_ROOT } from '../support/bundle.js';

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

/** How tap runs TypeScript here (its loader is in our execArgv); null when not under tap. */
export function tsLoaderArgs(): string[] | null {
  const arg = process.execArgv.find((a) => a.includes('@tapjs/typescript'));
  if (!arg) return null;
  return arg.startsWith('--import=') ? [arg] : ['--import', arg];
}

/** The newest modification time of the files below `dir` (ms). */
function newest(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

/**
 * How to start the daemon as a real process: the compiled `dist/main.js` when it is newer than
 * every file in src/ (CI builds before it tests; starting it takes well under a second), else
 * src/main.ts through tap's TypeScript loader (≈ 15 s a start on this 2-core machine); null
 * when neither is available.
 */
export function daemonEntry(): string[] | null {
  const dist = join(REPO_ROOT, 'dist', 'main.js');
  if (existsSync(dist) && statSync(dist).mtimeMs >= newest(join(REPO_ROOT, 'src'))) return [dist];
  const loader = tsLoaderArgs();
  return loader ? [...loader, join(REPO_ROOT, 'src', 'main.ts')] : null;
}

/** `anomalygpt-edge ARGS` as a real child process (needs daemonEntry()). */
export function cliProcess(args: string[], env: NodeJS.ProcessEnv = {}) {
  const entry = daemonEntry()!;
  const { NODE_OPTIONS: _drop, ...inherited } = process.env;
  const child = spawn(process.execPath, [...entry, ...args], {
    env: { ...inherited, TS_NODE_TRANSPILE_ONLY: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c) => (stdout += c));
  child.stderr.on('data', (c) => (stderr += c));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, exited, stdout: () => stdout, stderr: () => stderr };
}
