import t from 'tap';
import { readImageHeader } from '../../src/capture/image-header.js';
import { decodeImage } from '../../src/capture/image-io.js';
import { loadOpenCv } from '../../src/capture/opencv.js';
import type { AppError } from '../../src/errors.js';
import { bmpHeader, jpegHeader, pngHeaderOnly, tiffHeader, topDownBmp, webpVp8xHeader } from '../support/image-bytes.js';
import { appErrorOf } from '../support/app-error.js';

const cv = loadOpenCv();


const reason = (e: AppError) => (e.details as { reason?: string }).reason;

t.test('the header gives the size OpenCV decodes, for every format OpenCV writes here', async (t) => {
  const bgr = new cv.Mat(30, 41, cv.CV_8UC3, [1, 2, 3]);
  const grey = bgr.cvtColor(cv.COLOR_BGR2GRAY);
  const cases: [string, InstanceType<typeof cv.Mat>, string, number | undefined][] = [
    ['.png', bgr, 'png', 3],
    ['.png', grey, 'png', 1],
    ['.png', new cv.Mat(30, 41, cv.CV_8UC4, [1, 2, 3, 4]), 'png', 4],
    ['.png', new cv.Mat(30, 41, cv.CV_16UC1, 0x1234), 'png', 1],
    ['.jpg', bgr, 'jpeg', 3],
    ['.jpg', grey, 'jpeg', 1],
    ['.bmp', bgr, 'bmp', 3],
    ['.tiff', bgr, 'tiff', 3],
    ['.tiff', grey, 'tiff', 1],
    ['.webp', bgr, 'webp', 3],
    ['.ppm', bgr, 'pnm', 3],
    ['.pgm', grey, 'pnm', 1],
    ['.pbm', grey, 'pnm', 1],
  ];
  for (const [ext, mat, format, channels] of cases) {
    const bytes = cv.imencode(ext, mat);
    const h = readImageHeader(bytes, `x${ext}`);
    const decoded = cv.imdecode(bytes, cv.IMREAD_UNCHANGED);
    t.same([h.format, h.width, h.height, h.channels], [format, decoded.cols, decoded.rows, channels], `${ext} ${mat.channels}×${mat.depth === cv.CV_16U ? 16 : 8}-bit`);
  }
  const lossless = cv.imencode('.webp', bgr, [cv.IMWRITE_WEBP_QUALITY, 101]);
  t.match(readImageHeader(lossless, 'l.webp'), { format: 'webp', width: 41, height: 30 }, 'lossless WebP (VP8L)');
  t.equal(readImageHeader(cv.imencode('.png', new cv.Mat(30, 41, cv.CV_16UC3, [1, 2, 3])), 'd.png').bitDepth, 16);
});

t.test('huge declared sizes are read from headers whose bodies are junk or absent', async (t) => {
  t.match(readImageHeader(pngHeaderOnly(20000, 20000), 'h.png'), { format: 'png', width: 20000, height: 20000, channels: 3, bitDepth: 8 });
  t.match(readImageHeader(jpegHeader(60000, 50000), 'h.jpg'), { format: 'jpeg', width: 60000, height: 50000, channels: 3 }, 'SOF2 after APP0, COM, fill bytes and RST');
  for (const sof of [0xc0, 0xc1, 0xc3, 0xc9, 0xcf]) t.equal(readImageHeader(jpegHeader(7, 9, sof), 'j').width, 7, `SOF ${sof.toString(16)}`);
  t.match(readImageHeader(bmpHeader(30000, 20000), 'h.bmp'), { format: 'bmp', width: 30000, height: 20000 });
  t.match(readImageHeader(bmpHeader(30000, -20000), 'td.bmp'), { width: 30000, height: 20000 }, 'negative height: top-down bitmap');
  t.match(readImageHeader(bmpHeader(65535, 65535, 12), 'core.bmp'), { width: 65535, height: 65535 }, 'BITMAPCOREHEADER, 16-bit sizes');
  t.match(readImageHeader(tiffHeader(100000, 30000), 'h.tif'), { format: 'tiff', width: 100000, height: 30000, channels: 3 }, 'II, LONG');
  t.match(readImageHeader(tiffHeader(40000, 30000, { bigEndian: true, types: [3, 3] }), 'h.tif'), { width: 40000, height: 30000 }, 'MM, SHORT');
  t.match(readImageHeader(tiffHeader(40000, 300000, { bigEndian: true, types: [3, 4] }), 'h.tif'), { width: 40000, height: 300000 }, 'MM, SHORT and LONG');
  t.match(readImageHeader(webpVp8xHeader(16384, 16384), 'h.webp'), { format: 'webp', width: 16384, height: 16384 });
  t.match(readImageHeader(Buffer.from('P6\n# a comment 1 2 3\n50000 40000\n255\n'), 'h.ppm'), { format: 'pnm', width: 50000, height: 40000, channels: 3 });
});

t.test('a top-down BMP: the header says its height, OpenCV shows its first row on top', async (t) => {
  const bytes = topDownBmp(5, 3);
  t.match(readImageHeader(bytes, 'td.bmp'), { width: 5, height: 3, channels: 3 });
  const m = decodeImage(bytes, 'td.bmp');
  const data = m.getData();
  const blue = (x: number, y: number) => data[(y * m.cols + x) * 3];
  t.same([m.cols, m.rows, blue(4, 0), blue(1, 2)], [5, 3, 4, 21], 'pixel (x, y) has blue 10·y + x');
});

t.test('garbage, cut-off and invalid headers are E_IMAGE_UNDECODABLE with a reason', async (t) => {
  const text = appErrorOf(() => readImageHeader(Buffer.from('just some text saved as .png'), 'notes.png'));
  t.match(text, { code: 'E_IMAGE_UNDECODABLE', message: /notes\.png: not a supported image/ });
  t.equal(reason(text), 'format');
  const png = pngHeaderOnly(10, 10);
  t.equal(reason(appErrorOf(() => readImageHeader(png.subarray(0, 20), 'cut.png'))), 'truncated', 'PNG cut inside IHDR');
  const badDepth = Buffer.from(png);
  badDepth[24] = 3; // colour type 2 with bit depth 3
  t.match(appErrorOf(() => readImageHeader(badDepth, 'd.png')), { message: /bit depth 3 is invalid/ });
  t.match(appErrorOf(() => readImageHeader(pngHeaderOnly(0, 10), 'z.png')), { message: /0×10/ }, 'zero width');
  const jpg = jpegHeader(100, 100);
  t.equal(reason(appErrorOf(() => readImageHeader(jpg.subarray(0, 30), 'cut.jpg'))), 'truncated', 'JPEG cut before SOF');
  t.equal(reason(appErrorOf(() => readImageHeader(Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00]), 'cut.jpg'))), 'truncated', 'JPEG cut inside a segment length');
  t.match(appErrorOf(() => readImageHeader(Buffer.from([0xff, 0xd8, 0xff, 0xda, 0, 8, 1, 1, 0, 0, 0x3f, 0]), 's.jpg')), { message: /FFDA before the frame header/ });
  t.match(appErrorOf(() => readImageHeader(Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 4, 0, 0, 0x12, 0x34]), 'nm.jpg')), { message: /no marker at byte 8/ });
  t.match(appErrorOf(() => readImageHeader(jpegHeader(100, 0), 'dnl.jpg')), { message: /100×0/ }, 'height from a DNL marker (0) is refused');
  const dib = bmpHeader(10, 10);
  dib.writeUInt32LE(20, 14);
  t.match(appErrorOf(() => readImageHeader(dib, 'b.bmp')), { message: /unknown DIB header of 20 bytes/ });
  t.match(appErrorOf(() => readImageHeader(bmpHeader(-5, 10), 'n.bmp')), { message: /-5×10/ }, 'negative width');
  t.equal(reason(appErrorOf(() => readImageHeader(bmpHeader(10, 10).subarray(0, 20), 'b.bmp'))), 'truncated');
  t.equal(reason(appErrorOf(() => readImageHeader(tiffHeader(10, 10, { cutAt: 20 }), 'c.tif'))), 'truncated', 'TIFF cut inside its IFD');
  const noWidth = tiffHeader(10, 10);
  noWidth.writeUInt16LE(300, 10); // the ImageWidth entry becomes another tag
  t.match(appErrorOf(() => readImageHeader(noWidth, 'w.tif')), { message: /no ImageWidth/ });
  const asciiWidth = tiffHeader(10, 10);
  asciiWidth.writeUInt16LE(2, 12); // type ASCII
  t.match(appErrorOf(() => readImageHeader(asciiWidth, 'a.tif')), { message: /ImageWidth is not one SHORT or LONG/ });
  const webp = webpVp8xHeader(10, 10);
  webp.write('ALPH', 12, 'latin1');
  t.match(appErrorOf(() => readImageHeader(webp, 'w.webp')), { message: /unknown first chunk "ALPH"/ });
  t.equal(reason(appErrorOf(() => readImageHeader(Buffer.from('P5 100'), 'c.pgm'))), 'truncated');
  t.match(appErrorOf(() => readImageHeader(Buffer.from('P5 100 x 255 '), 'x.pgm')), { message: /not a decimal number/ });
  t.match(appErrorOf(() => readImageHeader(Buffer.from('P5 10 10 70000 '), 'm.pgm')), { message: /maxval 70000/ });
});

t.test('formats OpenCV would decode but nobody parses here are refused by name, before OpenCV', async (t) => {
  const bgr = new cv.Mat(256, 256, cv.CV_8UC3, [10, 20, 30]);
  const float = bgr.convertTo(cv.CV_32FC3);
  const cases: [string, Buffer, RegExp][] = [
    ['.pam', cv.imencode('.pam', bgr), /PAM/],
    ['.pfm', cv.imencode('.pfm', float), /PFM/],
    ['.hdr', cv.imencode('.hdr', float), /Radiance HDR/],
    ['.ras', cv.imencode('.ras', bgr), /Sun raster/],
    ['.exr', cv.imencode('.exr', float), /OpenEXR/],
    ['.jp2', cv.imencode('.jp2', bgr), /JPEG 2000/],
  ];
  for (const [ext, bytes, name] of cases) {
    t.notOk(cv.imdecode(bytes, cv.IMREAD_ANYCOLOR).empty, `${ext}: OpenCV itself decodes it`);
    const e = appErrorOf(() => decodeImage(bytes, `x${ext}`));
    t.match(e, { code: 'E_IMAGE_UNDECODABLE', message: name }, `${ext}: refused before decoding`);
    t.equal(reason(e), 'format');
  }
});
