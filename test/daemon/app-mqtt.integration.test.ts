/**
 * The daemon end to end with SCADA's side: a real App (simulated on-demand camera, the real
 * default bundle) publishing to a real mosquitto; a real MQTT client triggers inspections and
 * switches recipes through the command topics.
 */
import t from 'tap';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { validateConfig } from '../../src/config/index.js';
import { App } from '../../src/daemon/app.js';
import { Mosquitto, mosquittoMissing } from '../../tools/support/mosquitto.js';
import { defaultBundleDir, silentLogger, until } from '../pipeline/helpers.js';
import { daemonTestdir } from '../support/testdir.js';

const missing = mosquittoMissing();
if (missing) t.plan(0, `MQTT end-to-end needs mosquitto: ${missing}`);
else {
  t.test('trigger over MQTT → verdict on /inspection; recipe command answered', async (t) => {
    const broker = await Mosquitto.start();
    t.teardown(() => broker.close());
    const dir = daemonTestdir(t);
    const config = validateConfig(
      {
        stateDirectory: join(dir, 'state'),
        logging: { level: 'warn' },
        inference: { bundle: await defaultBundleDir(), executionProviders: ['cpu'], warmupRuns: 1 },
        cameras: [{ id: 'cam1', recipe: 'sim-part', source: { kind: 'sim', width: 320, height: 240, defectRate: 0.5, seed: 5 }, trigger: { mode: 'on-demand' } }],
        http: { enabled: false },
        mqtt: { enabled: true, url: broker.url, prefix: 'plant/line1', clientId: 'edge-test' },
      },
      'test',
      { baseDir: dir, env: {} },
    );
    const app = new App({ config, logger: silentLogger(), env: {} });
    const started = await app.start();
    t.ok(started.ok, 'daemon started');
    t.teardown(() => app.stop());

    const client = await mqtt.connectAsync(broker.url, { protocolVersion: 5, clientId: 'scada' });
    t.teardown(() => client.endAsync());
    const got: { topic: string; payload: Buffer; retain: boolean }[] = [];
    client.on('message', (topic, payload, packet) => got.push({ topic, payload, retain: packet.retain }));
    await client.subscribeAsync(['plant/line1/#'], { qos: 1 });

    await until(() => got.some((m) => m.topic === 'plant/line1/status' && m.payload.toString() === 'online'), 10_000, 'status online');
    const n = 5;
    for (let i = 0; i < n; i++) {
      await client.publishAsync('plant/line1/cam1/cmd/trigger', JSON.stringify({ requestId: `r${i}` }), { qos: 1 });
      await until(() => got.filter((m) => m.topic === 'plant/line1/cam1/inspection').length > i, 10_000, `inspection ${i}`);
    }
    const inspections = got.filter((m) => m.topic === 'plant/line1/cam1/inspection').map((m) => JSON.parse(m.payload.toString()));
    t.equal(inspections.length, n, 'one inspection per trigger');
    t.ok(inspections.every((v) => v.recipe.id === 'sim-part' && typeof v.pass === 'boolean' && v.score >= 0), 'verdict JSON with recipe and decision');
    const fails = inspections.filter((v) => !v.pass);
    await until(() => got.filter((m) => m.topic.startsWith('plant/line1/cam1/mask')).length >= fails.length, 10_000, 'masks');
    t.equal(got.filter((m) => m.topic.startsWith('plant/line1/cam1/mask')).length, fails.length, 'one mask per failed inspection');
    t.equal(app.status().cameras.cam1.counters.inspected, n, 'the daemon counted the same inspections');

    await client.publishAsync('plant/line1/cam1/cmd/recipe', JSON.stringify({ recipe: 'no-such-recipe', requestId: 'x' }), { qos: 1 });
    await until(() => got.some((m) => m.topic === 'plant/line1/cam1/cmd/recipe/reply'), 10_000, 'recipe reply');
    const reply = JSON.parse(got.find((m) => m.topic === 'plant/line1/cam1/cmd/recipe/reply')!.payload.toString());
    t.equal(reply.ok, false, 'unknown recipe refused');
    t.match(JSON.stringify(reply), /E_RECIPE_NOT_FOUND/, 'with the named error');
    t.equal(app.control.camera('cam1')!.snapshot().recipe.id, 'sim-part', 'the active recipe is unchanged');

    await client.publishAsync('plant/line1/cam1/cmd/trigger', '{not json', { qos: 1 });
    await until(() => got.filter((m) => m.topic === 'plant/line1/cam1/cmd/trigger/reply').some((m) => /E_COMMAND_INVALID/.test(m.payload.toString())), 10_000, 'bad command reply');
    t.equal(app.state, 'running', 'a malformed command does not hurt the daemon');

    const stopped = await app.stop();
    t.ok(stopped.ok, 'clean stop');
    await until(() => got.some((m) => m.topic === 'plant/line1/status' && m.payload.toString() === 'stopped'), 10_000, 'status stopped');
  });
}
