/**
 * The JSON published on `<prefix>/<camera>/inspection`, as a TypeBox schema: the source of
 * docs/mqtt-inspection.schema.json (a test checks that the file is exactly this schema) and
 * the validator the tests run on real messages. Version the `schema` field on any breaking
 * change so SCADA-side parsers can tell.
 */
import { Type, type Static } from '@sinclair/typebox';

const Strict = { additionalProperties: false } as const;
const IsoTime = Type.String({
  pattern: '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{3}Z$',
  description: 'UTC time, ISO 8601 with milliseconds',
});
const Ms = Type.Number({ minimum: 0 });
const GRID_WORDS = ['top left', 'top', 'top right', 'left', 'center', 'right', 'bottom left', 'bottom', 'bottom right'] as const;
const GridWord = Type.Union(GRID_WORDS.map((w) => Type.Literal(w)), { description: '3×3 grid word of a region centroid (SPEC §7)' });
const Versioned = Type.Object({ id: Type.String({ minLength: 1 }), version: Type.String() }, Strict);

export const INSPECTION_SCHEMA_ID = 'anomalygpt-edge/inspection@1';

export const InspectionMessageSchema = Type.Object(
  {
    schema: Type.Literal(INSPECTION_SCHEMA_ID),
    id: Type.String({ minLength: 1, description: 'inspection id `<camera>-<capturedAt>-<seq>`; also the mask link' }),
    camera: Type.String({ minLength: 1 }),
    seq: Type.Integer({ minimum: 0, description: 'frame sequence number of the camera' }),
    time: { ...IsoTime, description: 'capture time of the frame (UTC, ISO 8601)' },
    decidedAt: { ...IsoTime, description: 'time the judge decided (UTC, ISO 8601)' },
    pass: Type.Boolean({ description: 'the decision (see decidedBy); sinks never re-threshold it' }),
    score: Type.Number({ description: 'the decider’s score: the judge’s image anomaly score, or P(yes) when decidedBy is llm; fail ⇔ score > threshold' }),
    threshold: Type.Number({ description: 'the decider’s boundary: the recipe’s, or 0.5 when decidedBy is llm' }),
    confidence: Type.Number({ minimum: 0, maximum: 1, description: 'confidence in the decision, 0.5 … 1' }),
    defectCount: Type.Integer({ minimum: 0, description: 'number of defect regions (= locations.length)' }),
    gridWords: Type.Array(GridWord, { uniqueItems: true, description: 'distinct grid words of the regions, in region order' }),
    locations: Type.Array(
      Type.Object(
        {
          box: Type.Object({ x: Type.Number(), y: Type.Number(), width: Type.Number({ minimum: 0 }), height: Type.Number({ minimum: 0 }) }, Strict),
          centroid: Type.Object({ x: Type.Number(), y: Type.Number() }, Strict),
          grid: GridWord,
          area: Type.Number({ minimum: 0, description: 'frame pixels' }),
          peak: Type.Number({ description: 'highest anomaly score inside the region' }),
        },
        Strict,
      ),
      { description: 'defect regions in frame pixels' },
    ),
    recipe: Versioned,
    model: Versioned,
    timings: Type.Object({ preprocessMs: Ms, encoderMs: Ms, mapMs: Ms, judgeMs: Ms, totalMs: Ms }, Strict),
    frame: Type.Object({ width: Type.Integer({ minimum: 1 }), height: Type.Integer({ minimum: 1 }) }, Strict),
    decidedBy: Type.Union([Type.Literal('judge'), Type.Literal('llm')], { description: 'who made the decision: the few-shot judge, or the AnomalyGPT LLM (assistant.mode and assistant.overrule)' }),
    judge: Type.Optional(
      Type.Object(
        {
          pass: Type.Boolean({ description: 'what the few-shot judge decided' }),
          score: Type.Number({ description: 'the judge’s image anomaly score' }),
          threshold: Type.Number({ description: 'the recipe’s decision boundary' }),
          confidence: Type.Number({ minimum: 0, maximum: 1 }),
          model: Versioned,
        },
        { ...Strict, description: 'the judge’s own figures, whoever decided' },
      ),
    ),
    llm: Type.Optional(
      Type.Object(
        {
          pYes: Type.Number({ minimum: 0, maximum: 1, description: 'the LLM’s P("Yes, there is an anomaly"); ≥ 0.5 fails the part' }),
          judgePass: Type.Boolean({ description: 'what the judge decided on its own' }),
          visionMs: Ms,
          prefillMs: Ms,
        },
        Strict,
      ),
    ),
    mask: Type.Union(
      [
        Type.Null(),
        Type.Object(
          {
            topic: Type.String({ minLength: 1, description: 'where the PNG is published' }),
            bytes: Type.Integer({ minimum: 1 }),
            contentType: Type.Literal('image/png'),
          },
          Strict,
        ),
      ],
      { description: 'the defect mask PNG (frame size, 0/255), published separately; null when none is published' },
    ),
  },
  {
    ...Strict,
    $id: 'anomalygpt-edge/mqtt-inspection@1',
    title: 'anomalygpt-edge MQTT inspection message',
    description: 'Payload of <prefix>/<camera>/inspection (QoS 1, not retained, UTF-8 JSON).',
  },
);

export type InspectionMessage = Static<typeof InspectionMessageSchema>;

/** The schema as the JSON Schema document in docs/ (draft 2020-12). */
export function inspectionJsonSchema(): Record<string, unknown> {
  const plain = JSON.parse(JSON.stringify(InspectionMessageSchema)) as Record<string, unknown>;
  const { $id, title, description, ...rest } = plain;
  return { $schema: 'https://json-schema.org/draft/2020-12/schema', $id, title, description, ...rest };
}
