/**
 * The PLC side over a real SignAndEncrypt session: the Trigger → Busy → result → ResultReady
 * → Ack handshake seen through monitored items, a trigger while busy, writes of wrong types,
 * Inspect(), recipes, the quality rule of the result tags, and the trigger → ResultReady
 * latency over 50 handshakes.
 */
import t from 'tap';
import type { ClientSession, DataValue } from 'node-opcua';
import type { Fixture, Session } from './helpers.js';

// node-opcua loads under tap through test/support/esm-detect.mjs (preloaded, package.json).
const { AttributeIds, ClientMonitoredItem, ClientSubscription, DataType, TimestampsToReturn } = await import('node-opcua');
const { ONE_PIXEL_PNG, TestControl, capturingLogger, openSession, sleep, startServer, until } = await import('./helpers.js');

const control = new TestControl([{ id: 'cam1' }, { id: 'line2', mode: 'free-run' }]);
const cam1 = control.camera('cam1')!;
const line2 = control.camera('line2')!;
const log = capturingLogger();
let fx: Fixture;
let op: Session;
let eng: Session;

const node = (cam: string, tag: string) => `ns=${fx.ns};s=${cam}.${tag}`;
const read = async (s: ClientSession, cam: string, tag: string) => s.read({ nodeId: node(cam, tag), attributeId: AttributeIds.Value });
const write = async (s: ClientSession, cam: string, tag: string, dataType: number, value: unknown) =>
  s.write({ nodeId: node(cam, tag), attributeId: AttributeIds.Value, value: { value: { dataType, value } } });

/** Every data change of some tags, in arrival order. */
async function watch(s: ClientSession, cam: string, tags: string[]) {
  const sub = ClientSubscription.create(s, {
    requestedPublishingInterval: 10, // the server's floor is 50 ms
    requestedLifetimeCount: 1000,
    requestedMaxKeepAliveCount: 10,
    maxNotificationsPerPublish: 0,
    publishingEnabled: true,
  });
  const seen: Array<{ tag: string; dv: DataValue; at: number }> = [];
  const items = tags.map((tag) => {
    const item = ClientMonitoredItem.create(
      sub,
      { nodeId: node(cam, tag), attributeId: AttributeIds.Value },
      { samplingInterval: 0, queueSize: 100, discardOldest: true },
      TimestampsToReturn.Both,
    );
    item.on('changed', (dv: DataValue) => seen.push({ tag, dv, at: performance.now() }));
    return item;
  });
  await until(() => tags.every((tag) => seen.some((e) => e.tag === tag)), 5000, 'initial values');
  return { seen, items, close: () => sub.terminate() };
}

t.before(async () => {
  fx = await startServer(control, { includeMask: true }, { trustClient: true, logger: log.logger });
  op = await openSession(fx, { mode: 'SignAndEncrypt', policy: 'Basic256Sha256', user: 'operator' });
  eng = await openSession(fx, { mode: 'SignAndEncrypt', policy: 'Aes128_Sha256_RsaOaep', user: 'engineer' });
});

t.teardown(async () => {
  await op?.close();
  await eng?.close();
  await fx?.server.stop();
});

t.test('before any verdict the result tags say so', async (t) => {
  const pass = await read(op.session, 'cam1', 'Pass');
  t.equal(pass.statusCode.name, 'BadWaitingForInitialData');
  t.equal((await read(op.session, 'cam1', 'CameraState')).value.value, 'streaming');
  t.equal((await read(op.session, 'cam1', 'Recipe')).value.value, 'bottle');
  t.equal((await read(op.session, 'cam1', 'Model')).value.value, 'mobilenetv2-nsfwjs');
});

t.test('trigger handshake: Busy → result tags → ResultReady, Ack clears it', async (t) => {
  cam1.delayMs = 60;
  const w = await watch(op.session, 'cam1', ['Busy', 'ResultReady', 'Pass', 'InspectionId', 'Locations', 'Score']);
  t.equal((await write(op.session, 'cam1', 'Trigger', DataType.Boolean, true)).name, 'Good');
  await until(() => w.seen.some((e) => e.tag === 'ResultReady' && e.dv.value.value === true), 5000, 'ResultReady');
  const busyTrue = w.seen.findIndex((e) => e.tag === 'Busy' && e.dv.value.value === true);
  const ready = w.seen.findIndex((e) => e.tag === 'ResultReady' && e.dv.value.value === true);
  t.ok(busyTrue >= 0 && busyTrue < ready, 'Busy was observed before ResultReady');
  const id = (await read(op.session, 'cam1', 'InspectionId')).value.value as string;
  t.match(id, /^cam1-\d+-1$/, 'first verdict of cam1');
  const pass = await read(op.session, 'cam1', 'Pass');
  t.equal(pass.value.value, true);
  t.equal(pass.statusCode.name, 'Good');
  const capturedAt = Number(id.split('-')[1]);
  t.equal(pass.sourceTimestamp?.getTime(), capturedAt, 'source timestamp = capture time');
  t.equal((await read(op.session, 'cam1', 'Score')).sourceTimestamp?.getTime(), capturedAt);
  t.equal((await read(op.session, 'cam1', 'Busy')).value.value, false);
  t.equal((await read(op.session, 'cam1', 'Trigger')).value.value, true, 'Trigger belongs to the PLC: left as written');

  // Trigger low, then a second rising edge: a fail with locations and a mask.
  await write(op.session, 'cam1', 'Trigger', DataType.Boolean, false);
  await write(op.session, 'cam1', 'Trigger', DataType.Boolean, true);
  await until(() => cam1.seq === 2 && (w.seen.at(-1)?.tag !== 'Busy'), 5000, 'second verdict');
  await until(() => w.seen.some((e) => e.tag === 'InspectionId' && String(e.dv.value.value).endsWith('-2')), 5000, 'second id');
  t.equal((await read(op.session, 'cam1', 'Fail')).value.value, true);
  t.same((await read(op.session, 'cam1', 'Locations')).value.value, ['top left', 'center']);
  t.equal((await read(op.session, 'cam1', 'DefectCount')).value.value, 2);
  t.same(Buffer.from((await read(op.session, 'cam1', 'MaskPng')).value.value as Buffer), ONE_PIXEL_PNG);
  t.equal((await read(op.session, 'cam1', 'ResultReady')).value.value, true);

  t.equal((await write(op.session, 'cam1', 'Ack', DataType.Boolean, true)).name, 'Good');
  await until(() => w.seen.at(-1)?.tag === 'ResultReady' && w.seen.at(-1)?.dv.value.value === false, 5000, 'ResultReady cleared');
  t.equal((await read(op.session, 'cam1', 'Ack')).value.value, false, 'Ack resets itself');
  await write(op.session, 'cam1', 'Trigger', DataType.Boolean, false);
  await w.close();
});

t.test('a rising edge while busy is refused with BadInvalidState, not a crash', async (t) => {
  cam1.delayMs = 300;
  t.equal((await write(op.session, 'cam1', 'Trigger', DataType.Boolean, true)).name, 'Good');
  t.equal((await write(op.session, 'cam1', 'Trigger', DataType.Boolean, true)).name, 'Good', 'no edge: no new trigger, no error');
  await write(op.session, 'cam1', 'Trigger', DataType.Boolean, false);
  const refused = await write(op.session, 'cam1', 'Trigger', DataType.Boolean, true);
  t.equal(refused.name, 'BadInvalidState');
  t.match((await read(op.session, 'cam1', 'LastError')).value.value, /busy/);
  t.equal((await read(op.session, 'cam1', 'Trigger')).value.value, false, 'a refused write leaves the tag unchanged');
  t.ok(log.lines.some((l) => l.level === 40 && /E_CAMERA_BUSY/.test(l.msg) && l.camera === 'cam1'), 'logged as a warning');
  const call = await op.session.call({ objectId: `ns=${fx.ns};s=cam1`, methodId: node('cam1', 'Inspect'), inputArguments: [] });
  t.equal(call.statusCode.name, 'BadInvalidState', 'Inspect() while busy too');
  await until(() => cam1.seq === 3 && !cam1.snapshot().busy, 5000, 'the accepted trigger finished');
  await sleep(20);
  t.equal((await read(op.session, 'cam1', 'Busy')).value.value, false);
  await write(op.session, 'cam1', 'Ack', DataType.Boolean, true);
  cam1.delayMs = 0;
});

t.test('writes of wrong types and to read-only tags are refused', async (t) => {
  t.equal((await write(op.session, 'cam1', 'Trigger', DataType.String, 'yes')).name, 'BadTypeMismatch');
  t.equal((await write(op.session, 'cam1', 'Trigger', DataType.Int32, 1)).name, 'BadTypeMismatch');
  t.equal((await write(eng.session, 'cam1', 'RecipeId', DataType.Double, 3.5)).name, 'BadTypeMismatch');
  t.equal((await write(op.session, 'cam1', 'Score', DataType.Double, 0.1)).name, 'BadNotWritable');
  t.ok(log.lines.some((l) => l.msg === 'OPC UA write refused: wrong data type' && String(l.tag).endsWith('cam1.Trigger')), 'logged');
  t.equal((await read(op.session, 'cam1', 'Trigger')).value.value, false);
});

t.test('Inspect() returns the verdict', async (t) => {
  const before = cam1.seq;
  const call = await op.session.call({ objectId: `ns=${fx.ns};s=cam1`, methodId: node('cam1', 'Inspect'), inputArguments: [] });
  t.equal(call.statusCode.name, 'Good');
  const [pass, score, locations, id] = (call.outputArguments ?? []).map((v) => v.value);
  const seq = before + 1;
  t.equal(pass, seq % 2 === 1);
  t.equal(score, seq % 2 === 1 ? 0.21 : 0.87);
  t.same(locations, seq % 2 === 1 ? [] : ['top left', 'center']);
  t.match(id, new RegExp(`^cam1-\\d+-${seq}$`));
  t.equal((await read(op.session, 'cam1', 'InspectionId')).value.value, id, 'the tags show it too');
  t.equal((await read(op.session, 'cam1', 'ResultReady')).value.value, false, 'Inspect() does not use the ResultReady handshake');
});

t.test('recipes: engineer only; an unknown id is refused with a clear message', async (t) => {
  t.equal((await write(op.session, 'cam1', 'RecipeId', DataType.String, 'cable')).name, 'BadUserAccessDenied');
  t.equal((await write(eng.session, 'cam1', 'RecipeId', DataType.String, 'nope')).name, 'BadNotFound');
  t.match((await read(eng.session, 'cam1', 'LastError')).value.value, /E_RECIPE_NOT_FOUND: recipe "nope" not found/);
  t.equal((await read(eng.session, 'cam1', 'RecipeId')).value.value, 'bottle', 'refused write leaves RecipeId');
  t.equal((await write(eng.session, 'cam1', 'RecipeId', DataType.String, 'cable')).name, 'Good');
  t.equal(cam1.recipe.id, 'cable');
  t.equal((await read(op.session, 'cam1', 'Recipe')).value.value, 'cable');
  const select = (s: ClientSession, id: string) =>
    s.call({ objectId: `ns=${fx.ns};s=cam1`, methodId: node('cam1', 'SelectRecipe'), inputArguments: [{ dataType: DataType.String, value: id }] });
  t.equal((await select(op.session, 'bottle')).statusCode.name, 'BadUserAccessDenied');
  t.equal((await select(eng.session, 'missing')).statusCode.name, 'BadNotFound');
  t.equal((await select(eng.session, 'bottle')).statusCode.name, 'Good');
  t.equal((await read(op.session, 'cam1', 'RecipeId')).value.value, 'bottle');
});

t.test('result quality: Uncertain while the camera is down, trigger refused, Good again after', async (t) => {
  cam1.setHealth('reconnecting');
  t.equal((await read(op.session, 'cam1', 'Pass')).statusCode.name, 'UncertainLastUsableValue');
  t.equal((await read(op.session, 'cam1', 'CameraState')).value.value, 'reconnecting');
  t.equal((await write(op.session, 'cam1', 'Trigger', DataType.Boolean, true)).name, 'BadInvalidState');
  t.match((await read(op.session, 'cam1', 'LastError')).value.value, /Error, not Operational/);
  cam1.setHealth('streaming');
  t.equal((await read(op.session, 'cam1', 'Pass')).statusCode.name, 'Good');
  // A free-run camera's values go stale by age.
  line2.sink?.(line2.makeVerdict(Date.now() - 60_000));
  t.equal((await read(op.session, 'line2', 'Pass')).statusCode.name, 'UncertainLastUsableValue', 'older than staleAfterMs');
  line2.sink?.(line2.makeVerdict());
  t.equal((await read(op.session, 'line2', 'Pass')).statusCode.name, 'Good');
});

t.test('result tags hold still while ResultReady waits for Ack', async (t) => {
  await write(op.session, 'cam1', 'Trigger', DataType.Boolean, false);
  await write(op.session, 'cam1', 'Trigger', DataType.Boolean, true);
  await until(() => !cam1.snapshot().busy && cam1.triggers > 0, 5000);
  await sleep(20);
  const shown = (await read(op.session, 'cam1', 'InspectionId')).value.value;
  const other = cam1.makeVerdict(); // e.g. an MQTT trigger's verdict arriving through the sink
  cam1.sink?.(other);
  t.equal((await read(op.session, 'cam1', 'InspectionId')).value.value, shown, 'held back');
  await write(op.session, 'cam1', 'Ack', DataType.Boolean, true);
  t.equal((await read(op.session, 'cam1', 'InspectionId')).value.value, other.id, 'shown after Ack');
  await write(op.session, 'cam1', 'Trigger', DataType.Boolean, false);
});

t.test('trigger → ResultReady latency over 50 handshakes (monitored items)', async (t) => {
  const w = await watch(op.session, 'cam1', ['ResultReady', 'Trigger']);
  const client: number[] = [];
  const server: number[] = [];
  for (let i = 0; i < 50; i++) {
    // A PLC is not in phase with the server's publishing cycle: start at a random moment.
    await sleep(Math.random() * 50);
    const mark = w.seen.length;
    const t0 = performance.now();
    const status = await write(op.session, 'cam1', 'Trigger', DataType.Boolean, true);
    if (status.name !== 'Good') throw new Error(`trigger ${i}: ${status.name}`);
    const ready = () => w.seen.slice(mark).find((e) => e.tag === 'ResultReady' && e.dv.value.value === true);
    const trig = () => w.seen.slice(mark).find((e) => e.tag === 'Trigger' && e.dv.value.value === true);
    await until(() => ready() !== undefined && trig() !== undefined, 5000, `ResultReady ${i}`);
    client.push(ready()!.at - t0);
    server.push(ready()!.dv.sourceTimestamp!.getTime() - trig()!.dv.sourceTimestamp!.getTime());
    await write(op.session, 'cam1', 'Ack', DataType.Boolean, true);
    await write(op.session, 'cam1', 'Trigger', DataType.Boolean, false);
  }
  await w.close();
  const pct = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))];
  t.comment(
    `trigger → ResultReady, ${client.length} handshakes, SignAndEncrypt, publishing interval 50 ms, camera answering at once: ` +
      `client-observed p50 ${pct(client, 0.5).toFixed(1)} ms, p99 ${pct(client, 0.99).toFixed(1)} ms; ` +
      `server-side (Trigger accepted → ResultReady set, source timestamps) p50 ${pct(server, 0.5)} ms, p99 ${pct(server, 0.99)} ms`,
  );
  t.equal(client.length, 50);
  t.ok(pct(client, 0.99) < 1000, 'every handshake completed well within a second');
  t.ok(pct(server, 0.99) < 50, 'the server itself adds little');
});

t.test('Heartbeat counts seconds', async (t) => {
  const a = (await read(op.session, 'cam1', 'Heartbeat')).value.value as number;
  await sleep(1100);
  const b = (await read(op.session, 'cam1', 'Heartbeat')).value.value as number;
  t.ok(b > a, `heartbeat advanced (${a} → ${b})`);
});

t.test('default endpoints offer no None security', async (t) => {
  const endpoints = await op.client.getEndpoints();
  t.ok(endpoints.length >= 2);
  t.notOk(endpoints.some((e) => e.securityMode === 1), 'no MessageSecurityMode.None');
  t.notOk(endpoints.some((e) => (e.userIdentityTokens ?? []).some((u) => u.tokenType === 0)), 'no Anonymous token policy');
  t.notOk(log.lines.some((l) => /certificate refused/.test(l.msg)), "neither the trusted client nor the server's own certificate is reported as refused");
});

t.test('an LLM decision says so: DecidedBy, LlmPYes, and the judge\'s own figures beside the decider\'s', async (t) => {
  cam1.llmNext = 0.83;
  await write(op.session, 'cam1', 'Trigger', DataType.Boolean, false);
  const before = cam1.seq;
  await write(op.session, 'cam1', 'Trigger', DataType.Boolean, true);
  await until(() => cam1.seq === before + 1, 5000, 'the LLM-decided verdict');
  await until(async () => (await read(op.session, 'cam1', 'DecidedBy')).value.value === 'llm', 5000, 'DecidedBy = llm');
  t.equal((await read(op.session, 'cam1', 'Fail')).value.value, true);
  t.equal((await read(op.session, 'cam1', 'Score')).value.value, 0.83, 'Score is the decider\'s (P(yes))');
  t.equal((await read(op.session, 'cam1', 'LlmPYes')).value.value, 0.83);
  t.equal((await read(op.session, 'cam1', 'JudgePass')).value.value, true, 'what the judge said');
  t.equal((await read(op.session, 'cam1', 'JudgeScore')).value.value, 0.21);
  await write(op.session, 'cam1', 'Ack', DataType.Boolean, true);
  // The next one is the judge's again, with LlmPYes -1 (not asked).
  await write(op.session, 'cam1', 'Trigger', DataType.Boolean, false);
  await write(op.session, 'cam1', 'Trigger', DataType.Boolean, true);
  await until(() => cam1.seq === before + 2, 5000, 'a judge verdict');
  await until(async () => (await read(op.session, 'cam1', 'DecidedBy')).value.value === 'judge', 5000, 'DecidedBy = judge');
  t.equal((await read(op.session, 'cam1', 'LlmPYes')).value.value, -1);
  await write(op.session, 'cam1', 'Ack', DataType.Boolean, true);
  await write(op.session, 'cam1', 'Trigger', DataType.Boolean, false);
});
