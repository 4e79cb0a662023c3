/**
 * Reading a TensorFlow.js layers model from disk and dequantising its weights.
 *
 * Two layouts are understood:
 *  - the plain tfjs export: `model.json` + binary shard files named in its weights manifest;
 *  - the nsfwjs bundle layout: `model.min.js` (the same JSON wrapped in a browserify UMD
 *    module, with `!1`-style literals, so not JSON) + `<shard>.min.js` (a UMD module whose
 *    export is the shard's bytes as one base64 string).
 * The UMD modules are evaluated in a fresh `vm` context with only `module`/`exports`
 * defined, so they take their CommonJS branch and touch no globals of ours.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runInNewContext } from 'node:vm';

export interface WeightQuantization {
  dtype: 'uint8' | 'uint16' | 'float16';
  min?: number;
  scale?: number;
}

export interface WeightSpec {
  name: string;
  shape: number[];
  dtype: string;
  quantization?: WeightQuantization;
}

/** What tfjs itself consumes (`tf.io.fromMemory`): the verify script feeds this to tfjs untouched. */
export interface TfjsArtifacts {
  modelTopology: KerasTopology;
  weightSpecs: WeightSpec[];
  weightData: ArrayBuffer;
}

export interface KerasLayerJson {
  name: string;
  class_name: string;
  config: Record<string, unknown>;
  inbound_nodes: unknown[];
}

export interface KerasTopology {
  keras_version?: string;
  model_config: {
    class_name: string;
    config: { name?: string; layers: KerasLayerJson[]; input_layers: unknown[]; output_layers: unknown[] };
  };
  [key: string]: unknown;
}

export interface WeightTensor {
  data: Float32Array;
  shape: number[];
}

export interface TfjsLayersModel {
  topology: KerasTopology;
  /** Keyed by the Keras weight name, e.g. `block_3_depthwise/depthwise_kernel`. */
  weights: Map<string, WeightTensor>;
}

/** Evaluates a UMD/CommonJS module's source in an empty context and returns its export. */
function evalUmd(source: string, file: string): unknown {
  const sandbox = { module: { exports: {} as unknown }, exports: {} };
  runInNewContext(source, sandbox, { filename: file, timeout: 30_000 });
  // Round-trip through JSON so the objects get this realm's prototypes (Array.isArray is
  // realm-safe, `instanceof` is not) and functions, if any, are dropped.
  return JSON.parse(JSON.stringify(sandbox.module.exports)) as unknown;
}

interface ModelJson {
  modelTopology: KerasTopology;
  weightsManifest: { paths: string[]; weights: WeightSpec[] }[];
}

/** Reads topology, weight specs and the concatenated raw weight bytes, as tfjs would. */
export async function readTfjsArtifacts(dir: string): Promise<TfjsArtifacts> {
  const minified = !existsSync(join(dir, 'model.json')) && existsSync(join(dir, 'model.min.js'));
  const modelFile = join(dir, minified ? 'model.min.js' : 'model.json');
  const modelText = await readFile(modelFile, 'utf8');
  const json = (minified ? evalUmd(modelText, modelFile) : JSON.parse(modelText)) as ModelJson;
  if (!json?.modelTopology?.model_config || !Array.isArray(json.weightsManifest)) {
    throw new Error(`${modelFile}: not a TensorFlow.js layers model (no modelTopology/weightsManifest)`);
  }
  const chunks: Uint8Array[] = [];
  const weightSpecs: WeightSpec[] = [];
  for (const group of json.weightsManifest) {
    for (const path of group.paths) {
      if (minified) {
        const file = join(dir, `${path}.min.js`);
        const b64 = evalUmd(await readFile(file, 'utf8'), file);
        if (typeof b64 !== 'string') throw new Error(`${file}: expected a base64 string export`);
        chunks.push(Buffer.from(b64, 'base64'));
      } else {
        chunks.push(await readFile(join(dir, path)));
      }
    }
    weightSpecs.push(...group.weights);
  }
  const total = chunks.reduce((n, c) => n + c.byteLength, 0);
  const all = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    all.set(c, at);
    at += c.byteLength;
  }
  return { modelTopology: json.modelTopology, weightSpecs, weightData: all.buffer };
}

/**
 * Dequantises every weight exactly as tfjs-core's `decodeWeight` does
 * (`value = q * scale + min`, computed in double, stored as float32), so the converted
 * graph starts from the very numbers the tfjs model runs with.
 */
export function decodeWeights(specs: WeightSpec[], buffer: ArrayBuffer): Map<string, WeightTensor> {
  const out = new Map<string, WeightTensor>();
  const view = new DataView(buffer);
  let offset = 0;
  for (const spec of specs) {
    const size = spec.shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(size);
    const q = spec.quantization;
    if (spec.dtype !== 'float32') throw new Error(`weight ${spec.name}: dtype ${spec.dtype} not supported`);
    if (q && (q.dtype === 'uint8' || q.dtype === 'uint16')) {
      if (q.min === undefined || q.scale === undefined) throw new Error(`weight ${spec.name}: quantization lacks min/scale`);
      const wide = q.dtype === 'uint16';
      for (let i = 0; i < size; i++) {
        const v = wide ? view.getUint16(offset + 2 * i, true) : view.getUint8(offset + i);
        data[i] = v * q.scale + q.min;
      }
      offset += size * (wide ? 2 : 1);
    } else if (q) {
      throw new Error(`weight ${spec.name}: quantization ${q.dtype} not supported`);
    } else {
      for (let i = 0; i < size; i++) data[i] = view.getFloat32(offset + 4 * i, true);
      offset += size * 4;
    }
    out.set(spec.name, { data, shape: [...spec.shape] });
  }
  if (offset !== buffer.byteLength) {
    throw new Error(`weights manifest describes ${offset} bytes, shards hold ${buffer.byteLength}`);
  }
  return out;
}

/** Topology plus dequantised float32 weights of the tfjs layers model in `dir`. */
export async function loadTfjsLayersModel(dir: string): Promise<TfjsLayersModel> {
  const art = await readTfjsArtifacts(dir);
  return { topology: art.modelTopology, weights: decodeWeights(art.weightSpecs, art.weightData) };
}
