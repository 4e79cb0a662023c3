/**
 * The queued MQTT messages of one verdict (pure): the inspection JSON, then — for a failed
 * frame with a mask, when masks are published — the mask PNG, linked to the inspection:
 *
 * - MQTT 5: `<prefix>/<camera>/mask`, Correlation Data = inspection id, User Properties
 *   inspectionId/camera, Content Type image/png.
 * - MQTT 3.1.1 has no properties: `<prefix>/<camera>/mask/<inspectionId>`.
 * Either way the inspection JSON names the mask topic and size (`mask`), and a subscription
 * to `<prefix>/<camera>/mask/#` receives both forms (`#` also matches the parent level).
 */
import type { Verdict } from '../../judge/verdict.js';
import { inspectionMessage } from './payloads.js';
import type { OutboxMessage } from './outbox-message.js';
import type { Topics } from './topics.js';

export function verdictMessages(
  verdict: Verdict, topics: Topics, options: { protocolVersion: 4 | 5; publishMasks: boolean },
): [OutboxMessage] | [OutboxMessage, OutboxMessage] {
  const cam = verdict.cameraId;
  const v5 = options.protocolVersion === 5;
  const png = verdict.maskPng;
  const mask = options.publishMasks && !verdict.pass && png !== undefined && png.byteLength > 0 ? png : undefined;
  const maskTopic = mask ? (v5 ? topics.mask(cam) : topics.maskOf(cam, verdict.id)) : '';
  const link = { inspectionId: verdict.id, camera: cam };
  const json = inspectionMessage(verdict, mask ? { topic: maskTopic, bytes: mask.byteLength } : null);
  const inspection: OutboxMessage = {
    topic: topics.inspection(cam),
    payload: Buffer.from(JSON.stringify(json)),
    ...(v5 ? { properties: { contentType: 'application/json', payloadFormatIndicator: true, userProperties: link } } : {}),
  };
  if (!mask) return [inspection];
  return [
    inspection,
    {
      topic: maskTopic,
      payload: mask, // the verdict's own bytes, never copied
      ...(v5 ? { properties: { contentType: 'image/png', correlationData: Buffer.from(verdict.id), userProperties: link } } : {}),
    },
  ];
}
