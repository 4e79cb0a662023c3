/**
 * No result lost: a 30 s broker outage with a daemon restart in the middle, and a full queue.
 * The subscriber keeps a persistent session on a broker with persistence, so what the
 * publisher delivers after the restart waits for it even if it reconnects later.
 */
import t from 'tap';
import type { Verdict } from '../../../src/judge/verdict.js';
import { Mosquitto, mosquittoMissing } from '../../../tools/support/mosquitto.js';
import { Recorder, TestCamera, TestControl, frameOf, makePublisher, mqttConfig, sleep, spawnPublisher, tempDir, until, type RecordedPublisher } from './fixtures.js';

const missing = mosquittoMissing();
if (missing) t.plan(0, missing);

const OUTAGE_MS = Number(process.env.MQTT_OUTAGE_MS ?? 30_000);
const broker = { persistence: true, extra: ['max_queued_messages 100000'] };
const subscriber = (clientId: string) => ({ clientId, clean: false, properties: { sessionExpiryInterval: 3600 } });

t.test(`broker outage of ${OUTAGE_MS / 1000} s with a daemon restart in the middle: 0 lost`, async (t) => {
  const mosq = await Mosquitto.start(broker);
  const state = tempDir();
  t.teardown(async () => { await mosq.close(); state.remove(); });
  const rec = await Recorder.connect(mosq.url, ['o/+/inspection', 'o/+/mask', 'o/status'], subscriber('outage-sub'));
  t.teardown(() => rec.close());
  const cam = new TestCamera('cam', { failEvery: 3 });
  const control = new TestControl([cam]);
  const config = mqttConfig({ url: mosq.url, prefix: 'o', reconnectPeriodMs: 500, clientId: 'outage-pub' });

  let current: RecordedPublisher | undefined = makePublisher(control, config, state.dir);
  await current.start(new AbortController().signal);
  await until(() => current!.status().connected, 3000, 'connected');
  const queued: Verdict[] = [];
  let refused = 0;
  // 10 verdicts/s into whichever publisher is running (none while the "daemon" restarts)
  const timer = setInterval(() => {
    const p = current;
    if (!p) return;
    const v = cam.next();
    p.publish(v, frameOf(v)).then(() => queued.push(v), () => refused++);
  }, 100);
  t.teardown(() => clearInterval(timer));

  await sleep(2000);
  const t0 = Date.now();
  await mosq.stop();
  await sleep(OUTAGE_MS / 2);
  const first = current;
  const queuedAtRestart = first.status().queue.length;
  current = undefined; // daemon restart: stop, then a new process on the same state directory
  await first.stop();
  const second = makePublisher(control, config, state.dir);
  await second.start(new AbortController().signal);
  current = second;
  t.ok(current.status().queue.length >= queuedAtRestart, `backlog still in the record after the restart (${current.status().queue.length} ≥ ${queuedAtRestart})`);
  await sleep(Math.max(0, t0 + OUTAGE_MS - Date.now()));
  t.equal(current.status().connected, false, 'still offline at the end of the outage');
  const backlog = current.status().queue.length;
  await mosq.resume();
  const outageS = (Date.now() - t0) / 1000;
  await sleep(2000);
  clearInterval(timer);
  await sleep(150);
  const pub = current;
  await until(() => pub.status().queue.length === 0, 20_000, 'queue drained');
  const ids = new Set(queued.map((v) => v.id));
  const inspections = rec.json<{ id: string; seq: number }>('o/cam/inspection');
  await until(() => new Set(rec.json<{ id: string }>('o/cam/inspection').map((m) => m.id)).size >= ids.size, 20_000, 'all inspections received');
  const received = rec.json<{ id: string; seq: number }>('o/cam/inspection');
  const unique = new Set(received.map((m) => m.id));
  const lost = [...ids].filter((id) => !unique.has(id));
  const duplicates = received.length - unique.size;
  const failedIds = queued.filter((v) => !v.pass).map((v) => v.id);
  const masks = new Set(rec.on('o/cam/mask').map((m) => m.packet.properties!.correlationData!.toString()));
  const firstSeen = [...unique].map((id) => received.find((m) => m.id === id)!.seq);
  t.comment(`outage ${outageS.toFixed(1)} s; verdicts queued ${queued.length} (failed ${failedIds.length}), refused ${refused}; backlog at reconnect ${backlog} messages; received ${received.length} inspections (${unique.size} unique), lost ${lost.length}, duplicates ${duplicates}; masks ${masks.size}/${failedIds.length}`);
  t.ok(outageS >= OUTAGE_MS / 1000, 'outage lasted');
  t.equal(refused, 0, 'every verdict was accepted by the sink');
  t.ok(queued.length >= (OUTAGE_MS / 1000) * 5, `verdicts kept coming during the outage (${queued.length}; the driver offers 10/s)`);
  t.same(lost, [], '0 verdicts lost');
  t.same(failedIds.filter((id) => !masks.has(id)), [], 'every mask delivered');
  t.ok(duplicates <= 2 * 32, `duplicates (${duplicates}) within QoS 1's at-least-once: at most the un-acked window`);
  t.same(firstSeen, [...firstSeen].sort((a, b) => a - b), 'FIFO: inspections arrive in verdict order');
  t.ok(inspections.length > 0);
  const statuses = rec.on('o/status').map((m) => m.payload.toString());
  t.ok(statuses.filter((x) => x === 'online').length >= 2, `online again after reconnecting (${statuses.join(' → ')})`);
  t.equal(statuses.at(-1), 'online');
  await pub.stop();
});

t.test('queue full: the oldest are dropped, counted, and the count is published in state', async (t) => {
  const mosq = await Mosquitto.start(broker);
  const state = tempDir();
  t.teardown(async () => { await mosq.close(); state.remove(); });
  const rec = await Recorder.connect(mosq.url, ['q/cam/inspection', 'q/cam/state'], subscriber('full-sub'));
  t.teardown(() => rec.close());
  const cam = new TestCamera('cam', { failEvery: 1000 });
  const control = new TestControl([cam]);
  const pub = makePublisher(control, mqttConfig({ url: mosq.url, prefix: 'q', reconnectPeriodMs: 300, queue: { maxMessages: 10 } }), state.dir);
  await pub.start(new AbortController().signal);
  t.teardown(() => pub.stop());
  await until(() => pub.status().connected, 3000, 'connected');
  await mosq.stop();
  await until(() => !pub.status().connected, 3000, 'disconnected');
  const sent: Verdict[] = [];
  for (let i = 0; i < 30; i++) {
    const v = cam.next();
    await pub.publish(v, frameOf(v));
    sent.push(v);
  }
  t.equal(pub.status().queue.length, 10);
  t.equal(pub.status().queue.dropped, 20);
  await mosq.resume();
  await rec.waitFor('q/cam/inspection', 10, 10_000);
  await sleep(300);
  t.same(rec.json<{ id: string }>('q/cam/inspection').map((m) => m.id), sent.slice(20).map((v) => v.id), 'the newest 10 delivered in order');
  await until(() => rec.json<{ mqtt: { dropped: number } }>('q/cam/state').some((s) => s.mqtt.dropped === 20), 5000, 'dropped count in state');
  t.pass('state shows mqtt.dropped = 20');
});

t.test('daemon killed (SIGKILL) while the broker is down: every verdict whose publish() resolved is delivered after the restart', async (t) => {
  const mosq = await Mosquitto.start(broker);
  const state = tempDir();
  t.teardown(async () => { await mosq.close(); state.remove(); });
  const rec = await Recorder.connect(mosq.url, ['c/cam/inspection'], subscriber('crash-sub'));
  t.teardown(() => rec.close());
  const config = mqttConfig({ url: mosq.url, prefix: 'c', clientId: 'crash', reconnectPeriodMs: 300 });
  const child = await spawnPublisher({ config, stateDirectory: state.dir, cameras: ['cam'] });
  const published = () => child.output().split('\n').filter((l) => l.startsWith('published ')).map((l) => l.slice(10));
  child.child.stdin!.write('burst 20\n');
  await until(() => rec.on('c/cam/inspection').length >= 20, 5000, 'live verdicts delivered');
  await mosq.stop();
  child.child.stdin!.write('burst 100000\n');
  await until(() => published().length >= 220, 20_000, '200 verdicts queued by the child while the broker is down');
  child.child.kill('SIGKILL'); // a crash: no clean stop, no queue close
  await new Promise((r) => child.child.once('exit', r));
  const acked = published();
  await mosq.resume();
  const pub = makePublisher(new TestControl([new TestCamera('cam')]), config, state.dir); // the restarted daemon
  await pub.start(new AbortController().signal);
  t.teardown(() => pub.stop());
  const got = () => new Set(rec.json<{ id: string }>('c/cam/inspection').map((m) => m.id));
  await until(() => acked.every((id) => got().has(id)), 15_000, 'every acknowledged verdict delivered');
  const received = rec.json<{ id: string }>('c/cam/inspection');
  const duplicates = received.length - got().size;
  t.comment(`crash: ${acked.length} verdicts queued (${acked.length - 20} while the broker was down), killed; after restart received ${got().size} unique, lost ${acked.filter((id) => !got().has(id)).length}, duplicates ${duplicates}`);
  t.equal(acked.filter((id) => !got().has(id)).length, 0, '0 lost across a crash');
  t.ok(duplicates <= 64, 'duplicates bounded by the in-flight window');
});
