/**
 * The Debian Python the export package and its tests run with (export/pyproject.toml,
 * models/README.md "AnomalyGPT export"; `scripts/setup.sh --with-export-tools`), one way to run
 * it, and the small readers the PyTorch-vs-ONNX tests share.
 *
 * Every run gets PYTHONPATH=export, so `python3 -m anomalygpt_export.<module>` and the test-only
 * scripts in test/export/*.py import the package as installed code would: no sys.path edits.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const PY = '/usr/bin/python3';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** The folder that holds the `anomalygpt_export` package. */
export const EXPORT_ROOT = join(REPO_ROOT, 'export');
/** Test-only Python (fixtures that import the package) lives next to the export tests. */
const PY_TEST_DIR = join(REPO_ROOT, 'test', 'export');

export interface PyResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export interface PyOptions {
  /** Written to the process's stdin. */
  input?: string;
}

function spawnPy(argv: readonly string[], opts: PyOptions): PyResult {
  const r = spawnSync(PY, argv, {
    encoding: 'utf8',
    input: opts.input,
    stdio: ['pipe', 'pipe', 'pipe'],
    maxBuffer: 64 << 20,
    env: { ...process.env, PYTHONPATH: EXPORT_ROOT },
  });
  return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr || r.error?.message || '' };
}

/** `python3 -m anomalygpt_export.<module> …args`; a non-zero status is the caller's to judge. */
export function runExport(module: string, args: readonly string[], opts: PyOptions = {}): PyResult {
  return spawnPy(['-m', `anomalygpt_export.${module}`, ...args], opts);
}

/** A test-only script of test/export/ (e.g. `make_random_hf.py`), with the package importable. */
export function runPyFixture(file: string, args: readonly string[], opts: PyOptions = {}): PyResult {
  return spawnPy([join(PY_TEST_DIR, file), ...args], opts);
}

/** stdout of a run that must succeed; otherwise an error carrying its stderr. */
export function succeeded(r: PyResult, what: string): string {
  if (r.status !== 0) throw new Error(`${what} exited with ${r.status}:\n${r.stderr}`);
  return r.stdout;
}

/** Why the tests that need `modules` must skip (a message), or false when they can run. */
export function pythonMissing(modules: readonly string[]): string | false {
  const r = spawnPy(['-c', `import ${modules.join(', ')}`], {});
  if (r.status === 0) return false;
  const why = r.stderr.trim().split('\n').pop();
  return `needs ${PY} with ${modules.join(', ')} (scripts/setup.sh --with-export-tools): ${why}`;
}

/** A raw little-endian float32 file (the export scripts' reference/ tensors). */
export function readF32(path: string): Float32Array {
  const b = readFileSync(path);
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}
