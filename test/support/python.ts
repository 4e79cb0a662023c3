/**
 * The Debian Python the export scripts and their tests run with (models/export/README in
 * models/README.md; `scripts/setup.sh --with-export-tools`), and the small readers the
 * PyTorch-vs-ONNX tests share.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

export const PY = '/usr/bin/python3';

/** Why the tests that need `modules` must skip (a message), or false when they can run. */
export function pythonMissing(modules: readonly string[]): string | false {
  const r = spawnSync(PY, ['-c', `import ${modules.join(', ')}`], { encoding: 'utf8' });
  if (r.status === 0) return false;
  const why = (r.stderr || r.error?.message || '').trim().split('\n').pop();
  return `needs ${PY} with ${modules.join(', ')} (scripts/setup.sh --with-export-tools): ${why}`;
}

/** A raw little-endian float32 file (the export scripts' reference/ tensors). */
export function readF32(path: string): Float32Array {
  const b = readFileSync(path);
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}
