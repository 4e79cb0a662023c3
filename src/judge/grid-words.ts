/**
 * 3×3 location words (SPEC §7). AnomalyGPT's training answers name where a defect is with one
 * of nine words, computed from the defect centre as r = row_centre / height and
 * c = col_centre / width. Bands: r ≤ 1/3 → top, 1/3 < r ≤ 2/3 → middle, r > 2/3 → bottom, and
 * the same for c (left / middle / right). Band edges belong to the lower band.
 *
 * Note: the original code (`datasets/mvtec.py`, `visa.py`) calls the *row* fraction `center_x`;
 * we name things by what they are. Pure: imports only the GridWord type.
 */
import type { GridWord } from './verdict.js';

const WORDS: readonly (readonly GridWord[])[] = [
  ['top left', 'top', 'top right'],
  ['left', 'center', 'right'],
  ['bottom left', 'bottom', 'bottom right'],
];

/**
 * Band 0, 1 or 2 of `position` within `[0, size]`. Compared as 3·p ≤ size rather than
 * p/size ≤ 1/3 so exact thirds (e.g. row 1 of 3, row 2 of 6) land in the lower band without
 * depending on floating-point rounding of the division.
 */
function band(position: number, size: number): 0 | 1 | 2 {
  if (3 * position <= size) return 0;
  if (3 * position <= 2 * size) return 1;
  return 2;
}

/**
 * Grid word of a point given in pixel coordinates of an image `width`×`height`
 * (x = column, y = row). The SPEC computes centres with `cv2.moments`, i.e. pixel-index
 * coordinates, which is what DefectLocation.centroid holds.
 */
export function gridWord(x: number, y: number, width: number, height: number): GridWord {
  if (!(width > 0) || !(height > 0)) throw new RangeError(`gridWord: bad image size ${width}×${height}`);
  if (!Number.isFinite(x) || !Number.isFinite(y)) throw new RangeError(`gridWord: bad point (${x}, ${y})`);
  return WORDS[band(y, height)][band(x, width)];
}

/** Grid word from fractions r = row/height and c = col/width (SPEC §7 table). */
export function gridWordFromFractions(r: number, c: number): GridWord {
  return gridWord(c, r, 1, 1);
}

/**
 * The position phrase of the seed's answer sentences (SPEC §7): "at the bottom left of the
 * image", "at the top and bottom right of the image", "at the top, left and center of the
 * image". Words are de-duplicated keeping first-seen order, as the supervised templates do.
 * Returns '' for no words.
 */
export function describeLocations(words: readonly GridWord[]): string {
  const unique = [...new Set(words)];
  if (unique.length === 0) return '';
  const last = unique[unique.length - 1];
  const joined = unique.length === 1 ? last : `${unique.slice(0, -1).join(', ')} and ${last}`;
  return `at the ${joined} of the image`;
}
