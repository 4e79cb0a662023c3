/**
 * Shared by test/export/int4.test.ts: running anomalygpt_export.quantize_int4 with the Debian
 * python (numpy + onnx 1.12), reading ONNX graphs back with onnx-proto, and small ORT sessions.
 */
import { readFileSync } from 'node:fs';
import onnxProto from 'onnx-proto';
import * as ort from 'onnxruntime-node';
import { runExport, runPyFixture, succeeded } from '../support/python.js';

export { pythonMissing } from '../support/python.js';

const { onnx } = onnxProto;

/** test/export/int4_fixture.py `cmd` …args (torch exports, an LLM bundle with external data). */
export function fixture(cmd: string, ...args: string[]): string {
  return succeeded(runPyFixture('int4_fixture.py', [cmd, ...args]), `int4_fixture.py ${cmd}`);
}

export interface QuantStats {
  nodes_rewritten: number;
  tensors_quantized: number;
  by_pattern: { MatMul: number; 'Transpose+MatMul': number; Gemm: number };
  skipped: { weight: string; reason: string }[];
  weight_bytes_before: number;
  weight_bytes_after: number;
  file_bytes_before: number;
  file_bytes_after: number;
  external_data: boolean;
  max_weight_rel_rmse: number;
  output_files: string[];
  tensors?: { weight: string; K: number; N: number; bytes_before: number; bytes_after: number }[];
}

export function quantize(input: string, output: string, extra: readonly string[] = []): QuantStats {
  return JSON.parse(succeeded(runExport('quantize_int4', [input, output, ...extra]), 'quantize_int4')) as QuantStats;
}

export type Model = onnxProto.onnx.ModelProto;
export const readModel = (path: string): Model => onnx.ModelProto.decode(readFileSync(path));
export const writeModel = (m: Model): Uint8Array => onnx.ModelProto.encode(m).finish();

export function attrsOf(node: onnxProto.onnx.INodeProto): Record<string, number> {
  return Object.fromEntries((node.attribute ?? []).map((a) => [a.name ?? '', Number(a.i ?? 0)]));
}

export function initializerMap(m: Model): Map<string, onnxProto.onnx.ITensorProto> {
  return new Map((m.graph?.initializer ?? []).map((t) => [t.name ?? '', t]));
}

export const dimsOf = (t: onnxProto.onnx.ITensorProto | undefined): number[] => (t?.dims ?? []).map(Number);

/** Runs a one-input / one-output float graph (from a path or bytes) on one CPU thread. */
export async function runFloat(model: string | Uint8Array, input: string, x: Float32Array, dims: readonly number[]): Promise<Float32Array> {
  const s = typeof model === 'string'
    ? await ort.InferenceSession.create(model, { intraOpNumThreads: 1 })
    : await ort.InferenceSession.create(model, { intraOpNumThreads: 1 });
  try {
    const out = await s.run({ [input]: new ort.Tensor('float32', x, dims) });
    return out[s.outputNames[0]].data as Float32Array;
  } finally {
    await s.release();
  }
}

/** ‖a − b‖ / ‖b‖ */
export function relErr(a: Float32Array, b: Float32Array): number {
  let d = 0;
  let n = 0;
  for (let i = 0; i < b.length; i++) {
    d += (a[i] - b[i]) ** 2;
    n += b[i] ** 2;
  }
  return Math.sqrt(d / n);
}

export const maxAbs = (a: Float32Array): number => a.reduce((m, v) => Math.max(m, Math.abs(v)), 0);

/** Per-position cosine similarity and relative error (‖a − b‖ / ‖b‖) of [P, V] logits `a` against the reference `b`. */
export function logitAgreement(a: Float32Array, b: Float32Array, V: number): { cos: number[]; rel: number[]; argmaxSame: number; globalCos: number } {
  const cos: number[] = [];
  const rel: number[] = [];
  let argmaxSame = 0;
  let gd = 0;
  let ga = 0;
  let gb = 0;
  for (let p = 0; p < a.length / V; p++) {
    let dot = 0, na = 0, nb = 0, dd = 0, am = 0, bm = 0;
    for (let v = 0; v < V; v++) {
      const x = a[p * V + v];
      const y = b[p * V + v];
      dot += x * y;
      na += x * x;
      nb += y * y;
      dd += (x - y) ** 2;
      if (x > a[p * V + am]) am = v;
      if (y > b[p * V + bm]) bm = v;
    }
    cos.push(dot / Math.sqrt(na * nb));
    rel.push(Math.sqrt(dd / nb));
    if (am === bm) argmaxSame++;
    gd += dot;
    ga += na;
    gb += nb;
  }
  return { cos, rel, argmaxSame, globalCos: gd / Math.sqrt(ga * gb) };
}

export const median = (xs: readonly number[]): number => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];
