/**
 * History and single inspections (issue 10 item 2; docs/http-api.md "History"):
 *
 *   GET /api/inspections?camera=&pass=&recipe=&from=&to=&before=&limit=   newest first, paged by seq
 *   GET /api/inspections/{id}                       { inspection, verdict[, reviews] }
 *   GET /api/inspections/{id}/record.json           the stored row, as a download
 *   GET /api/inspections/{id}/frame.jpg | mask.png | map.png
 *
 * Images come from the live cache while it holds the inspection (encoded on request), else
 * from the record's files; an inspection with neither is 404 E_INSPECTION_UNKNOWN. They never
 * change once written, so browsers may cache them.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { InspectionRecord } from '../archive/inspection-record.js';
import { MAX_PAGE, type HistoryFilter } from '../archive/record-queries.js';
import type { RecordedInspection, RecordedVerdict } from '../archive/record-schema.js';
import { AppError, ErrorCodes } from '../errors.js';
import { allowOnly, type HttpRoutes } from './http-server.js';
import { liveSummary, recordedSummary, type InspectionSummary } from './inspection-view.js';
import type { LiveCache, LiveEntry } from './live-cache.js';

export interface InspectionRoutesOptions {
  readonly record: Pick<InspectionRecord, 'history' | 'get' | 'filePath'>;
  readonly live: LiveCache;
  /** Reviews of an inspection (the review loop adds them); omitted from the answer when absent. */
  readonly reviews?: (inspectionId: string) => readonly unknown[];
}

type IdParams = { Params: { id: string } };
type Query = Record<string, string | undefined>;

const bad = (message: string) => new AppError(ErrorCodes.REQUEST_INVALID, message);

/** Epoch ms from a number or an ISO 8601 date. */
function timeParam(name: string, v: string | undefined): number | undefined {
  if (v === undefined || v === '') return undefined;
  const t = /^-?\d+$/.test(v) ? Number(v) : Date.parse(v);
  if (!Number.isFinite(t)) throw bad(`${name}: not a time (epoch ms or ISO 8601): ${v}`);
  return t;
}

function intParam(name: string, v: string | undefined, min: number, max: number): number | undefined {
  if (v === undefined || v === '') return undefined;
  if (!/^\d+$/.test(v) || Number(v) < min || Number(v) > max) throw bad(`${name}: an integer ${min} … ${max}, not ${v}`);
  return Number(v);
}

function textParam(name: string, v: string | undefined): string | undefined {
  if (v === undefined || v === '') return undefined;
  if (v.length > 200) throw bad(`${name}: at most 200 characters`);
  return v;
}

export function historyFilter(q: Query): HistoryFilter {
  const pass = q.pass === undefined || q.pass === '' ? undefined : ({ true: true, pass: true, false: false, fail: false } as Record<string, boolean>)[q.pass];
  if (q.pass !== undefined && q.pass !== '' && pass === undefined) throw bad(`pass: true or false, not ${q.pass}`);
  const f: { -readonly [K in keyof HistoryFilter]: HistoryFilter[K] } = {};
  const camera = textParam('camera', q.camera);
  const recipe = textParam('recipe', q.recipe);
  const from = timeParam('from', q.from);
  const to = timeParam('to', q.to);
  const before = intParam('before', q.before, 1, Number.MAX_SAFE_INTEGER);
  const limit = intParam('limit', q.limit, 1, MAX_PAGE);
  if (camera !== undefined) f.camera = camera;
  if (recipe !== undefined) f.recipe = recipe;
  if (pass !== undefined) f.pass = pass;
  if (from !== undefined) f.from = from;
  if (to !== undefined) f.to = to;
  if (before !== undefined) f.before = before;
  if (limit !== undefined) f.limit = limit;
  return f;
}

const IMMUTABLE = 'private, max-age=86400, immutable';

export function inspectionRoutes(o: InspectionRoutesOptions): HttpRoutes {
  const unknown = (id: string) => new AppError(ErrorCodes.INSPECTION_UNKNOWN, `inspection ${id} is not in the record nor in memory`);

  function find(id: string): { recorded: RecordedInspection | undefined; live: LiveEntry | undefined } {
    return { recorded: o.record.get(id), live: o.live.get(id) };
  }

  function summaryOf(recorded: RecordedInspection | undefined, live: LiveEntry | undefined): InspectionSummary | undefined {
    if (recorded) return recordedSummary(recorded, live?.verdict);
    return live ? liveSummary(live.verdict, live.seq) : undefined;
  }

  async function sendFile(reply: FastifyReply, relative: string, type: string): Promise<FastifyReply> {
    const path = o.record.filePath(relative);
    const st = await stat(path).catch(() => undefined);
    if (!st?.isFile()) throw new AppError(ErrorCodes.INSPECTION_UNKNOWN, `the record's file ${relative} is gone (retention)`);
    return reply.type(type).header('Content-Length', st.size).header('Cache-Control', IMMUTABLE).send(createReadStream(path));
  }

  return {
    name: 'inspections',
    register(app: FastifyInstance) {
      app.get<{ Querystring: Query }>('/api/inspections', async (req, reply) => {
        const page = o.record.history(historyFilter(req.query));
        reply.header('Cache-Control', 'no-store');
        return { items: page.items.map((r) => recordedSummary(r, o.live.get(r.id)?.verdict)), total: page.total, next: page.next };
      });

      app.get<IdParams>('/api/inspections/:id', async (req, reply) => {
        const { recorded, live } = find(req.params.id);
        const inspection = summaryOf(recorded, live);
        if (!inspection) throw unknown(req.params.id);
        let verdict: RecordedVerdict;
        if (recorded) verdict = recorded.verdict;
        else {
          const { maskPng: _m, map, ...rest } = live!.verdict;
          verdict = map ? { ...rest, crop: map.crop } : rest;
        }
        reply.header('Cache-Control', 'no-store');
        return { inspection, verdict, files: recorded?.files ?? null, ...(o.reviews ? { reviews: o.reviews(req.params.id) } : {}) };
      });

      app.get<IdParams>('/api/inspections/:id/record.json', async (req, reply) => {
        const recorded = o.record.get(req.params.id);
        if (!recorded) throw unknown(req.params.id);
        const name = `${req.params.id.replace(/[^A-Za-z0-9._-]/g, '_')}.json`;
        return reply
          .type('application/json; charset=utf-8')
          .header('Content-Disposition', `attachment; filename="${name}"`)
          .header('Cache-Control', 'no-store')
          .send(`${JSON.stringify(recorded, null, 2)}\n`);
      });

      app.get<IdParams>('/api/inspections/:id/frame.jpg', async (req, reply) => {
        const { recorded, live } = find(req.params.id);
        if (live) return reply.type('image/jpeg').header('Cache-Control', IMMUTABLE).send(await o.live.jpeg(live));
        if (recorded?.files.frame) return sendFile(reply, recorded.files.frame, 'image/jpeg');
        throw new AppError(ErrorCodes.INSPECTION_UNKNOWN, recorded ? `inspection ${req.params.id}: its frame was not saved (archive.saveFrames)` : `inspection ${req.params.id} is unknown`);
      });

      app.get<IdParams>('/api/inspections/:id/mask.png', async (req, reply) => {
        const { recorded, live } = find(req.params.id);
        const m = live?.verdict.maskPng;
        if (m && m.byteLength > 0) return reply.type('image/png').header('Cache-Control', IMMUTABLE).send(Buffer.from(m.buffer, m.byteOffset, m.byteLength));
        if (recorded?.files.mask) return sendFile(reply, recorded.files.mask, 'image/png');
        throw new AppError(ErrorCodes.INSPECTION_UNKNOWN, `inspection ${req.params.id} has no mask (it passed, or is unknown)`);
      });

      app.get<IdParams>('/api/inspections/:id/map.png', async (req, reply) => {
        const { recorded, live } = find(req.params.id);
        const png = live ? o.live.mapPng(live) : undefined;
        if (png) return reply.type('image/png').header('Cache-Control', IMMUTABLE).send(png);
        if (recorded?.files.map) return sendFile(reply, recorded.files.map, 'image/png');
        throw new AppError(ErrorCodes.INSPECTION_UNKNOWN, `inspection ${req.params.id} has no saved anomaly map (it is saved with the frame)`);
      });

      for (const url of ['/api/inspections', '/api/inspections/:id', '/api/inspections/:id/record.json', '/api/inspections/:id/frame.jpg', '/api/inspections/:id/mask.png', '/api/inspections/:id/map.png']) {
        allowOnly(app, url, ['GET']);
      }
    },
  };
}
