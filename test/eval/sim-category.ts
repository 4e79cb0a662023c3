/** Writing an MVTec-layout category made with the simulator (eval tests). */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadOpenCv, type Mat } from '../../src/capture/opencv.js';

export const cv = loadOpenCv();
export const TAPS = ['block_5_add', 'block_12_add', 'block_15_add'];
/** MVTec's file names: 000.png, 001.png, … */
export const imageName = (i: number): string => `${String(i).padStart(3, '0')}.png`;

export function writeImage(dir: string, file: string, mat: Mat): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, file), cv.imencode('.png', mat));
}
