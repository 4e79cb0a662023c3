/**
 * Reading an AnomalyGPT bundle folder's manifest and raw weight files, with every check that
 * needs no ONNX session: schema, listed files present and matching sha256, the decoder and
 * prototype files' sizes matching the declared dimensions, the configured part in the table.
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { endianness } from 'node:os';
import { Value } from '@sinclair/typebox/value';
import { AppError, ErrorCodes } from '../errors.js';
import { sha256File } from '../inference/bundle.js';
import { canonicalPartName, resolvePartName } from './class-names.js';
import { AnomalyGptManifestSchema, dimsOf, manifestProblems, type AnomalyGptManifest } from './manifest.js';
import type { DecoderWeights } from './map-graphs.js';

export function parseAnomalyGptManifest(json: unknown, where: string): AnomalyGptManifest {
  if (!Value.Check(AnomalyGptManifestSchema, json)) {
    const problems = [...Value.Errors(AnomalyGptManifestSchema, json)].slice(0, 20).map((e) => `${e.path || '/'}: ${e.message}`);
    throw new AppError(ErrorCodes.BUNDLE_INVALID, `${where}: invalid AnomalyGPT manifest:\n  ${problems.join('\n  ')}`);
  }
  const m = json as AnomalyGptManifest;
  const problems = manifestProblems(m);
  if (problems.length > 0) throw new AppError(ErrorCodes.BUNDLE_INVALID, `${where}: ${problems.join('; ')}`);
  return m;
}

export async function readAnomalyGptManifest(root: string): Promise<AnomalyGptManifest> {
  const path = join(root, 'manifest.json');
  const raw = await readFile(path, 'utf8').catch((e: Error) => {
    throw new AppError(ErrorCodes.BUNDLE_MISSING_FILE, `AnomalyGPT bundle ${root}: cannot read manifest.json (${e.message})`, { cause: e });
  });
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (e) {
    throw new AppError(ErrorCodes.BUNDLE_INVALID, `${path}: not JSON (${(e as Error).message})`);
  }
  return parseAnomalyGptManifest(json, path);
}

export async function verifyFiles(root: string, m: AnomalyGptManifest, verify: boolean): Promise<void> {
  for (const file of m.files) {
    const path = join(root, file.path);
    const st = await stat(path).catch(() => undefined);
    if (!st?.isFile()) throw new AppError(ErrorCodes.BUNDLE_MISSING_FILE, `AnomalyGPT bundle ${m.id}: file ${file.path} is missing (${path})`);
    if (!verify) continue;
    const digest = await sha256File(path);
    if (digest !== file.sha256 || st.size !== file.bytes) {
      throw new AppError(ErrorCodes.BUNDLE_CHECKSUM, `AnomalyGPT bundle ${m.id}: ${file.path} fails its sha256 (expected ${file.sha256}, got ${digest}, ${st.size} bytes)`);
    }
  }
}

async function readFloats(path: string, expected: number, what: string): Promise<Float32Array> {
  const bytes = await readFile(path);
  if (bytes.byteLength !== expected * 4) {
    throw new AppError(ErrorCodes.MODEL_SHAPE, `${what} ${path}: ${bytes.byteLength} bytes, expected ${expected * 4} (float32 × ${expected})`);
  }
  if (endianness() === 'LE' && bytes.byteOffset % 4 === 0) return new Float32Array(bytes.buffer, bytes.byteOffset, expected);
  const out = new Float32Array(expected);
  for (let i = 0; i < expected; i++) out[i] = bytes.readFloatLE(4 * i);
  return out;
}

export async function readDecoder(root: string, m: AnomalyGptManifest): Promise<DecoderWeights> {
  const { width: W, embedDim: E } = dimsOf(m);
  const all = await readFloats(join(root, m.decoder.file), 4 * E * W + 4 * E, 'decoder');
  return { weight: all.subarray(0, 4 * E * W), bias: all.subarray(4 * E * W), embedDim: E };
}

export interface PartPrototypes {
  /** Canonical class name and its row in the table. */
  readonly name: string;
  readonly index: number;
  readonly normal: Float32Array;
  readonly abnormal: Float32Array;
}

/** The configured part's [normal, abnormal] prototypes; an unknown part is E_PART_UNKNOWN. */
export async function readPartPrototypes(root: string, m: AnomalyGptManifest, partName: string): Promise<PartPrototypes> {
  const classes = m.textPrototypes.classes;
  const index = resolvePartName(partName, classes);
  if (index < 0) {
    throw new AppError(
      ErrorCodes.PART_UNKNOWN,
      `part "${partName}" (canonical "${canonicalPartName(partName)}") has no text prototypes in bundle ${m.id}; known: ${classes.join(', ')}. Add it with the export script's --class option.`,
      { details: { partName, known: classes } },
    );
  }
  const E = m.encoder.embedDim;
  const table = await readFloats(join(root, m.textPrototypes.file), classes.length * 2 * E, 'text prototypes');
  return { name: classes[index], index, normal: table.subarray(index * 2 * E, (index * 2 + 1) * E), abnormal: table.subarray((index * 2 + 1) * E, (index + 1) * 2 * E) };
}
