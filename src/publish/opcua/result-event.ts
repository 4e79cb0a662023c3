/**
 * ResultReadyEventType (OPC 40100-1 §10.3) raised by a camera's ResultManagement for every
 * verdict, and for a job that could not produce one.
 *
 * ResultState (§12.19) is the state of the *processing*, not of the part: 1 Completed for any
 * verdict (pass or fail), 4 Failed when the inspection itself failed (camera down, busy).
 * Pass/fail is our verdict and travels in ResultContent (BaseDataType[]): one String, the
 * verdict as JSON — the judge's decision as is, never re-thresholded (DESIGN principle 5):
 *
 *   { id, cameraId, pass, score, threshold, confidence, defectCount,
 *     locations: [{ grid, box: {x,y,width,height}, area, peak }],
 *     recipe: {id,version}, model: {id,version}, capturedAt, decidedAt (ISO 8601), totalMs }
 *
 * The structured Ids: ResultId = the inspection id, JobId = the job that asked for it,
 * InternalRecipeId = the recipe that decided, InternalConfigurationId = the model.
 */
import { DataType, Variant, VariantArrayType, type VariantLike } from 'node-opcua';
import type { Verdict } from '../../judge/verdict.js';
import type { JobRequest, VisionSystem } from './vision-system.js';

const RESULT_STATE = { completed: 1, failed: 4 } as const;

export function verdictContent(v: Verdict): string {
  return JSON.stringify({
    id: v.id,
    cameraId: v.cameraId,
    pass: v.pass,
    score: v.score,
    threshold: v.threshold,
    confidence: v.confidence,
    defectCount: v.locations.length,
    locations: v.locations.map((l) => ({ grid: l.grid, box: l.box, area: l.area, peak: l.peak })),
    recipe: v.recipe,
    model: v.model,
    capturedAt: new Date(v.capturedAt).toISOString(),
    decidedAt: new Date(v.decidedAt).toISOString(),
    totalMs: v.timings.totalMs,
  });
}

export type JobOutcome =
  | { readonly verdict: Verdict; readonly jobId: string; readonly request?: JobRequest }
  | {
      readonly failure: string;
      readonly jobId: string;
      readonly request?: JobRequest;
      readonly active: { recipe: { id: string; version: string }; model: { id: string; version: string } };
    };

export function raiseResultReady(vision: VisionSystem, outcome: JobOutcome): void {
  const ext = (type: string, fields: Record<string, unknown>): VariantLike => ({
    dataType: DataType.ExtensionObject,
    value: vision.extensionObject(type, fields),
  });
  const event: Record<string, Variant> = {};
  const verdict = 'verdict' in outcome ? outcome.verdict : undefined;
  const active = verdict ?? ('active' in outcome ? outcome.active : undefined);
  const now = new Date();
  const data: Record<string, VariantLike> = {
    resultId: ext('ResultIdDataType', { id: verdict?.id ?? `${outcome.jobId}-failed` }),
    jobId: ext('JobIdDataType', { id: outcome.jobId }),
    resultState: { dataType: DataType.Int32, value: verdict ? RESULT_STATE.completed : RESULT_STATE.failed },
    isPartial: { dataType: DataType.Boolean, value: false },
    creationTime: { dataType: DataType.DateTime, value: verdict ? new Date(verdict.decidedAt) : now },
    message: {
      dataType: DataType.LocalizedText,
      value: { text: verdict ? `${verdict.pass ? 'pass' : 'fail'} ${verdict.id}` : `job ${outcome.jobId} failed: ${'failure' in outcome ? outcome.failure : ''}` },
    },
    severity: { dataType: DataType.UInt16, value: verdict ? (verdict.pass ? 100 : 500) : 700 },
    resultContent: {
      dataType: DataType.Variant,
      arrayType: VariantArrayType.Array,
      value: verdict ? [new Variant({ dataType: DataType.String, value: verdictContent(verdict) })] : [],
    },
  };
  if (active) {
    data.internalRecipeId = ext('RecipeIdInternalDataType', { id: active.recipe.id, version: active.recipe.version });
    data.internalConfigurationId = ext('ConfigurationIdDataType', { id: active.model.id, version: active.model.version });
  }
  if (verdict) {
    data.processingTimes = ext('ProcessingTimesDataType', {
      startTime: new Date(verdict.capturedAt),
      endTime: new Date(verdict.decidedAt),
      processingDuration: verdict.timings.totalMs,
    });
  }
  if (outcome.request?.measId) data.measId = ext('MeasIdDataType', { id: outcome.request.measId });
  if (outcome.request?.partId) data.partId = ext('PartIdDataType', { id: outcome.request.partId });
  const eventType = vision.resultManagement.addressSpace.findEventType('ResultReadyEventType', vision.namespaceIndex);
  if (!eventType) throw new Error('ResultReadyEventType missing from the Machine Vision nodeset');
  for (const [key, value] of Object.entries(data)) event[key] = new Variant(value);
  vision.resultManagement.raiseEvent(eventType, event);
}
