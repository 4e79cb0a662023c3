/**
 * Reading an AnomalyGPT bundle folder's manifest and raw weight files, with every check that
 * needs no ONNX session: schema, listed files present and matching sha256, the decoder and
 * prototype files' sizes matching the declared dimensions, the configured part in the table.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { endianness } from 'node:os';
import { Value } from '@sinclair/typebox/value';
import { AppError, ErrorCodes } from '../errors.js';
import { readManifestJson, verifyBundleFiles } from '../inference/bundle-files.js';
import { canonicalPartName, resolvePartName } from './class-names.js';
import { AnomalyGptManifestSchema, dimsOf, manifestProblems, type AnomalyGptManifest } from './manifest.js';
import type { DecoderWeights } from './map-graphs.js';

function parseAnomalyGptManifest(json: unknown, where: string): AnomalyGptManifest {
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
  const { json, path } = await readManifestJson(root, 'AnomalyGPT bundle');
  return parseAnomalyGptManifest(json, path);
}

export async function verifyFiles(root: string, m: AnomalyGptManifest, verify: boolean): Promise<void> {
  await verifyBundleFiles(root, `AnomalyGPT bundle ${m.id}`, m.files, verify);
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
