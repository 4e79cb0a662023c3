/**
 * Header readers for TIFF, WebP and PNM (image-header.ts has PNG, JPEG, BMP and the rules).
 * Pure byte parsing: nothing is decoded, nothing is allocated beyond a DataView.
 */
import type { AppError } from '../errors.js';

export interface HeaderDims {
  readonly width: number;
  readonly height: number;
  /** Channels as stored (before OpenCV's conversion); absent where the header cannot say cheaply. */
  readonly channels?: number;
  /** Bits per sample as stored. */
  readonly bitDepth?: number;
}

export type Fail = (message: string, reason?: 'header' | 'truncated') => AppError;

export function view(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

export function latin1(b: Uint8Array, start: number, length: number): string {
  return String.fromCharCode(...b.subarray(start, start + length));
}

const TIFF_SHORT = 3;
const TIFF_LONG = 4;

/**
 * TIFF 6.0 §2: byte order (II/MM), 42, offset of the first IFD; its 12-byte entries hold
 * ImageWidth (256) and ImageLength (257) as one SHORT or LONG. OpenCV decodes the first
 * page only, so the first IFD is the one that counts.
 */
export function readTiffHeader(b: Uint8Array, fail: Fail): HeaderDims {
  if (b.length < 8) throw fail('TIFF shorter than its header (truncated)', 'truncated');
  const le = b[0] === 0x49;
  const v = view(b);
  const ifd = v.getUint32(4, le);
  if (ifd < 8) throw fail(`TIFF: first IFD at offset ${ifd}`);
  if (ifd + 2 > b.length) throw fail('TIFF ends before its first IFD (truncated)', 'truncated');
  const count = v.getUint16(ifd, le);
  let width: number | undefined;
  let height: number | undefined;
  let channels = 1;
  let bitDepth = 1;
  let cut = false;
  for (let k = 0; k < count; k++) {
    const e = ifd + 2 + 12 * k;
    if (e + 12 > b.length) {
      cut = true;
      break;
    }
    const tag = v.getUint16(e, le);
    const type = v.getUint16(e + 2, le);
    const n = v.getUint32(e + 4, le);
    const one = n !== 1 ? undefined : type === TIFF_SHORT ? v.getUint16(e + 8, le) : type === TIFF_LONG ? v.getUint32(e + 8, le) : undefined;
    if (tag === 256 || tag === 257) {
      if (one === undefined) throw fail(`TIFF: ${tag === 256 ? 'ImageWidth' : 'ImageLength'} is not one SHORT or LONG`);
      if (tag === 256) width = one;
      else height = one;
    } else if (tag === 277 && type === TIFF_SHORT) {
      channels = v.getUint16(e + 8, le);
    } else if (tag === 258 && type === TIFF_SHORT && n >= 1) {
      // BitsPerSample: one value per sample; inline when they fit in 4 bytes, else at an offset.
      const at = n <= 2 ? e + 8 : v.getUint32(e + 8, le);
      if (at + 2 <= b.length) bitDepth = v.getUint16(at, le);
    }
  }
  if (width === undefined || height === undefined) {
    throw cut ? fail('TIFF ends inside its first IFD (truncated)', 'truncated') : fail('TIFF: first IFD has no ImageWidth/ImageLength');
  }
  return { width, height, channels, bitDepth };
}

/**
 * WebP container (RIFF "WEBP") and its first chunk: VP8 (lossy: 14-bit sizes after the
 * 9D 01 2A start code, RFC 6386 §9.1), VP8L (lossless: 14-bit sizes − 1 after the 0x2F
 * signature) or VP8X (extended: 24-bit canvas sizes − 1).
 */
export function readWebpHeader(b: Uint8Array, fail: Fail): HeaderDims {
  if (b.length < 30) throw fail('WebP shorter than its header (truncated)', 'truncated');
  const v = view(b);
  const chunk = latin1(b, 12, 4);
  if (chunk === 'VP8 ') {
    if (b[23] !== 0x9d || b[24] !== 0x01 || b[25] !== 0x2a) throw fail('WebP VP8: no start code');
    return { width: v.getUint16(26, true) & 0x3fff, height: v.getUint16(28, true) & 0x3fff, channels: 3, bitDepth: 8 };
  }
  if (chunk === 'VP8L') {
    if (b[20] !== 0x2f) throw fail('WebP VP8L: no signature byte');
    const bits = v.getUint32(21, true);
    return { width: (bits & 0x3fff) + 1, height: ((bits >>> 14) & 0x3fff) + 1, channels: (bits >>> 28) & 1 ? 4 : 3, bitDepth: 8 };
  }
  if (chunk === 'VP8X') {
    const u24 = (at: number) => b[at] | (b[at + 1] << 8) | (b[at + 2] << 16);
    return { width: u24(24) + 1, height: u24(27) + 1, channels: b[20] & 0x10 ? 4 : 3, bitDepth: 8 };
  }
  throw fail(`WebP: unknown first chunk "${chunk.replace(/[^\x20-\x7e]/g, '?')}"`);
}

const isSpace = (c: number) => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0b || c === 0x0c || c === 0x0d;

/**
 * Netpbm P1–P6: magic, then width, height and (except for bitmaps P1/P4) maxval as ASCII
 * decimals separated by whitespace, with `#` comments to the end of a line.
 */
export function readPnmHeader(b: Uint8Array, fail: Fail): HeaderDims {
  const kind = b[1] - 0x30;
  const bitmap = kind === 1 || kind === 4;
  const values: number[] = [];
  let i = 2;
  while (values.length < (bitmap ? 2 : 3)) {
    while (i < b.length && (isSpace(b[i]) || b[i] === 0x23)) {
      if (b[i] === 0x23) while (i < b.length && b[i] !== 0x0a && b[i] !== 0x0d) i++;
      else i++;
    }
    const start = i;
    while (i < b.length && b[i] >= 0x30 && b[i] <= 0x39) i++;
    // A number must be followed by whitespace: one running into the end of the data is cut off.
    if (i >= b.length) throw fail('PNM ends inside its header (truncated)', 'truncated');
    if (i === start || !isSpace(b[i])) throw fail('PNM: header field is not a decimal number');
    if (i - start > 15) throw fail('PNM: header number too long');
    values.push(Number(latin1(b, start, i - start)));
  }
  const [width, height, maxval = 1] = values;
  if (maxval < 1 || maxval > 65535) throw fail(`PNM: maxval ${maxval} outside 1–65535`);
  return { width, height, channels: kind === 3 || kind === 6 ? 3 : 1, bitDepth: bitmap ? 1 : maxval > 255 ? 16 : 8 };
}
