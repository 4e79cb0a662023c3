import t from 'tap';
import sparkplug from 'sparkplug-payload';
import { Mosquitto, mosquittoMissing } from '../../../tools/support/mosquitto.js';
import { Recorder, TestCamera, TestControl, makePublisher, mqttConfig, spawnPublisher, tempDir, until, type Received } from './fixtures.js';

const missing = mosquittoMissing();
if (missing) t.plan(0, missing);

const spb = sparkplug.get('spBv1.0')!;
type Payload = ReturnType<typeof spb.decodePayload>;
const decode = (m: Received): Payload => spb.decodePayload(m.payload);
const num = (v: unknown) => Number(typeof v === 'object' && v !== null ? (v as { toNumber(): number }).toNumber() : v);
const metric = (p: Payload, name: string) => p.metrics!.find((m) => m.name === name);
const bdSeqOf = (p: Payload) => num(metric(p, 'bdSeq')!.value);
const G = 'spBv1.0/plant';

const DEVICE_METRICS = ['Inspection/Id', 'Inspection/Time', 'Inspection/Pass', 'Inspection/Score', 'Inspection/Threshold', 'Inspection/Confidence',
  'Inspection/DefectCount', 'Inspection/Locations', 'Camera/Health', 'Camera/Busy', 'Camera/TriggerMode', 'Recipe/Id', 'Recipe/Version',
  'Model/Id', 'Model/Version', 'Counters/Inspected', 'Counters/Passed', 'Counters/Failed', 'Counters/Dropped', 'Counters/Errors',
  'Device Control/Trigger', 'Device Control/Recipe'];

const sparkplugConfig = (url: string, clientId: string) => mqttConfig({
  url, prefix: 'sp', clientId, reconnectPeriodMs: 300, sparkplug: { enabled: true, groupId: 'plant', edgeNodeId: 'edge1' },
});

t.test('NBIRTH/DBIRTH, NDEATH will at QoS 1 after a kill, bdSeq persisted across restarts', async (t) => {
  const mosq = await Mosquitto.start();
  const state = tempDir();
  t.teardown(async () => { await mosq.close(); state.remove(); });
  const rec = await Recorder.connect(mosq.url, [`${G}/#`]);
  t.teardown(() => rec.close());
  const args = { config: sparkplugConfig(mosq.url, 'sp-child'), stateDirectory: state.dir, cameras: ['cam-a', 'cam-b'] };

  const { child } = await spawnPublisher(args);
  const [nb] = await rec.waitFor(`${G}/NBIRTH/edge1`, 1);
  const nbirth = decode(nb);
  t.equal(num(nbirth.seq), 0, 'NBIRTH seq 0');
  t.equal(nb.packet.retain, false);
  const bd1 = bdSeqOf(nbirth);
  t.equal(metric(nbirth, 'bdSeq')!.type, 'UInt64');
  t.equal(metric(nbirth, 'Node Control/Rebirth')!.value, false);
  const dbirths = await rec.waitFor(/\/DBIRTH\/edge1\//, 2);
  t.same(dbirths.map((m) => m.topic).sort(), [`${G}/DBIRTH/edge1/cam-a`, `${G}/DBIRTH/edge1/cam-b`]);
  const db = decode(dbirths[0]);
  t.same(db.metrics!.map((m) => m.name).sort(), [...DEVICE_METRICS].sort(), 'DBIRTH carries every metric');
  t.equal(metric(db, 'Inspection/Pass')!.value, null, 'no verdict yet: null');
  t.same(dbirths.map((m) => num(decode(m).seq)), [1, 2], 'seq continues after NBIRTH');

  child.kill('SIGKILL');
  const [nd] = await rec.waitFor(`${G}/NDEATH/edge1`, 1);
  t.equal(nd.packet.qos, 1, 'NDEATH will delivered at QoS 1 (subscription QoS 1)');
  t.equal(nd.packet.retain, false);
  t.equal(bdSeqOf(decode(nd)), bd1, 'NDEATH bdSeq = the session’s NBIRTH bdSeq');

  const again = await spawnPublisher(args);
  t.teardown(() => { again.child.kill('SIGKILL'); });
  await rec.waitFor(`${G}/NBIRTH/edge1`, 2);
  t.equal(bdSeqOf(decode(rec.on(`${G}/NBIRTH/edge1`)[1])), (bd1 + 1) % 256, 'bdSeq + 1 after a restart (persisted)');
});

t.test('DDATA by exception, rebirth on NCMD, DCMD trigger, reconnect increments bdSeq, clean-stop NDEATH', async (t) => {
  const mosq = await Mosquitto.start({ persistence: true, extra: ['queue_qos0_messages true'] });
  const state = tempDir();
  t.teardown(async () => { await mosq.close(); state.remove(); });
  const rec = await Recorder.connect(mosq.url, [`${G}/#`], { clientId: 'sp-sub', clean: false, properties: { sessionExpiryInterval: 600 } });
  t.teardown(() => rec.close());
  const cam = new TestCamera('cam', { failEvery: 2 });
  const control = new TestControl([cam]);
  const pub = makePublisher(control, sparkplugConfig(mosq.url, 'sp-main'), state.dir);
  t.teardown(() => pub.stop());
  await pub.start(new AbortController().signal);
  await rec.waitFor(`${G}/DBIRTH/edge1/cam`, 1);
  const bd1 = bdSeqOf(decode(rec.on(`${G}/NBIRTH/edge1`)[0]));

  const v = cam.next();
  await cam.sink!(v);
  const [dd] = await rec.waitFor(`${G}/DDATA/edge1/cam`, 1);
  const ddata = decode(dd);
  const names = ddata.metrics!.map((m) => m.name);
  t.ok(names.includes('Inspection/Id') && names.includes('Inspection/Pass'), 'verdict metrics sent');
  t.notOk(names.includes('Model/Id') || names.includes('Recipe/Id'), 'unchanged metrics not repeated');
  t.equal(metric(ddata, 'Inspection/Id')!.value, v.id);
  t.equal(num(metric(ddata, 'Inspection/Id')!.timestamp), v.capturedAt, 'timestamped with the capture time');

  // NCMD rebirth: NBIRTH again with seq 0 and the same bdSeq, then DBIRTH
  await rec.client.publishAsync(`${G}/NCMD/edge1`, Buffer.from(spb.encodePayload({ timestamp: Date.now(), metrics: [{ name: 'Node Control/Rebirth', type: 'Boolean', value: true }] })), { qos: 0 });
  await rec.waitFor(`${G}/NBIRTH/edge1`, 2);
  await rec.waitFor(`${G}/DBIRTH/edge1/cam`, 2);
  const reborn = decode(rec.on(`${G}/NBIRTH/edge1`)[1]);
  t.equal(num(reborn.seq), 0);
  t.equal(bdSeqOf(reborn), bd1, 'rebirth keeps the session bdSeq');
  t.equal(metric(decode(rec.on(`${G}/DBIRTH/edge1/cam`)[1]), 'Inspection/Id')!.value, v.id, 'DBIRTH carries the current values');

  // garbage NCMD: ignored, noted, no crash
  await rec.client.publishAsync(`${G}/NCMD/edge1`, Buffer.from([0xff, 0x00, 0x13]), { qos: 0 });
  await until(() => pub.status().sparkplug?.lastError !== undefined, 3000, 'bad NCMD noted');

  // DCMD trigger: the camera runs, the verdict shows up as DDATA
  const before = cam.seq;
  await rec.client.publishAsync(`${G}/DCMD/edge1/cam`, Buffer.from(spb.encodePayload({ timestamp: Date.now(), metrics: [{ name: 'Device Control/Trigger', type: 'Boolean', value: true }] })), { qos: 0 });
  await until(() => rec.on(`${G}/DDATA/edge1/cam`).some((m) => metric(decode(m), 'Inspection/Id')?.value === `cam-${Date.UTC(2025, 4, 1) + (before + 1) * 100}-${before + 1}`), 3000, 'DDATA of the DCMD trigger');
  t.equal(cam.seq, before + 1);

  // broker restart: a new CONNECT with bdSeq + n (one per attempt), NBIRTH carries it
  await mosq.restart();
  await until(() => rec.on(`${G}/NBIRTH/edge1`).length >= 3, 10_000, 'NBIRTH after reconnect');
  const bd2 = bdSeqOf(decode(rec.on(`${G}/NBIRTH/edge1`)[2]));
  t.ok(bd2 > bd1, `bdSeq incremented across reconnects (${bd1} → ${bd2})`);
  t.equal(pub.status().sparkplug!.bdSeq, bd2);

  // clean stop: NDEATH sent by us (the will is not sent on DISCONNECT)
  // (mosquitto publishes the wills of its clients when it shuts down: an NDEATH of session bd1
  // may already be there — stale for a host, since bd1 ≠ the current bdSeq)
  t.ok(rec.on(`${G}/NDEATH/edge1`).every((m) => bdSeqOf(decode(m)) === bd1), 'any NDEATH so far belongs to the old session');
  await pub.stop();
  await until(() => rec.on(`${G}/NDEATH/edge1`).some((m) => bdSeqOf(decode(m)) === bd2), 3000, 'NDEATH of the current session');
  const death = rec.on(`${G}/NDEATH/edge1`).find((m) => bdSeqOf(decode(m)) === bd2)!;
  t.equal(death.packet.qos, 1, 'clean-stop NDEATH at QoS 1');
});
