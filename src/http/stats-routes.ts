/**
 * The numbers page (issue 10 item 6; docs/http-api.md "Numbers"):
 *
 *   GET /api/stats/yield?camera=&recipe=&hours=24   inspections per hour (one aggregate query), gaps filled
 *   GET /api/stats/scores?recipe=&limit=500         the judge's scores of the recipe version's newest
 *                                                   passes, its boundary, its calibration normal scores
 *                                                   and the drift state (src/judge/drift.ts)
 *   GET /api/eval/latest                            <state>/eval/latest.json, written by
 *                                                   `anomalygpt-edge eval DIR --json <state>/eval/latest.json`
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { InspectionRecord } from '../archive/inspection-record.js';
import { AppError, ErrorCodes } from '../errors.js';
import { allowOnly, type HttpRoutes } from './http-server.js';
import type { DriftSource } from './live-routes.js';

export interface StatsRecipe {
  readonly version: string;
  readonly boundary: number;
  readonly normalScores: readonly number[];
}

export interface StatsRoutesOptions {
  readonly record: Pick<InspectionRecord, 'yieldPerHour' | 'passScores'>;
  /** A loaded recipe's boundary and calibration evidence. */
  readonly recipe: (id: string) => StatsRecipe | undefined;
  /** The recipes the cameras use now (the default when none is asked for). */
  readonly activeRecipes: () => readonly string[];
  readonly drift?: DriftSource;
  readonly stateDirectory: string;
  readonly now?: () => number;
}

const HOUR_MS = 3_600_000;
const MAX_EVAL_BYTES = 32 * 1024 * 1024;

function intParam(name: string, v: string | undefined, def: number, min: number, max: number): number {
  if (v === undefined || v === '') return def;
  if (!/^\d+$/.test(v) || Number(v) < min || Number(v) > max) throw new AppError(ErrorCodes.REQUEST_INVALID, `${name}: an integer ${min} … ${max}, not ${v}`);
  return Number(v);
}

export function evalReportPath(stateDirectory: string): string {
  return join(stateDirectory, 'eval', 'latest.json');
}

export function statsRoutes(o: StatsRoutesOptions): HttpRoutes {
  const now = o.now ?? Date.now;
  return {
    name: 'stats',
    register(app: FastifyInstance) {
      app.get<{ Querystring: Record<string, string | undefined> }>('/api/stats/yield', async (req, reply) => {
        const hours = intParam('hours', req.query.hours, 24, 1, 24 * 31);
        const to = Math.floor(now() / HOUR_MS) * HOUR_MS + HOUR_MS;
        const from = to - hours * HOUR_MS;
        const filter = { from, to, ...(req.query.camera ? { camera: req.query.camera } : {}), ...(req.query.recipe ? { recipe: req.query.recipe } : {}) };
        const got = new Map(o.record.yieldPerHour(filter).map((b) => [b.hour, b]));
        const buckets = [];
        for (let h = from; h < to; h += HOUR_MS) buckets.push(got.get(h) ?? { hour: h, inspected: 0, passed: 0, failed: 0 });
        reply.header('Cache-Control', 'no-store');
        return buckets;
      });

      app.get<{ Querystring: Record<string, string | undefined> }>('/api/stats/scores', async (req, reply) => {
        const id = req.query.recipe || o.activeRecipes()[0];
        if (!id) throw new AppError(ErrorCodes.REQUEST_INVALID, 'recipe: which recipe?');
        const r = o.recipe(id);
        if (!r) throw new AppError(ErrorCodes.RECIPE_NOT_FOUND, `recipe ${id} is not loaded`);
        const limit = intParam('limit', req.query.limit, 500, 1, 5000);
        const passes = o.record.passScores(id, limit, r.version);
        reply.header('Cache-Control', 'no-store');
        return {
          recipe: id,
          version: r.version,
          threshold: r.boundary,
          passes: passes.scores,
          references: r.normalScores,
          drift: o.drift?.report(id) ?? null,
        };
      });

      app.get('/api/eval/latest', async (_req, reply) => {
        const file = evalReportPath(o.stateDirectory);
        const st = await stat(file).catch(() => undefined);
        if (!st?.isFile()) {
          throw new AppError(ErrorCodes.NOT_FOUND, `no evaluation report yet: run \`anomalygpt-edge eval DIR --shots K --json ${file}\` (README "Technician's console")`);
        }
        if (st.size > MAX_EVAL_BYTES) throw new AppError(ErrorCodes.UNEXPECTED, `${file} is ${st.size} bytes (at most ${MAX_EVAL_BYTES})`);
        const text = await readFile(file, 'utf8');
        try {
          JSON.parse(text);
        } catch {
          throw new AppError(ErrorCodes.UNEXPECTED, `${file} is not JSON`);
        }
        return reply.type('application/json; charset=utf-8').header('Cache-Control', 'no-store').header('Last-Modified', st.mtime.toUTCString()).send(text);
      });

      allowOnly(app, '/api/stats/yield', ['GET']);
      allowOnly(app, '/api/stats/scores', ['GET']);
      allowOnly(app, '/api/eval/latest', ['GET']);
    },
  };
}
