/**
 * Shared by the pipeline, daemon and CLI tests: the real default bundle (built into a temp
 * folder when the repository has none), loggers that keep their lines, simulated images on
 * disk, and a real unix datagram socket standing in for systemd's NOTIFY_SOCKET.
 */
import { writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadOpenCv } from '../../src/capture/opencv.js';
import { SimSource } from '../../src/capture/sim/sim-source.js';
import type { Frame } from '../../src/capture/frame.js';
import type { Verdict } from '../../src/judge/verdict.js';

import { REPO_ROOT, defaultBundleDir } from '../support/bundle.js';
import { sleep, until } from '../support/wait.js';
export { sleep, until };
import { capturingLogger, silentLogger, type LogLine } from '../support/logger.js';
export { capturingLogger, silentLogger, type LogLine };

export { REPO_ROOT, defaultBundleDir };

/** Renders of a simulated camera written as PNG files: `clean` good parts or frames as delivered. */
export async function writeSimImages(
  dir: string,
  frames: readonly number[],
  options: { seed?: number; defectRate?: number; clean?: boolean; prefix?: string } = {},
): Promise<{ path: string; label: 'good' | 'defect' }[]> {
  const cv = loadOpenCv();
  const sim = new SimSource(
    { kind: 'sim', width: 320, height: 240, defectRate: options.defectRate ?? 0, seed: options.seed ?? 1 },
    { cameraId: 'test', logger: silentLogger() },
  );
  await sim.open();
  const out: { path: string; label: 'good' | 'defect' }[] = [];
  for (const n of frames) {
    const r = sim.renderFrame(n);
    const path = join(dir, `${options.prefix ?? 'img'}${n}.png`);
    await writeFile(path, cv.imencode('.png', options.clean ? r.clean : r.image));
    out.push({ path, label: options.clean ? 'good' : r.label });
  }
  await sim.close();
  return out;
}

interface DgramServer {
  bind(path: string): void;
  close(): void;
  on(ev: 'message', fn: (buf: Buffer) => void): void;
  on(ev: 'error', fn: (e: Error) => void): void;
}

/** A real datagram socket standing in for systemd's notify socket (short path: sun_path is 108 bytes). */
export function fakeSystemd(teardown: (fn: () => void) => void): { path: string; received: string[] } {
  const unix = createRequire(import.meta.url)('unix-dgram') as { createSocket(type: 'unix_dgram'): DgramServer };
  const dir = mkdtempSync(join(tmpdir(), 'sdn-'));
  const path = join(dir, 'notify');
  const received: string[] = [];
  const server = unix.createSocket('unix_dgram');
  server.on('message', (buf) => received.push(buf.toString('utf8')));
  server.on('error', () => undefined);
  server.bind(path);
  teardown(() => {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { path, received };
}

/** A BGR frame of a given size (content: a gradient), for tests that do not need a real image. */
export function syntheticFrame(seq: number, cameraId = 'cam', width = 64, height = 48): Frame {
  const data = Buffer.alloc(width * height * 3);
  for (let i = 0; i < data.length; i++) data[i] = (i + seq) & 0xff;
  return { cameraId, seq, capturedAt: Date.now(), width, height, channels: 3, data, origin: `test:${seq}` };
}

/** A minimal Verdict for a frame (sink and pipeline tests with a stand-in inspector). */
export function verdictFor(frame: Frame, pass = true, totalMs = 1): Verdict {
  return {
    id: `${frame.cameraId}-${frame.capturedAt}-${frame.seq}`,
    cameraId: frame.cameraId, seq: frame.seq, capturedAt: frame.capturedAt, decidedAt: Date.now(),
    pass, confidence: 0.9, score: pass ? 0.1 : 0.9, threshold: 0.5, locations: [],
    recipe: { id: 'r', version: 'v' }, model: { id: 'm', version: '1' },
    timings: { preprocessMs: 0, encoderMs: 0, mapMs: 0, judgeMs: 0, totalMs },
    frame: { width: frame.width, height: frame.height, origin: frame.origin },
  };
}
