import t from 'tap';
import { Mosquitto, mosquittoMissing } from '../../../tools/support/mosquitto.js';
import { Recorder, TestCamera, TestControl, capturingLogger, makePublisher, mqttConfig, sleep, tempDir, until } from './fixtures.js';

const missing = mosquittoMissing();
if (missing) t.plan(0, missing);

type Reply = { command: string; camera: string; requestId: unknown; ok: boolean; error?: { code: string; message: string }; inspection?: { id: string; pass: boolean }; recipe?: string };

t.test('commands over MQTT 5: trigger, recipe, and every malformed case answered', async (t) => {
  const broker = await Mosquitto.start();
  const state = tempDir();
  t.teardown(async () => { await broker.close(); state.remove(); });
  const cam = new TestCamera('cam', { triggerMs: 300, failEvery: 2 });
  const control = new TestControl([cam]);
  const { logger, lines } = capturingLogger();
  const pub = makePublisher(control, mqttConfig({ url: broker.url, prefix: 'f' }), state.dir, { logger });
  const rec = await Recorder.connect(broker.url, ['f/#', 'my/replies/#']);
  t.teardown(() => rec.close());
  // a retained trigger left on the broker must not fire when the publisher (re)subscribes
  await rec.client.publishAsync('f/cam/cmd/trigger', '', { qos: 1, retain: true });
  await pub.start(new AbortController().signal);
  t.teardown(() => pub.stop());
  await until(() => pub.status().connected, 3000, 'connected');
  await sleep(300);
  t.equal(cam.seq, 0, 'retained trigger not executed (MQTT 5 retain handling 2)');
  t.equal(rec.on('f/cam/cmd/trigger/reply').length, 0);

  const send = (topic: string, payload: string, props?: Record<string, unknown>) => rec.client.publishAsync(topic, payload, { qos: 1, ...(props ? { properties: props } : {}) });
  const replies = (topic: string) => rec.json<Reply>(topic);

  // Clearing the retained message (empty, retained) reaches live subscribers as a plain empty
  // trigger: it runs. Reply + the verdict on /inspection.
  await rec.client.publishAsync('f/cam/cmd/trigger', '', { qos: 1, retain: true });
  const [r1] = (await rec.waitFor('f/cam/cmd/trigger/reply', 1)).map((m) => JSON.parse(m.payload.toString()) as Reply);
  t.equal(r1.ok, true);
  t.equal(r1.requestId, null);
  await rec.waitFor('f/cam/inspection', 1);
  t.equal(rec.json('f/cam/inspection')[0].id, r1.inspection!.id, 'the triggered verdict is published on /inspection');

  // trigger with requestId, and a second one while the camera is busy
  await send('f/cam/cmd/trigger', JSON.stringify({ requestId: 'r-2' }));
  await sleep(50);
  await send('f/cam/cmd/trigger', JSON.stringify({ requestId: 7 }));
  await rec.waitFor('f/cam/cmd/trigger/reply', 3);
  const busy = replies('f/cam/cmd/trigger/reply').find((r) => r.requestId === 7)!;
  t.equal(busy.ok, false);
  t.equal(busy.error!.code, 'E_CAMERA_BUSY');
  t.equal(replies('f/cam/cmd/trigger/reply').find((r) => r.requestId === 'r-2')!.ok, true);
  await rec.waitFor('f/cam/inspection', 2);

  // MQTT 5 request/response: reply on the response topic with the correlation data
  await send('f/cam/cmd/trigger', '', { responseTopic: 'my/replies/1', correlationData: Buffer.from('corr-1') });
  const [rr] = await rec.waitFor('my/replies/1', 1);
  t.equal(rr.packet.properties!.correlationData!.toString(), 'corr-1');
  t.equal((JSON.parse(rr.payload.toString()) as Reply).ok, true);

  // recipe: selected via the control; unknown recipe refused by it
  await send('f/cam/cmd/recipe', JSON.stringify({ recipe: 'screw', requestId: 'x' }));
  await send('f/cam/cmd/recipe', JSON.stringify({ recipe: 'nope' }));
  await rec.waitFor('f/cam/cmd/recipe/reply', 2);
  t.same(cam.selected, ['screw'], 'control.selectRecipe called');
  const [ok, nope] = replies('f/cam/cmd/recipe/reply');
  t.same([ok.ok, ok.recipe, ok.requestId], [true, 'screw', 'x']);
  t.same([nope.ok, nope.error!.code], [false, 'E_RECIPE_NOT_FOUND']);

  // malformed
  const bad: Array<[string, string, string]> = [
    ['f/cam/cmd/recipe', '{"recipe":', 'E_COMMAND_INVALID'],
    ['f/cam/cmd/recipe', '[1,2]', 'E_COMMAND_INVALID'],
    ['f/cam/cmd/recipe', '', 'E_COMMAND_INVALID'],
    ['f/cam/cmd/recipe', '{"recipe":"Bad Id!"}', 'E_COMMAND_INVALID'],
    ['f/cam/cmd/trigger', '{"requestId":"q","extra":1}', 'E_COMMAND_INVALID'],
    ['f/cam/cmd/trigger', 'x'.repeat(5000), 'E_COMMAND_INVALID'],
    ['f/nocam/cmd/trigger', '', 'E_CAMERA_UNKNOWN'],
    ['f/cam/cmd/reboot', '{}', 'E_COMMAND_UNKNOWN'],
  ];
  for (const [topic, payload] of bad) await send(topic, payload);
  await rec.waitFor('f/cam/cmd/recipe/reply', 6);
  await rec.waitFor('f/cam/cmd/trigger/reply', 5);
  const recipeErrors = replies('f/cam/cmd/recipe/reply').slice(2).map((r) => r.error!.code);
  t.same(recipeErrors, ['E_COMMAND_INVALID', 'E_COMMAND_INVALID', 'E_COMMAND_INVALID', 'E_COMMAND_INVALID']);
  const extra = replies('f/cam/cmd/trigger/reply').find((r) => r.requestId === 'q')!;
  t.match(extra.error, { code: 'E_COMMAND_INVALID', message: /unknown key.*extra/ }, 'requestId kept in the error reply');
  t.match(replies('f/cam/cmd/trigger/reply').at(-1)!.error!.message, /at most 4096/);
  const [unknownCam] = (await rec.waitFor('f/nocam/cmd/trigger/reply', 1)).map((m) => JSON.parse(m.payload.toString()) as Reply);
  t.match(unknownCam.error, { code: 'E_CAMERA_UNKNOWN', message: /known: cam/ });
  const [reboot] = (await rec.waitFor('f/cam/cmd/reboot/reply', 1)).map((m) => JSON.parse(m.payload.toString()) as Reply);
  t.equal(reboot.error!.code, 'E_COMMAND_UNKNOWN');

  // camera down: the control's error is passed on
  control.setHealth('cam', 'reconnecting');
  await send('f/cam/cmd/trigger', '{"requestId":"down"}');
  await until(() => replies('f/cam/cmd/trigger/reply').some((r) => r.requestId === 'down'), 3000, 'reply while down');
  t.equal(replies('f/cam/cmd/trigger/reply').find((r) => r.requestId === 'down')!.error!.code, 'E_CAMERA_READ');

  t.equal(pub.status().connected, true, 'still connected after all of it');
  const refusedLines = lines.filter((l) => l.msg === 'MQTT command refused');
  t.ok(refusedLines.length >= 1, 'refusals are logged (rate-limited)');
  t.equal(refusedLines[0].level, 40, 'at warn level');
  t.ok(lines.some((l) => l.msg === 'recipe selected over MQTT' && l.recipe === 'screw'), 'recipe change logged');
  t.ok(pub.status().commands.failed >= 11);
});

t.test('MQTT 3.1.1: retained commands are refused with a reply, live ones run', async (t) => {
  const broker = await Mosquitto.start();
  const state = tempDir();
  t.teardown(async () => { await broker.close(); state.remove(); });
  const cam = new TestCamera('cam');
  const pub = makePublisher(new TestControl([cam]), mqttConfig({ url: broker.url, prefix: 'g', protocolVersion: 4 }), state.dir);
  const rec = await Recorder.connect(broker.url, ['g/+/cmd/+/reply', 'g/+/inspection'], { protocolVersion: 4 });
  t.teardown(() => rec.close());
  await rec.client.publishAsync('g/cam/cmd/trigger', '{"requestId":"stale"}', { qos: 1, retain: true });
  await pub.start(new AbortController().signal);
  t.teardown(() => pub.stop());
  const [stale] = (await rec.waitFor('g/cam/cmd/trigger/reply', 1)).map((m) => JSON.parse(m.payload.toString()) as Reply);
  t.match(stale, { ok: false, requestId: 'stale', error: { code: 'E_COMMAND_INVALID', message: /retained/ } });
  t.equal(cam.seq, 0);
  await rec.client.publishAsync('g/cam/cmd/trigger', '{"requestId":"live"}', { qos: 1 });
  await until(() => rec.json<Reply>('g/cam/cmd/trigger/reply').some((r) => r.requestId === 'live'), 3000, 'live reply');
  t.equal(rec.json<Reply>('g/cam/cmd/trigger/reply').find((r) => r.requestId === 'live')!.ok, true);
  await rec.waitFor('g/cam/inspection', 1);
});
