/**
 * The multipart/form-data reader of recipe uploads: fields and files as the browsers send them
 * (Chromium's boundary mixes cases), and malformed bodies refused with E_REQUEST_INVALID.
 */
import t from 'tap';
import { boundaryOf, parseMultipart } from '../../src/http/multipart.js';

const body = (b: string, parts: string[]) => Buffer.from(`${parts.map((p) => `--${b}\r\n${p}\r\n`).join('')}--${b}--\r\n`, 'latin1');

t.test('fields and files, mixed-case boundary, binary content untouched', async (t) => {
  const b = '----WebKitFormBoundaryAbC12xYz';
  const ct = `multipart/form-data; boundary=${b}`;
  t.equal(boundaryOf(ct), b, 'the boundary keeps its case');
  const bin = '\x89PNG\r\n\x1a\n\r\n--not-the-boundary\r\n';
  const parts = parseMultipart(body(b, [
    'Content-Disposition: form-data; name="id"\r\n\r\nbracket-b',
    `Content-Disposition: form-data; name="images"; filename="a \\"1\\".png"\r\nContent-Type: image/png\r\n\r\n${bin}`,
  ]), b);
  t.equal(parts.length, 2);
  t.same({ name: parts[0].name, data: parts[0].data.toString() }, { name: 'id', data: 'bracket-b' });
  t.match(parts[1], { name: 'images', filename: 'a "1".png', contentType: 'image/png' });
  t.equal(parts[1].data.toString('latin1'), bin, 'bytes as sent, CRLFs and dashes included');
});

t.test('malformed bodies are E_REQUEST_INVALID', async (t) => {
  t.throws(() => boundaryOf('multipart/form-data'), { code: 'E_REQUEST_INVALID' });
  const b = 'xyz';
  t.throws(() => parseMultipart(Buffer.from('nothing here'), b), { code: 'E_REQUEST_INVALID', message: /no part/ });
  t.throws(() => parseMultipart(Buffer.from(`--${b}\r\nContent-Disposition: form-data; name="id"\r\n\r\ncut off`), b), { message: /truncated/ });
  t.throws(() => parseMultipart(body(b, ['Content-Type: text/plain\r\n\r\nx']), b), { message: /Content-Disposition/ });
  t.throws(() => parseMultipart(body(b, ['Content-Disposition: form-data; name="a"\r\n\r\n1', 'Content-Disposition: form-data; name="b"\r\n\r\n2']), b, 1), { message: /more than 1 parts/ });
});
