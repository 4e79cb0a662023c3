import t from 'tap';
import { readFile } from 'node:fs/promises';
import { Value } from '@sinclair/typebox/value';
import type { Verdict } from '../../../src/judge/verdict.js';
import { InspectionMessageSchema, inspectionJsonSchema } from '../../../src/publish/mqtt/inspection-schema.js';
import { Mosquitto, mosquittoMissing } from '../../../tools/support/mosquitto.js';
import { Recorder, TestCamera, TestControl, makePublisher, mqttConfig, spawnPublisher, tempDir, until } from './fixtures.js';

const missing = mosquittoMissing();
if (missing) t.plan(0, missing);

const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47]);

t.test('docs/mqtt-inspection.schema.json is exactly the schema the code publishes by', async (t) => {
  const file = JSON.parse(await readFile(new URL('../../../docs/mqtt-inspection.schema.json', import.meta.url), 'utf8'));
  t.same(file, inspectionJsonSchema());
});

t.test('MQTT 5: inspections, masks linked by properties, retained state and status', async (t) => {
  const broker = await Mosquitto.start();
  const state = tempDir();
  t.teardown(async () => { await broker.close(); state.remove(); });
  const control = new TestControl([new TestCamera('cam-a'), new TestCamera('cam-b')]);
  const config = mqttConfig({ url: broker.url, prefix: 'plant/l1', statePeriodS: 60 });
  const rec = await Recorder.connect(broker.url, ['plant/l1/#']);
  t.teardown(() => rec.close());
  const pub = makePublisher(control, config, state.dir);
  await pub.start(new AbortController().signal);
  await rec.waitFor('plant/l1/status', 1);
  t.equal(rec.on('plant/l1/status')[0].payload.toString(), 'online');

  const sent: Verdict[] = [];
  for (let i = 0; i < 6; i++) for (const cam of control.cameras) {
    const v = cam.next();
    sent.push(v);
    await cam.sink!(v);
  }
  const failed = sent.filter((v) => !v.pass);
  t.equal(failed.length, 4);
  await rec.waitFor(/\/inspection$/, 12);
  await rec.waitFor(/\/mask$/, 4);

  const inspections = rec.json(/\/inspection$/);
  for (const m of inspections) {
    const errors = [...Value.Errors(InspectionMessageSchema, m)].map((e) => `${e.path}: ${e.message}`);
    t.same(errors, [], `inspection ${m.id} matches the schema`);
  }
  t.same(rec.json('plant/l1/cam-a/inspection').map((m) => m.id), sent.filter((v) => v.cameraId === 'cam-a').map((v) => v.id), 'in order');
  const f = inspections.find((m) => m.id === failed[0].id)! as Record<string, any>;
  t.equal(f.pass, false);
  t.equal(f.defectCount, 2);
  t.same(f.gridWords, ['top left', 'bottom right']);
  t.equal(f.time, new Date(failed[0].capturedAt).toISOString());
  t.same(f.mask, { topic: `plant/l1/${failed[0].cameraId}/mask`, bytes: failed[0].maskPng!.byteLength, contentType: 'image/png' });
  t.notOk('maskPng' in f, 'no mask bytes inline');
  t.notOk(JSON.stringify(inspections).includes('secret'), 'frame origin (may hold a camera URL) not published');
  t.equal(inspections.find((m) => m.pass)!.mask, null);

  for (const m of rec.on(/\/mask$/)) {
    const id = m.packet.properties!.correlationData!.toString();
    const v = failed.find((x) => x.id === id);
    t.ok(v, `mask linked by correlation data to ${id}`);
    t.same(m.packet.properties!.userProperties, { inspectionId: id, camera: v!.cameraId });
    t.equal(m.packet.properties!.contentType, 'image/png');
    t.same(m.payload.subarray(0, 4), PNG);
    t.ok(m.payload.equals(Buffer.from(v!.maskPng!)), 'the verdict’s PNG bytes');
  }
  const insp = rec.on(/\/inspection$/)[0].packet;
  t.equal(insp.qos, 1, 'QoS 1');
  t.equal(insp.properties!.contentType, 'application/json');

  // state: retained, with the last verdict and counters; republished on change
  await until(() => rec.json('plant/l1/cam-a/state').some((s: any) => s.lastVerdict?.id === sent.at(-2)!.id), 3000, 'state with last verdict');
  const late = await Recorder.connect(broker.url, ['plant/l1/+/state', 'plant/l1/status']);
  t.teardown(() => late.close());
  await late.waitFor(/state$/, 2);
  const st = late.on('plant/l1/cam-a/state')[0];
  t.equal(st.packet.retain, true, 'state is retained');
  const sj = JSON.parse(st.payload.toString()) as Record<string, any>;
  t.equal(sj.counters.inspected, 6);
  t.equal(sj.health, 'streaming');
  t.same(sj.mqtt.dropped, 0);
  control.setHealth('cam-b', 'reconnecting');
  await until(() => rec.json('plant/l1/cam-b/state').some((s: any) => s.health === 'reconnecting'), 3000, 'state after a health event');

  t.equal(pub.status().connected, true);
  t.equal(pub.status().delivery.published, 16);
  t.equal(pub.status().queue.length, 0, 'queue empty after PUBACKs');
  await pub.stop();
  await until(() => rec.on('plant/l1/status').some((m) => m.payload.toString() === 'stopped'), 3000, 'stopped');
  const after = await Recorder.connect(broker.url, ['plant/l1/status']);
  t.teardown(() => after.close());
  const retained = await after.waitFor('plant/l1/status', 1);
  t.equal(retained[0].payload.toString(), 'stopped', 'retained stopped after a clean stop (no will)');
  t.equal(retained[0].packet.retain, true);
});

t.test('MQTT 3.1.1: the mask topic carries the inspection id', async (t) => {
  const broker = await Mosquitto.start();
  const state = tempDir();
  t.teardown(async () => { await broker.close(); state.remove(); });
  const control = new TestControl([new TestCamera('cam', { failEvery: 1 })]);
  const rec = await Recorder.connect(broker.url, ['p/#'], { protocolVersion: 4 });
  t.teardown(() => rec.close());
  const pub = makePublisher(control, mqttConfig({ url: broker.url, prefix: 'p', protocolVersion: 4, statePeriodS: 1 }), state.dir);
  await pub.start(new AbortController().signal);
  const v = control.cameras[0].next();
  await control.cameras[0].sink!(v);
  const [mask] = await rec.waitFor('p/cam/mask/' + v.id, 1);
  t.ok(mask.payload.equals(Buffer.from(v.maskPng!)));
  const [insp] = rec.json('p/cam/inspection') as any[];
  t.equal(insp.mask.topic, `p/cam/mask/${v.id}`, 'the inspection names its mask topic');
  // unchanged state is still republished every statePeriodS (a fresh `time` shows it is live)
  const n = rec.on('p/cam/state').length;
  await rec.waitFor('p/cam/state', n + 2, 4000);
  const times = rec.json<{ time: string; lastVerdict: { id: string } }>('p/cam/state').slice(-2);
  t.not(times[0].time, times[1].time);
  t.equal(times[1].lastVerdict.id, v.id);
  await pub.stop();
});

t.test('last will: a killed publisher leaves a retained "offline"', async (t) => {
  const broker = await Mosquitto.start();
  const state = tempDir();
  t.teardown(async () => { await broker.close(); state.remove(); });
  const rec = await Recorder.connect(broker.url, ['k/status']);
  t.teardown(() => rec.close());
  const { child } = await spawnPublisher({ config: mqttConfig({ url: broker.url, prefix: 'k', clientId: 'killed' }), stateDirectory: state.dir, cameras: ['cam'] });
  await until(() => rec.on('k/status').some((m) => m.payload.toString() === 'online'), 3000, 'online');
  child.kill('SIGKILL');
  const offline = await until(() => rec.on('k/status').some((m) => m.payload.toString() === 'offline'), 5000, 'offline will').then(() => true);
  t.ok(offline, 'the broker published the will');
  const late = await Recorder.connect(broker.url, ['k/status']);
  t.teardown(() => late.close());
  const [m] = await late.waitFor('k/status', 1);
  t.equal(m.payload.toString(), 'offline');
  t.equal(m.packet.retain, true, 'retained');
  t.equal(m.packet.qos, 1, 'QoS 1');
});
