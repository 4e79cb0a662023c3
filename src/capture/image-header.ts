/**
 * Image dimensions from the file header, without decoding (imports nothing but errors.ts).
 *
 * Why: OpenCV allocates the whole decoded image before it looks at a pixel, so a 20 000 ×
 * 20 000 PNG of a few kilobytes becomes a 1.2 GB Mat whose getData() trips the binding's
 * `Nan::CopyBuffer … too large buffer` assertion (issue 9: exit 134 in a restart loop).
 * The size must be known, and refused, before imdecode is called.
 *
 * cv.imdecode picks its decoder by content, never by file name, so what matters is the
 * signature. This OpenCV 4.6 build (cv.getBuildInformation(): PNG, JPEG, TIFF, WebP,
 * JPEG 2000, OpenEXR, HDR, Sun raster, PxM/PAM, PFM) decodes more formats than are parsed
 * here; the rest are refused by name, so no format reaches OpenCV without its size checked.
 */
import { AppError, ErrorCodes } from '../errors.js';
import { latin1, readPnmHeader, readTiffHeader, readWebpHeader, view, type Fail, type HeaderDims } from './image-header-more.js';

export type ImageFormat = 'png' | 'jpeg' | 'bmp' | 'tiff' | 'webp' | 'pnm';

export interface ImageHeader extends HeaderDims {
  readonly format: ImageFormat;
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** Formats this OpenCV build would decode that are refused instead (signature → name). */
const REFUSED: readonly (readonly [readonly number[], string])[] = [
  [[0x00, 0x00, 0x00, 0x0c, 0x6a, 0x50, 0x20, 0x20], 'JPEG 2000'],
  [[0xff, 0x4f, 0xff, 0x51], 'JPEG 2000 codestream'],
  [[0x76, 0x2f, 0x31, 0x01], 'OpenEXR'],
  [[0x23, 0x3f], 'Radiance HDR'], // "#?RGBE" / "#?RADIANCE"
  [[0x59, 0xa6, 0x6a, 0x95], 'Sun raster'],
  [[0x50, 0x46], 'PFM'], // "PF"
  [[0x50, 0x66], 'PFM'], // "Pf"
  [[0x50, 0x37], 'PAM'], // "P7"
  [[0x49, 0x49, 0x2b, 0x00], 'BigTIFF'],
  [[0x4d, 0x4d, 0x00, 0x2b], 'BigTIFF'],
  [[0x47, 0x49, 0x46, 0x38], 'GIF'],
];

const ACCEPTED = 'PNG, JPEG, BMP, TIFF, WebP, PNM';

const isSpace = (b: number | undefined) => b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0b || b === 0x0c || b === 0x0d;

/** The format by signature, as OpenCV's decoders recognise it; undefined when none we parse. */
export function sniffFormat(bytes: Uint8Array): ImageFormat | undefined {
  const starts = (sig: readonly number[]) => bytes.length >= sig.length && sig.every((b, i) => bytes[i] === b);
  if (starts(PNG_SIGNATURE)) return 'png';
  if (starts([0xff, 0xd8, 0xff])) return 'jpeg';
  if (starts([0x42, 0x4d])) return 'bmp';
  if (starts([0x49, 0x49, 0x2a, 0x00]) || starts([0x4d, 0x4d, 0x00, 0x2a])) return 'tiff';
  if (starts([0x52, 0x49, 0x46, 0x46]) && bytes.length >= 12 && latin1(bytes, 8, 4) === 'WEBP') return 'webp';
  // OpenCV's PxMDecoder::checkSignature: 'P', a digit 1–6, then whitespace.
  if (bytes[0] === 0x50 && bytes[1] >= 0x31 && bytes[1] <= 0x36 && isSpace(bytes[2])) return 'pnm';
  return undefined;
}

/** Thrown for anything that is not a whole, parseable header. `reason` goes to details. */
function headerError(origin: string, message: string, reason: 'format' | 'header' | 'truncated', format?: string): AppError {
  return new AppError(ErrorCodes.IMAGE_UNDECODABLE, `${origin}: ${message}`, { details: { origin, reason, ...(format ? { format } : {}) } });
}

/**
 * Width and height (and channels / bit depth where the header says so) of PNG, JPEG, BMP,
 * TIFF, WebP and PNM data. Throws E_IMAGE_UNDECODABLE for anything else, for a header cut
 * off, or for a header that no decoder would accept (zero or negative sizes).
 */
export function readImageHeader(bytes: Uint8Array, origin: string): ImageHeader {
  const format = sniffFormat(bytes);
  if (format === undefined) {
    const refused = REFUSED.find(([sig]) => sig.every((b, i) => bytes[i] === b));
    throw refused
      ? headerError(origin, `${refused[1]} images are not accepted (use ${ACCEPTED})`, 'format', refused[1])
      : headerError(origin, `not a supported image (no ${ACCEPTED} signature)`, 'format');
  }
  const fail = (message: string, reason: 'header' | 'truncated' = 'header') => headerError(origin, message, reason, format);
  const dims = HEADER_READERS[format](bytes, fail);
  if (!(dims.width > 0 && dims.height > 0)) throw fail(`${format.toUpperCase()} header gives a ${dims.width}×${dims.height} image`);
  return { format, ...dims };
}

const HEADER_READERS: Record<ImageFormat, (b: Uint8Array, fail: Fail) => HeaderDims> = {
  png: readPngHeader,
  jpeg: readJpegHeader,
  bmp: readBmpHeader,
  tiff: readTiffHeader,
  webp: readWebpHeader,
  pnm: readPnmHeader,
};

/** PNG spec §11.2.2: IHDR is the first chunk; bit depths allowed per colour type. */
const PNG_DEPTHS: Record<number, { channels: number; depths: number[] }> = {
  0: { channels: 1, depths: [1, 2, 4, 8, 16] },
  2: { channels: 3, depths: [8, 16] },
  3: { channels: 3, depths: [1, 2, 4, 8] }, // palette: expanded to BGR
  4: { channels: 2, depths: [8, 16] },
  6: { channels: 4, depths: [8, 16] },
};

function readPngHeader(b: Uint8Array, fail: Fail): HeaderDims {
  if (b.length < 33) throw fail('PNG shorter than its IHDR chunk (truncated)', 'truncated');
  const v = view(b);
  if (v.getUint32(8) !== 13 || latin1(b, 12, 4) !== 'IHDR') throw fail('PNG does not start with an IHDR chunk');
  const width = v.getUint32(16);
  const height = v.getUint32(20);
  const bitDepth = b[24];
  const colour = PNG_DEPTHS[b[25]];
  // PNG spec §11.2.2: sizes are at most 2^31 − 1.
  if (width > 0x7fffffff || height > 0x7fffffff) throw fail(`PNG IHDR size ${width}×${height} exceeds 2^31−1`);
  if (!colour || !colour.depths.includes(bitDepth)) throw fail(`PNG IHDR colour type ${b[25]} with bit depth ${bitDepth} is invalid`);
  return { width, height, channels: colour.channels, bitDepth };
}

/** Start-of-frame markers (ITU T.81 table B.1): SOF0–3, 5–7, 9–11, 13–15; not DHT (C4), JPG (C8), DAC (CC). */
const JPEG_SOF = new Set([0xc0, 0xc1, 0xc2, 0xc3, 0xc5, 0xc6, 0xc7, 0xc9, 0xca, 0xcb, 0xcd, 0xce, 0xcf]);

/**
 * Walks the marker segments after SOI up to the frame header. Fill bytes (any number of 0xFF
 * before a marker, T.81 B.1.1.2) and the parameterless RSTn/TEM markers are skipped; every
 * other segment carries its length. A scan or EOI before the frame header is invalid.
 */
function readJpegHeader(b: Uint8Array, fail: Fail): HeaderDims {
  const v = view(b);
  let i = 2;
  for (;;) {
    if (i >= b.length) throw fail('JPEG ends before its frame header (truncated)', 'truncated');
    if (b[i] !== 0xff) throw fail(`JPEG: no marker at byte ${i}`);
    while (i < b.length && b[i] === 0xff) i++;
    if (i >= b.length) throw fail('JPEG ends before its frame header (truncated)', 'truncated');
    const marker = b[i++];
    if ((marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) continue;
    if (marker === 0x00 || marker === 0xd8 || marker === 0xd9 || marker === 0xda) {
      throw fail(`JPEG: marker FF${hex(marker)} before the frame header`);
    }
    if (i + 2 > b.length) throw fail('JPEG ends inside a segment header (truncated)', 'truncated');
    const length = v.getUint16(i);
    if (length < 2) throw fail(`JPEG: segment FF${hex(marker)} has length ${length}`);
    if (JPEG_SOF.has(marker)) {
      if (length < 8) throw fail(`JPEG: frame header of ${length} bytes`);
      if (i + 8 > b.length) throw fail('JPEG ends inside its frame header (truncated)', 'truncated');
      // Height 0 means "defined by a later DNL marker", which libjpeg does not support.
      return { height: v.getUint16(i + 3), width: v.getUint16(i + 5), channels: b[i + 7], bitDepth: b[i + 2] };
    }
    i += length;
  }
}

/**
 * BITMAPFILEHEADER (14 bytes) then the DIB header, whose size says its kind. As OpenCV's
 * BmpDecoder::readHeader: 12 = BITMAPCOREHEADER (16-bit sizes); 36 or more = INFO/V4/V5 or
 * OS/2 v2 (signed 32-bit sizes; a negative height is a top-down bitmap); anything else invalid.
 */
function readBmpHeader(b: Uint8Array, fail: Fail): HeaderDims {
  if (b.length < 18) throw fail('BMP shorter than its headers (truncated)', 'truncated');
  const v = view(b);
  const size = v.getUint32(14, true);
  if (size === 12) {
    if (b.length < 26) throw fail('BMP shorter than its headers (truncated)', 'truncated');
    return { width: v.getUint16(18, true), height: v.getUint16(20, true), ...bmpLayout(v.getUint16(24, true)) };
  }
  if (size < 36 || size > 0x7fffffff) throw fail(`BMP: unknown DIB header of ${size} bytes`);
  if (b.length < 30) throw fail('BMP shorter than its headers (truncated)', 'truncated');
  const width = v.getInt32(18, true);
  const height = Math.abs(v.getInt32(22, true));
  return { width, height, ...bmpLayout(v.getUint16(28, true)) };
}

function bmpLayout(bitsPerPixel: number): { channels?: number; bitDepth: number } {
  // 1/4/8 bits are palette indices: OpenCV makes grey or BGR depending on the palette.
  const channels = bitsPerPixel === 32 ? 4 : bitsPerPixel === 24 || bitsPerPixel === 16 ? 3 : undefined;
  return { ...(channels ? { channels } : {}), bitDepth: 8 };
}

function hex(n: number): string {
  return n.toString(16).toUpperCase().padStart(2, '0');
}
