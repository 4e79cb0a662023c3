/**
 * The review loop and the recipes (issue 10 items 4 and 5; docs/http-api.md "Review the
 * verdict, teach the recipe" and "Recipes"):
 *
 *   POST /api/inspections/{id}/review       { label: good | defect, note? }   operator, engineer
 *   POST /api/recipes/{id}/undo             back to the version before the last review   operator (own), engineer
 *   POST /api/recipes/{id}/relearn          { inspections } passes as boundary evidence  engineer
 *   GET  /api/recipes                       every recipe on disk
 *   GET  /api/recipes/{id}                  details: references, boundary, evidence, versions, reviews
 *   GET  /api/recipes/{id}/references/{name}  a reference image
 *   POST /api/recipes[?replace&unlabelled]  engineer: multipart (id, images…) or JSON { id, inspections }
 *
 * Uploads are checked here before they reach the recipe — size per image, the type sniffed
 * from the bytes (not the file name), dimensions from the header (images.maxPixels) — and
 * decoded by the desk (a truncated or undecodable file is refused there); nothing is written
 * unless every image passed.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { readImageHeader, sniffFormat } from '../capture/image-header.js';
import { checkPixelLimit, type ImageLimits } from '../capture/image-limits.js';
import { RECIPE_ID } from '../config/index.js';
import { AppError, ErrorCodes } from '../errors.js';
import type { Principal } from './access.js';
import { allowOnly, type HttpRoutes } from './http-server.js';
import { boundaryOf, parseMultipart } from './multipart.js';
import type { RecipeDesk, RecipeSource, UploadedImage } from './recipe-api.js';

export interface RecipeRoutesOptions {
  readonly desk: RecipeDesk;
  readonly limits: ImageLimits;
  /** http.maxUploadBytes: per image. */
  readonly maxUploadBytes: number;
  /** http.maxUploadImages. */
  readonly maxUploadImages: number;
}

/** The whole multipart body is held in memory: never more than this, whatever the settings. */
const MAX_BODY = 256 * 1024 * 1024;
const MAX_NOTE = 500;

const bad = (m: string) => new AppError(ErrorCodes.REQUEST_INVALID, m);

function principal(req: FastifyRequest): Principal {
  // Access (access.ts) has refused every /api request without one already.
  if (!req.principal) throw new AppError(ErrorCodes.UNAUTHORIZED, 'sign in first');
  return req.principal;
}

const MEDIA = new Set(['application/octet-stream', '']);

/** One uploaded file: size, type sniffed from its bytes, dimensions from its header. */
export function checkUpload(img: UploadedImage, o: Pick<RecipeRoutesOptions, 'limits' | 'maxUploadBytes'>): void {
  const origin = `upload ${img.name}`;
  if (img.bytes.byteLength > o.maxUploadBytes) {
    throw new AppError(ErrorCodes.PAYLOAD_TOO_LARGE, `${origin}: ${img.bytes.byteLength} bytes, more than http.maxUploadBytes ${o.maxUploadBytes}`);
  }
  if (img.bytes.byteLength === 0) throw new AppError(ErrorCodes.IMAGE_EMPTY, `${origin}: empty file`);
  const declared = img.contentType.split(';')[0].trim();
  const format = sniffFormat(img.bytes);
  if (!format || (!declared.startsWith('image/') && !MEDIA.has(declared))) {
    throw new AppError(ErrorCodes.UNSUPPORTED_MEDIA_TYPE, `${origin}: not an image (${declared || 'no type'}; PNG, JPEG, BMP, TIFF, WebP or PNM expected)`);
  }
  const header = readImageHeader(img.bytes, origin);
  checkPixelLimit(header.width, header.height, o.limits, origin);
}

function recipeSource(req: FastifyRequest, o: RecipeRoutesOptions): { id: string; source: RecipeSource } {
  const header = String(req.headers['content-type'] ?? '');
  if (header.toLowerCase().startsWith('multipart/form-data')) {
    if (!Buffer.isBuffer(req.body)) throw bad('multipart body expected');
    // The boundary is case-sensitive (Chromium's mixes cases): read it from the header as sent.
    const parts = parseMultipart(req.body, boundaryOf(header), o.maxUploadImages + 16);
    const id = parts.find((p) => p.name === 'id' && p.filename === undefined)?.data.toString('utf8').trim();
    const files = parts.filter((p) => p.name === 'images' && p.filename !== undefined && p.data.byteLength + (p.filename?.length ?? 0) > 0);
    if (!id) throw bad('form field "id" (the recipe id) is missing');
    if (files.length === 0) throw new AppError(ErrorCodes.RECIPE_NO_REFERENCES, 'no images: send at least one good image in the "images" field');
    if (files.length > o.maxUploadImages) throw new AppError(ErrorCodes.PAYLOAD_TOO_LARGE, `${files.length} images, more than http.maxUploadImages ${o.maxUploadImages}`);
    const images = files.map((f) => ({ name: f.filename || 'image', contentType: f.contentType, bytes: f.data }));
    for (const img of images) checkUpload(img, o);
    return { id, source: { images } };
  }
  const body = req.body as { id?: unknown; inspections?: unknown } | null | undefined;
  const ids = body?.inspections;
  if (typeof body?.id !== 'string' || !Array.isArray(ids) || ids.length === 0 || !ids.every((x) => typeof x === 'string' && x.length > 0 && x.length <= 200)) {
    throw bad('body: multipart/form-data with "id" and "images", or JSON { "id": "<recipe id>", "inspections": ["<inspection id>", …] }');
  }
  if (ids.length > o.maxUploadImages) throw new AppError(ErrorCodes.PAYLOAD_TOO_LARGE, `${ids.length} inspections, more than http.maxUploadImages ${o.maxUploadImages}`);
  return { id: body.id, source: { inspections: [...new Set(ids as string[])] } };
}

export function recipeRoutes(o: RecipeRoutesOptions): HttpRoutes {
  const bodyLimit = Math.min(MAX_BODY, o.maxUploadBytes * o.maxUploadImages + 64 * 1024);
  return {
    name: 'recipes',
    register(app: FastifyInstance) {
      // The body as bytes, bounded by the route's bodyLimit (413 beyond it, before parsing).
      app.addContentTypeParser('multipart/form-data', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

      app.post<{ Params: { id: string }; Body: unknown }>('/api/inspections/:id/review', async (req) => {
        const body = req.body as { label?: unknown; note?: unknown } | null | undefined;
        const label = body?.label;
        if (label !== 'good' && label !== 'defect') throw bad('body: { "label": "good" | "defect", "note"?: string }');
        const note = body?.note;
        if (note !== undefined && note !== null && (typeof note !== 'string' || note.length > MAX_NOTE)) throw bad(`note: a string of at most ${MAX_NOTE} characters`);
        return o.desk.review(req.params.id, label, typeof note === 'string' && note.trim() !== '' ? note.trim() : null, principal(req));
      });

      app.post<{ Params: { id: string } }>('/api/recipes/:id/undo', async (req) => o.desk.undo(req.params.id, principal(req)));
      app.post<{ Params: { id: string }; Body: unknown }>('/api/recipes/:id/relearn', { config: { role: 'engineer' } }, async (req) => {
        const ids = (req.body as { inspections?: unknown } | null)?.inspections;
        if (!Array.isArray(ids) || ids.length === 0 || !ids.every((x) => typeof x === 'string')) throw bad('body: JSON { "inspections": ["<id of a pass>", …] }');
        if (ids.length > o.maxUploadImages) throw new AppError(ErrorCodes.PAYLOAD_TOO_LARGE, `${ids.length} inspections, more than http.maxUploadImages ${o.maxUploadImages}`);
        return o.desk.relearn(req.params.id, [...new Set(ids as string[])], principal(req));
      });

      app.get('/api/recipes', async (_req, reply) => {
        reply.header('Cache-Control', 'no-store');
        return o.desk.list();
      });

      app.get<{ Params: { id: string } }>('/api/recipes/:id', async (req, reply) => {
        reply.header('Cache-Control', 'no-store');
        return o.desk.get(req.params.id);
      });

      app.get<{ Params: { id: string; name: string } }>('/api/recipes/:id/references/:name', async (req, reply) => {
        const ref = await o.desk.reference(req.params.id, req.params.name);
        // A reference's bytes never change (its name carries its index; a new version adds files).
        return reply.type(ref.type).header('Cache-Control', 'private, max-age=3600').send(Buffer.from(ref.bytes.buffer, ref.bytes.byteOffset, ref.bytes.byteLength));
      });

      app.post<{ Querystring: { replace?: string; unlabelled?: string } }>('/api/recipes', { config: { role: 'engineer' }, bodyLimit }, async (req, reply) => {
        const { id, source } = recipeSource(req, o);
        if (!RECIPE_ID.test(id)) throw new AppError(ErrorCodes.RECIPE_INVALID, `recipe id "${id}" must match ${RECIPE_ID} (lower-case letters, digits, - and _)`);
        const replace = req.query.replace === 'true' || req.query.replace === '1';
        const unlabelled = req.query.unlabelled === 'true' || req.query.unlabelled === '1';
        const recipe = await o.desk.create(id, source, { replace, unlabelled, by: principal(req) });
        return reply.code(201).header('Cache-Control', 'no-store').send(recipe);
      });

      allowOnly(app, '/api/inspections/:id/review', ['POST']);
      allowOnly(app, '/api/recipes/:id/undo', ['POST']);
      allowOnly(app, '/api/recipes/:id/relearn', ['POST']);
      allowOnly(app, '/api/recipes', ['GET', 'POST']);
      allowOnly(app, '/api/recipes/:id', ['GET']);
      allowOnly(app, '/api/recipes/:id/references/:name', ['GET']);
    },
  };
}
