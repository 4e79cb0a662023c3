/** Verdicts, frames and a record config for the inspection-record tests. */
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import type { Frame } from '../../src/capture/frame.js';
import type { ArchiveConfig } from '../../src/config/index.js';
import type { Verdict } from '../../src/judge/verdict.js';

export const DAY0 = Date.UTC(2025, 2, 14, 10, 0, 0);

export function verdict(seq: number, pass: boolean, opts: { capturedAt?: number; mask?: number; camera?: string; recipe?: string } = {}): Verdict {
  const capturedAt = opts.capturedAt ?? DAY0 + seq * 1000;
  const camera = opts.camera ?? 'cam/1';
  return {
    id: `${camera}-${capturedAt}-${seq}`, cameraId: camera, seq, capturedAt, decidedAt: capturedAt + 30,
    pass, confidence: 0.9, score: pass ? 0.1 : 0.8, threshold: 0.4,
    locations: pass ? [] : [{ box: { x: 1, y: 2, width: 3, height: 4 }, centroid: { x: 2, y: 3 }, grid: 'top left', area: 12, peak: 0.8 }],
    ...(opts.mask ? { maskPng: new Uint8Array(opts.mask).fill(7) } : {}),
    recipe: { id: opts.recipe ?? 'bottle', version: '1' }, model: { id: 'm', version: '2' },
    timings: { preprocessMs: 1, encoderMs: 2, mapMs: 3, judgeMs: 4, totalMs: 10 },
    frame: { width: 32, height: 24, origin: 'test' },
  };
}

export function frame(seq: number): Frame {
  const data = new Uint8Array(32 * 24 * 3);
  for (let i = 0; i < data.length; i++) data[i] = (i * 7 + seq) & 255;
  return { cameraId: 'cam/1', seq, capturedAt: DAY0 + seq * 1000, width: 32, height: 24, channels: 3, data, origin: 'test' };
}

/** Image files under the record folder (the database files left out). */
export async function imageFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    const parent = e.parentPath ?? (e as unknown as { path: string }).path;
    if (e.isFile() && !e.name.startsWith('inspections.db')) out.push(path.relative(dir, path.join(parent, e.name)));
  }
  return out.sort();
}

export function recordConfig(dir: string, over: Partial<ArchiveConfig> = {}): ArchiveConfig {
  return { directory: dir, maxRecords: 1000, maxBytes: 1e9, saveFrames: 'all', fsync: false, ...over };
}
