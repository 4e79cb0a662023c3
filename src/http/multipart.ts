/**
 * multipart/form-data (RFC 7578) of a whole, size-limited body: fastify has no parser of its
 * own, and the only uploads are a recipe's images (POST /api/recipes), already bounded by the
 * route's body limit before this runs. Fields become strings, files stay bytes; anything
 * malformed is E_REQUEST_INVALID.
 */
import { AppError, ErrorCodes } from '../errors.js';

export interface MultipartPart {
  readonly name: string;
  /** Present for file parts. */
  readonly filename?: string;
  readonly contentType: string;
  readonly data: Buffer;
}

const bad = (m: string) => new AppError(ErrorCodes.REQUEST_INVALID, `multipart body: ${m}`);

export function boundaryOf(contentType: string | undefined): string {
  const m = /boundary=(?:"([^"]{1,70})"|([^\s;]{1,70}))/i.exec(contentType ?? '');
  const b = m?.[1] ?? m?.[2];
  if (!b) throw bad('no boundary in Content-Type');
  return b;
}

function param(header: string, key: string): string | undefined {
  const m = new RegExp(`(?:^|;)\\s*${key}="((?:[^"\\\\]|\\\\.)*)"`, 'i').exec(header) ?? new RegExp(`(?:^|;)\\s*${key}=([^;\\s]+)`, 'i').exec(header);
  return m?.[1]?.replace(/\\(.)/g, '$1');
}

export function parseMultipart(body: Buffer, boundary: string, maxParts = 1000): MultipartPart[] {
  const delim = Buffer.from(`--${boundary}`);
  const parts: MultipartPart[] = [];
  let at = body.indexOf(delim);
  if (at < 0) throw bad('no part');
  for (;;) {
    at += delim.length;
    // "--" after a delimiter ends the body.
    if (body[at] === 0x2d && body[at + 1] === 0x2d) break;
    if (body[at] !== 0x0d || body[at + 1] !== 0x0a) throw bad('a delimiter without CRLF');
    at += 2;
    const headEnd = body.indexOf('\r\n\r\n', at);
    if (headEnd < 0) throw bad('a part without headers');
    const headers = body.subarray(at, headEnd).toString('latin1').split('\r\n');
    const next = body.indexOf(Buffer.concat([Buffer.from('\r\n'), delim]), headEnd + 4);
    if (next < 0) throw bad('the closing delimiter is missing (truncated upload)');
    let disposition = '';
    let contentType = 'text/plain';
    for (const h of headers) {
      const colon = h.indexOf(':');
      if (colon < 0) continue;
      const k = h.slice(0, colon).trim().toLowerCase();
      const v = h.slice(colon + 1).trim();
      if (k === 'content-disposition') disposition = v;
      else if (k === 'content-type') contentType = v.toLowerCase();
    }
    const name = param(disposition, 'name');
    if (!/^form-data/i.test(disposition) || name === undefined) throw bad('a part without Content-Disposition: form-data; name=…');
    const filename = param(disposition, 'filename');
    // A slice of the body (no copy); the body lives as long as the request.
    parts.push({ name, ...(filename !== undefined ? { filename } : {}), contentType, data: body.subarray(headEnd + 4, next) });
    if (parts.length > maxParts) throw bad(`more than ${maxParts} parts`);
    at = next + 2;
  }
  return parts;
}
