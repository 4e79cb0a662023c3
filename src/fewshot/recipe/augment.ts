/**
 * Image variants used by calibration. Two different jobs:
 *  - bank variants (flips, 90° rotations) add plausible normal patches to the memory bank:
 *    the rotation-augmented bank AnomalyGPT wrote but never ran at test time (SPEC §4, §10.2);
 *  - perturbations (small shifts, rotations, scale and gain changes) imitate the pose and
 *    light changes between two good parts, and are scored, never added to the bank, to learn
 *    how high a normal part's score goes (the judge's boundary).
 */
import type { Cv, Mat } from '../../capture/opencv.js';
import type { Rng } from '../../util/prng.js';

/**
 * hflip/vflip/rot90/rot180/rot270: exact; `rot<deg>` (e.g. rot15, rot-30): rotation about the
 * centre by that many degrees, border reflected (parts that turn on the line).
 */
export type BankAugment = 'hflip' | 'vflip' | 'rot90' | 'rot180' | 'rot270' | `rot${number}`;

export function isBankAugment(a: string): a is BankAugment {
  return ['hflip', 'vflip'].includes(a) || /^rot-?\d+(\.\d+)?$/.test(a);
}

/** Variants of an already-resized image, the identity first. rot90/rot270 need a square input. */
export function bankVariants(cv: Cv, resized: Mat, augments: readonly BankAugment[]): Mat[] {
  const out = [resized];
  for (const a of augments) {
    if ((a === 'rot90' || a === 'rot270') && resized.rows !== resized.cols) continue;
    switch (a) {
      case 'hflip': out.push(resized.flip(1)); break;
      case 'vflip': out.push(resized.flip(0)); break;
      case 'rot90': out.push(resized.rotate(cv.ROTATE_90_CLOCKWISE)); break;
      case 'rot180': out.push(resized.rotate(cv.ROTATE_180)); break;
      case 'rot270': out.push(resized.rotate(cv.ROTATE_90_COUNTERCLOCKWISE)); break;
      default: {
        const deg = Number(a.slice(3));
        const m = cv.getRotationMatrix2D(new cv.Point2(resized.cols / 2, resized.rows / 2), deg, 1);
        out.push(resized.warpAffine(m, new cv.Size(resized.cols, resized.rows), cv.INTER_LINEAR, cv.BORDER_REFLECT));
      }
    }
  }
  return out;
}

export interface PerturbationRange {
  /** Max shift as a fraction of the image side. */
  readonly shift: number;
  /** Max rotation, degrees. */
  readonly rotateDeg: number;
  /** Max relative scale change. */
  readonly scale: number;
  /** Max relative gain change. */
  readonly gain: number;
}

export const DEFAULT_PERTURBATION: PerturbationRange = { shift: 0.03, rotateDeg: 3, scale: 0.03, gain: 0.08 };

/** One random small affine + gain change, border reflected so no artificial edges appear. */
export function perturb(cv: Cv, image: Mat, rng: Rng, range: PerturbationRange = DEFAULT_PERTURBATION): Mat {
  const u = () => 2 * rng.next() - 1;
  const w = image.cols;
  const h = image.rows;
  const center = new cv.Point2(w / 2 + u() * range.shift * w, h / 2 + u() * range.shift * h);
  const m = cv.getRotationMatrix2D(center, u() * range.rotateDeg, 1 + u() * range.scale);
  const warped = image.warpAffine(m, new cv.Size(w, h), cv.INTER_LINEAR, cv.BORDER_REFLECT);
  const gain = 1 + u() * range.gain;
  return warped.convertTo(image.type, gain, 0);
}
