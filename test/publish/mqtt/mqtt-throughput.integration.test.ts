/**
 * Sustained MQTT inspections/s with masks: failed verdicts carrying a ≈10 KB mask PNG each,
 * published one after another (as one camera's pipeline does), QoS 1, to a local mosquitto,
 * counted when a QoS 1 subscriber has received every inspection and every mask. Each verdict is
 * first made durable in the inspection record (as the pipeline does) with its fsync on (the
 * default: committed and its mask file flushed before publish() resolves) and off.
 */
import t from 'tap';
import { Mosquitto, mosquittoMissing } from '../../../tools/support/mosquitto.js';
import { Recorder, TestCamera, TestControl, frameOf, makePublisher, maskPng, mqttConfig, tempDir } from './fixtures.js';

const missing = mosquittoMissing();
if (missing) t.plan(0, missing);

const N = Number(process.env.MQTT_BENCH_N ?? 300);
const masks = Array.from({ length: 16 }, (_, i) => maskPng(320, 240, i + 1, 0.55));
const avgMask = masks.reduce((s, m) => s + m.length, 0) / masks.length;

for (const fsync of [true, false]) {
  t.test(`throughput with ${Math.round(avgMask / 1024)} KB masks, fsync ${fsync}`, async (t) => {
    const mosq = await Mosquitto.start();
    const state = tempDir();
    t.teardown(async () => { await mosq.close(); state.remove(); });
    const rec = await Recorder.connect(mosq.url, ['b/+/inspection', 'b/+/mask']);
    t.teardown(() => rec.close());
    let i = 0;
    const cam = new TestCamera('cam', { failEvery: 1, mask: () => masks[i++ % masks.length] });
    const pub = makePublisher(new TestControl([cam]), mqttConfig({ url: mosq.url, prefix: 'b' }), state.dir, { fsync });
    await pub.start(new AbortController().signal);
    t.teardown(() => pub.stop());
    const verdicts = Array.from({ length: N }, () => cam.next());
    const t0 = performance.now();
    let queuedMs = 0;
    for (const v of verdicts) await pub.publish(v, frameOf(v));
    queuedMs = performance.now() - t0;
    await rec.waitFor('b/cam/mask', N, 60_000);
    await rec.waitFor('b/cam/inspection', N, 60_000);
    const s = (performance.now() - t0) / 1000;
    const rate = N / s;
    t.comment(`fsync=${fsync}: ${N} inspections + ${N} masks (avg ${Math.round(avgMask)} B) delivered in ${s.toFixed(2)} s = ${rate.toFixed(0)} inspections/s (${((N * avgMask) / s / 1e6).toFixed(1)} MB/s of masks); publish() total ${queuedMs.toFixed(0)} ms`);
    t.equal(rec.on('b/cam/inspection').length, N, 'every inspection');
    t.ok(rate > 20, `more than 20 inspections/s (${rate.toFixed(0)})`);
  });
}
