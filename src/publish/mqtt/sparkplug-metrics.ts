/**
 * Sparkplug B metrics of the edge node and of one device per camera (pure). BIRTH messages
 * carry every metric; DATA messages only the metrics whose value changed since the last
 * BIRTH/DATA ("report by exception", Sparkplug 3.0 §6.4.x). Verdict metrics are timestamped
 * with the frame's capture time, the rest with the time they were read.
 */
import type { Verdict } from '../../judge/verdict.js';
import type { CameraSnapshot } from '../control.js';

export type MetricType = 'Boolean' | 'String' | 'Double' | 'UInt32' | 'UInt64' | 'DateTime';

export interface Metric {
  readonly name: string;
  readonly type: MetricType;
  readonly value: boolean | string | number | null;
  readonly timestamp: number;
}

export const NODE_METRIC = {
  bdSeq: 'bdSeq',
  rebirth: 'Node Control/Rebirth',
} as const;

export const DEVICE_CONTROL = {
  trigger: 'Device Control/Trigger',
  recipe: 'Device Control/Recipe',
} as const;

export function nodeMetrics(bdSeq: number, mqtt: { queued: number; dropped: number }, now: number): Metric[] {
  return [
    { name: NODE_METRIC.bdSeq, type: 'UInt64', value: bdSeq, timestamp: now },
    { name: NODE_METRIC.rebirth, type: 'Boolean', value: false, timestamp: now },
    { name: 'Node Info/Software', type: 'String', value: 'anomalygpt-edge', timestamp: now },
    { name: 'MQTT/Queued', type: 'UInt64', value: mqtt.queued, timestamp: now },
    { name: 'MQTT/Dropped', type: 'UInt64', value: mqtt.dropped, timestamp: now },
  ];
}

export function deviceMetrics(s: CameraSnapshot, last: Verdict | undefined, now: number): Metric[] {
  const at = last?.capturedAt ?? now;
  const v = <T>(f: (x: Verdict) => T): T | null => (last ? f(last) : null);
  return [
    { name: 'Inspection/Id', type: 'String', value: v((x) => x.id), timestamp: at },
    { name: 'Inspection/Time', type: 'DateTime', value: v((x) => x.capturedAt), timestamp: at },
    { name: 'Inspection/Pass', type: 'Boolean', value: v((x) => x.pass), timestamp: at },
    { name: 'Inspection/Score', type: 'Double', value: v((x) => x.score), timestamp: at },
    { name: 'Inspection/Threshold', type: 'Double', value: v((x) => x.threshold), timestamp: at },
    { name: 'Inspection/Confidence', type: 'Double', value: v((x) => x.confidence), timestamp: at },
    { name: 'Inspection/DefectCount', type: 'UInt32', value: v((x) => x.locations.length), timestamp: at },
    { name: 'Inspection/Locations', type: 'String', value: v((x) => [...new Set(x.locations.map((l) => l.grid))].join(', ')), timestamp: at },
    { name: 'Camera/Health', type: 'String', value: s.health, timestamp: now },
    { name: 'Camera/Busy', type: 'Boolean', value: s.busy, timestamp: now },
    { name: 'Camera/TriggerMode', type: 'String', value: s.triggerMode, timestamp: now },
    { name: 'Recipe/Id', type: 'String', value: s.recipe.id, timestamp: now },
    { name: 'Recipe/Version', type: 'String', value: s.recipe.version, timestamp: now },
    { name: 'Model/Id', type: 'String', value: s.model.id, timestamp: now },
    { name: 'Model/Version', type: 'String', value: s.model.version, timestamp: now },
    { name: 'Counters/Inspected', type: 'UInt64', value: s.counters.inspected, timestamp: now },
    { name: 'Counters/Passed', type: 'UInt64', value: s.counters.passed, timestamp: now },
    { name: 'Counters/Failed', type: 'UInt64', value: s.counters.failed, timestamp: now },
    { name: 'Counters/Dropped', type: 'UInt64', value: s.counters.dropped, timestamp: now },
    { name: 'Counters/Errors', type: 'UInt64', value: s.counters.errors, timestamp: now },
    // Writable through DCMD (a host application's "write"): trigger an inspection, select a recipe.
    { name: DEVICE_CONTROL.trigger, type: 'Boolean', value: false, timestamp: now },
    { name: DEVICE_CONTROL.recipe, type: 'String', value: s.recipe.id, timestamp: now },
  ];
}

/**
 * The metrics whose value differs from `sent` (name → last value sent), and records them as
 * sent. A BIRTH passes an empty map: everything is "changed".
 */
export function changedMetrics(sent: Map<string, unknown>, metrics: readonly Metric[]): Metric[] {
  const out: Metric[] = [];
  for (const m of metrics) {
    if (sent.has(m.name) && Object.is(sent.get(m.name), m.value)) continue;
    sent.set(m.name, m.value);
    out.push(m);
  }
  return out;
}
