/**
 * Image decoding with named errors, and Mat <-> Frame conversion.
 *
 * OpenCV is lenient in ways that hurt an inspection system: imdecode of an empty buffer
 * aborts the whole process (an uncaught C++ exception in OpenCV 4.6 — measured here), a
 * truncated JPEG decodes "successfully" with the missing rows filled grey, which would be
 * judged as a defect, and a small file can declare a huge image that aborts the process
 * when it leaves OpenCV (image-limits.ts). So bytes are checked before decoding (header,
 * size, truncation) and the Mat after.
 */
import { readFile } from 'node:fs/promises';
import { AppError, ErrorCodes, toError } from '../errors.js';
import type { Frame } from './frame.js';
import { readImageHeader, type ImageFormat, type ImageHeader } from './image-header.js';
import { BINDING_MAX_BYTES, checkPixelLimit, DEFAULT_IMAGE_LIMITS, type ImageLimits } from './image-limits.js';
import { loadOpenCv, type Mat } from './opencv.js';

const PNG_IEND = Buffer.from('IEND', 'latin1');
const JPEG_SOS = Buffer.from([0xff, 0xda]);
const JPEG_EOI = Buffer.from([0xff, 0xd9]);

export { sniffFormat, type ImageFormat } from './image-header.js';

/** Why a file of a known format is incomplete, or undefined when it looks whole. */
function truncationReason(bytes: Uint8Array, format: ImageFormat | undefined): string | undefined {
  const buf = asBuffer(bytes);
  if (format === 'png') {
    // IEND is the mandatory last chunk (PNG spec §11.2.5), normally 8 bytes from the end.
    // Require it near the end: a few bytes of trailing padding pass, but an "IEND" that
    // merely occurs inside compressed data of a cut-off file does not.
    const at = buf.lastIndexOf(PNG_IEND);
    return at < 0 || at < buf.length - 64 ? 'PNG has no IEND chunk (truncated)' : undefined;
  }
  if (format === 'jpeg') {
    // Inside entropy-coded data every 0xFF is followed by 0x00 or RSTn, so an FFD9 after the
    // last start-of-scan is the real end-of-image, and EXIF thumbnails (before it) do not count.
    const sos = buf.lastIndexOf(JPEG_SOS);
    return sos < 0 || buf.indexOf(JPEG_EOI, sos + 2) < 0
      ? 'JPEG has no end-of-image marker after its last scan (truncated)'
      : undefined;
  }
  return undefined;
}

/**
 * Everything that can be known before OpenCV sees the bytes: not empty, a format whose header
 * was read (readImageHeader refuses the others), a size within `limits`, not cut off.
 */
function checkImageBytes(bytes: Uint8Array, origin: string, limits: ImageLimits = DEFAULT_IMAGE_LIMITS): ImageHeader {
  if (bytes.length === 0) throw new AppError(ErrorCodes.IMAGE_EMPTY, `${origin}: zero-byte image`);
  const header = readImageHeader(bytes, origin);
  checkPixelLimit(header.width, header.height, limits, origin);
  const format = header.format;
  const truncated = truncationReason(bytes, format);
  if (truncated) {
    throw new AppError(ErrorCodes.IMAGE_UNDECODABLE, `${origin}: ${truncated}`, {
      details: { origin, format, reason: 'truncated' },
    });
  }
  return header;
}

function checkDecoded(mat: Mat, origin: string): Mat {
  if (mat.empty || mat.rows === 0 || mat.cols === 0) {
    throw new AppError(ErrorCodes.IMAGE_UNDECODABLE, `${origin}: not a decodable image`, {
      details: { origin, reason: 'undecodable' },
    });
  }
  return mat;
}

function undecodable(origin: string, thrown: unknown): AppError {
  const err = toError(thrown);
  return new AppError(ErrorCodes.IMAGE_UNDECODABLE, `${origin}: ${err.message}`, { cause: err });
}

/**
 * Decode PNG/JPEG/BMP/TIFF/WebP/PNM bytes (checkImageBytes first) to an 8-bit Mat: grey stays 1 channel, colour becomes BGR,
 * alpha is dropped and 16-bit images are reduced to their high byte (IMREAD_ANYCOLOR
 * without IMREAD_ANYDEPTH), so every decoded image is already a valid Frame layout.
 */
export function decodeImage(bytes: Uint8Array, origin: string, limits: ImageLimits = DEFAULT_IMAGE_LIMITS): Mat {
  checkImageBytes(bytes, origin, limits);
  const cv = loadOpenCv();
  let mat: Mat;
  try {
    mat = cv.imdecode(asBuffer(bytes), cv.IMREAD_ANYCOLOR);
  } catch (e) {
    throw undecodable(origin, e);
  }
  return checkDecoded(mat, origin);
}

/**
 * Read and decode an image file; decoding runs on the libuv pool, off the event loop.
 * Its header is checked against `limits` first (E_IMAGE_TOO_LARGE before any decoding).
 */
export async function readImageFile(path: string, limits: ImageLimits = DEFAULT_IMAGE_LIMITS): Promise<Mat> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (e) {
    // No dedicated I/O code exists; the file is unusable as an image either way.
    throw new AppError(ErrorCodes.IMAGE_UNDECODABLE, `${path}: cannot read: ${toError(e).message}`, {
      cause: e,
      details: { origin: path, reason: 'io' },
    });
  }
  checkImageBytes(bytes, path, limits);
  const cv = loadOpenCv();
  let mat: Mat;
  try {
    mat = await cv.imdecodeAsync(bytes, cv.IMREAD_ANYCOLOR);
  } catch (e) {
    throw undecodable(path, e);
  }
  return checkDecoded(mat, path);
}

export type FrameMeta = Omit<Frame, 'width' | 'height' | 'channels' | 'data'>;

/**
 * Build a Frame from a Mat. Accepts CV_8UC1 and CV_8UC3; CV_8UC4 (BGRA, e.g. some GStreamer
 * and V4L2 formats) is converted to BGR; any other depth or channel count (16-bit, float,
 * 2-channel) is rejected with E_FRAME_INVALID rather than silently rescaled.
 *
 * Copies: @u4/opencv4nodejs 7.1.2 has no zero-copy accessor. Mat.getData() (cc/core/
 * MatBindings.h GetDataWorker) memcpy's the pixels into a malloc'd block and then
 * Nan::CopyBuffer's that into a new Node Buffer — so the Frame owns a private copy (made
 * natively; measured 0.23 ms at 640×480×3 and 1.7 ms at 1920×1080×3 here). This function
 * adds no further copy: `data` is that Buffer.
 */
export function matToFrame(mat: Mat, meta: FrameMeta): Frame {
  const cv = loadOpenCv();
  if (mat.empty) throw new AppError(ErrorCodes.FRAME_INVALID, `${meta.origin}: empty frame`);
  if (mat.depth !== cv.CV_8U) {
    throw new AppError(ErrorCodes.FRAME_INVALID, `${meta.origin}: only 8-bit frames are supported`, {
      details: { depth: mat.depth, channels: mat.channels },
    });
  }
  // getData() of more than BINDING_MAX_BYTES aborts the process (nan.h assertion).
  if (mat.rows * mat.cols * mat.channels > BINDING_MAX_BYTES) {
    throw new AppError(ErrorCodes.IMAGE_TOO_LARGE, `${meta.origin}: ${mat.cols}×${mat.rows}×${mat.channels} frame exceeds ${BINDING_MAX_BYTES} bytes, the most the OpenCV binding can copy`, {
      details: { origin: meta.origin, width: mat.cols, height: mat.rows },
    });
  }
  let m = mat;
  if (m.channels === 4) m = m.cvtColor(cv.COLOR_BGRA2BGR);
  if (m.channels !== 1 && m.channels !== 3) {
    throw new AppError(ErrorCodes.FRAME_INVALID, `${meta.origin}: ${m.channels}-channel frames are not supported`);
  }
  let data: Buffer;
  try {
    data = m.getData();
  } catch {
    // getData refuses regions of interest (getRegion views); compact them first.
    data = m.copy().getData();
  }
  return { ...meta, width: m.cols, height: m.rows, channels: m.channels as 1 | 3, data };
}

const KEEP_ALIVE = Symbol('frame pixels kept alive by this Mat');

/**
 * A Mat over the Frame's own pixels, without copying. The binding's
 * `new Mat(rows, cols, type, buffer)` wraps external memory and does not retain the buffer,
 * so the buffer is pinned on the Mat object itself. Treat the Mat as read-only (writing to it
 * would change the frame) and do not keep getRegion() views of it past the Mat's lifetime;
 * results of OpenCV operations on it are fresh Mats and are safe.
 */
export function frameToMat(frame: Frame): Mat {
  const cv = loadOpenCv();
  const expected = frame.width * frame.height * frame.channels;
  if (frame.data.length !== expected || expected === 0) {
    throw new AppError(
      ErrorCodes.FRAME_INVALID,
      `${frame.origin}: ${frame.data.length} bytes for ${frame.width}×${frame.height}×${frame.channels}`,
    );
  }
  const buf = asBuffer(frame.data);
  const mat = new cv.Mat(frame.height, frame.width, frame.channels === 3 ? cv.CV_8UC3 : cv.CV_8UC1, buf);
  Object.defineProperty(mat, KEEP_ALIVE, { value: buf });
  return mat;
}

/** A Buffer view of the same memory (no copy). */
function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
