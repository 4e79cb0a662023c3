/**
 * Image files built byte by byte for the input-guard tests: headers that declare huge or
 * odd sizes (with or without a real body), in every format the header reader parses.
 */
import { crc32, deflateSync } from 'node:zlib';

function chunk(type: string, data: Uint8Array): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

function ihdr(width: number, height: number, bitDepth: number, colourType: number): Buffer {
  const d = Buffer.alloc(13);
  d.writeUInt32BE(width, 0);
  d.writeUInt32BE(height, 4);
  d[8] = bitDepth;
  d[9] = colourType;
  return chunk('IHDR', d);
}

/** A PNG whose IHDR says width×height (8-bit BGR) and whose IDAT is junk; it ends with IEND. */
export function pngHeaderOnly(width: number, height: number): Buffer {
  return Buffer.concat([PNG_SIGNATURE, ihdr(width, height, 8, 2), chunk('IDAT', Buffer.alloc(64, 0x55)), chunk('IEND', Buffer.alloc(0))]);
}

/**
 * A valid PNG of width×height: 1-bit palette (black), all zeros, deflated — a few tens of kB
 * on disk that OpenCV would decode to a width×height×3 BGR Mat (1.2 GB at 20 000²).
 */
export function realPalettePng(width: number, height: number): Buffer {
  const row = 1 + Math.ceil(width / 8);
  const raw = Buffer.alloc(row * height); // filter byte 0 and black pixels
  const plte = chunk('PLTE', Buffer.from([0, 0, 0, 255, 255, 255]));
  return Buffer.concat([PNG_SIGNATURE, ihdr(width, height, 1, 3), plte, chunk('IDAT', deflateSync(raw, { level: 9 })), chunk('IEND', Buffer.alloc(0))]);
}

/**
 * A JPEG header: SOI, an APP0 segment, a comment, fill bytes, an RST marker (standalone)
 * and a frame header (`sof`, default SOF2 progressive) of width×height with 3 components,
 * then an SOS and EOI so that it is not "truncated".
 */
export function jpegHeader(width: number, height: number, sof = 0xc2): Buffer {
  const seg = (marker: number, body: number[]) => [0xff, marker, (body.length + 2) >> 8, (body.length + 2) & 0xff, ...body];
  const app0 = seg(0xe0, [0x4a, 0x46, 0x49, 0x46, 0, 1, 1, 0, 0, 1, 0, 1, 0, 0]);
  const com = seg(0xfe, [...Buffer.from('guard test')]);
  const sofSeg = seg(sof, [8, height >> 8, height & 0xff, width >> 8, width & 0xff, 3, 1, 0x11, 0, 2, 0x11, 1, 3, 0x11, 1]);
  const sos = seg(0xda, [1, 1, 0, 0, 0x3f, 0]);
  return Buffer.from([0xff, 0xd8, ...app0, 0xff, 0xff, 0xff, ...com, 0xff, 0xd3, ...sofSeg, ...sos, 0x12, 0x34, 0xff, 0xd9]);
}

/** A BMP file header + DIB header of `dibSize` bytes (12 = CORE, 40 = INFO), 24-bit, no pixels. */
export function bmpHeader(width: number, height: number, dibSize: 12 | 40 = 40): Buffer {
  const b = Buffer.alloc(14 + dibSize);
  b.write('BM', 0, 'latin1');
  b.writeUInt32LE(b.length, 2);
  b.writeUInt32LE(14 + dibSize, 10);
  b.writeUInt32LE(dibSize, 14);
  if (dibSize === 12) {
    b.writeUInt16LE(width, 18);
    b.writeUInt16LE(height, 20);
    b.writeUInt16LE(1, 22);
    b.writeUInt16LE(24, 24);
  } else {
    b.writeInt32LE(width, 18);
    b.writeInt32LE(height, 22);
    b.writeUInt16LE(1, 26);
    b.writeUInt16LE(24, 28);
  }
  return b;
}

/**
 * A top-down (negative height) 24-bit BITMAPINFOHEADER bitmap of width×height whose pixel
 * (x, y) has blue = 10·y + x, for checking the orientation OpenCV gives it.
 */
export function topDownBmp(width: number, height: number): Buffer {
  const stride = Math.ceil((width * 3) / 4) * 4;
  const head = bmpHeader(width, -height, 40);
  const pixels = Buffer.alloc(stride * height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) pixels[y * stride + x * 3] = 10 * y + x;
  head.writeUInt32LE(head.length + pixels.length, 2);
  return Buffer.concat([head, pixels]);
}

/**
 * A TIFF header and first IFD: ImageWidth and ImageLength as `types` (3 SHORT, 4 LONG), in
 * little (II) or big (MM) endian order; no strips. `entries` cuts the IFD short (truncation).
 */
export function tiffHeader(width: number, height: number, opts: { bigEndian?: boolean; types?: [3 | 4, 3 | 4]; cutAt?: number } = {}): Buffer {
  const le = !opts.bigEndian;
  const [wt, ht] = opts.types ?? [4, 4];
  const entries: [number, number, number][] = [
    [256, wt, width],
    [257, ht, height],
    [277, 3, 3],
  ];
  const b = Buffer.alloc(8 + 2 + 12 * entries.length + 4);
  const u16 = (v: number, at: number) => (le ? b.writeUInt16LE(v, at) : b.writeUInt16BE(v, at));
  const u32 = (v: number, at: number) => (le ? b.writeUInt32LE(v, at) : b.writeUInt32BE(v, at));
  b.write(le ? 'II' : 'MM', 0, 'latin1');
  u16(42, 2);
  u32(8, 4);
  u16(entries.length, 8);
  entries.forEach(([tag, type, value], k) => {
    const e = 10 + 12 * k;
    u16(tag, e);
    u16(type, e + 2);
    u32(1, e + 4);
    if (type === 3) u16(value, e + 8);
    else u32(value, e + 8);
  });
  return opts.cutAt === undefined ? b : b.subarray(0, opts.cutAt);
}

/** A WebP container whose VP8X chunk declares a width×height canvas (up to 2^24 a side). */
export function webpVp8xHeader(width: number, height: number): Buffer {
  const b = Buffer.alloc(30);
  b.write('RIFF', 0, 'latin1');
  b.writeUInt32LE(22, 4);
  b.write('WEBPVP8X', 8, 'latin1');
  b.writeUInt32LE(10, 16);
  b.writeUIntLE(width - 1, 24, 3);
  b.writeUIntLE(height - 1, 27, 3);
  return b;
}
