/**
 * OPC 40100-1 Machine Vision over a real session: the VisionStateMachine follows the camera
 * (Preoperational → Operational → Error/Halted), the automatic mode follows the jobs (Ready,
 * SingleExecution, ContinuousExecution), the standard methods drive the camera, and
 * ResultReady events carrying ResultState and the verdict reach an event subscription.
 */
import t from 'tap';
import type { ClientSession, Variant } from 'node-opcua';
import type { Fixture, Session } from './helpers.js';

const opcua = await import('node-opcua');
const { AttributeIds, ClientMonitoredItem, ClientSubscription, DataType, TimestampsToReturn, UserTokenType, constructEventFilter, coerceNodeId } = opcua;
const { TestControl, openSession, sleep, startServer, until } = await import('./helpers.js');
const { AppError, ErrorCodes } = await import('../../../src/errors.js');
const { MACHINE_VISION_URI } = await import('../../../src/publish/opcua/vision-system.js');

const control = new TestControl([{ id: 'cam1', health: 'starting' }, { id: 'cam2', mode: 'free-run' }]);
const cam1 = control.camera('cam1')!;
const cam2 = control.camera('cam2')!;
let fx: Fixture;
let s: Session;
let mv: number;

interface ResultEvent {
  jobId: string;
  resultId: string;
  state: number;
  content: string[];
  measId?: string;
  recipe?: string;
}
const results: ResultEvent[] = [];
const transitions: string[] = [];

const vs = (cam: string, path: string) => `ns=${fx.ns};s=${cam}.VisionSystem-VisionStateMachine${path}`;
const auto = (cam: string) => vs(cam, '-AutomaticModeStateMachine');
const readText = async (nodeId: string) => {
  const dv = await s.session.read({ nodeId, attributeId: AttributeIds.Value });
  return dv.statusCode.isGood() ? (dv.value.value as { text: string }).text : dv.statusCode.name;
};
const mainState = (cam: string) => readText(vs(cam, '-CurrentState'));
const autoState = (cam: string) => readText(`${auto(cam)}-CurrentState`);

async function ext(session: ClientSession, type: number, fields: Record<string, unknown>) {
  return session.constructExtensionObject(coerceNodeId(`ns=${mv};i=${type}`), fields);
}

/** StartSingleJob / StartContinuous with the spec's five inputs. */
async function startJob(cam: string, method: 'StartSingleJob' | 'StartContinuous', opts: { measId?: string; recipeId?: string } = {}) {
  const inputs: Variant[] | unknown[] = [
    { dataType: DataType.ExtensionObject, value: await ext(s.session, 3015, { id: opts.measId ?? '' }) },
    { dataType: DataType.ExtensionObject, value: await ext(s.session, 3004, { id: '' }) },
    { dataType: DataType.ExtensionObject, value: await ext(s.session, 3002, { id: opts.recipeId ?? '' }) },
    { dataType: DataType.ExtensionObject, value: await ext(s.session, 3003, { id: '' }) },
    { dataType: DataType.Null },
  ];
  const r = await s.session.call({ objectId: auto(cam), methodId: `${auto(cam)}-${method}`, inputArguments: inputs as never });
  return { status: r.statusCode.name, jobId: (r.outputArguments?.[0]?.value as { id?: string } | undefined)?.id };
}

async function call(objectId: string, method: string) {
  const r = await s.session.call({
    objectId,
    methodId: `${objectId}-${method}`,
    inputArguments: [
      { dataType: DataType.Int32, value: 0 },
      { dataType: DataType.String, value: 'test' },
    ],
  });
  return r.statusCode.name;
}

t.before(async () => {
  fx = await startServer(control, { allowAnonymous: true }, { trustClient: true });
  s = await openSession(fx, { mode: 'SignAndEncrypt', policy: 'Aes256_Sha256_RsaPss', user: 'operator' });
  const nsArray = (await s.session.read({ nodeId: 'i=2255', attributeId: AttributeIds.Value })).value.value as string[];
  mv = nsArray.indexOf(MACHINE_VISION_URI);
  const sub = ClientSubscription.create(s.session, {
    requestedPublishingInterval: 50,
    requestedLifetimeCount: 1000,
    requestedMaxKeepAliveCount: 10,
    publishingEnabled: true,
  });
  const fields = ['EventType', 'Message', `${mv}:ResultState`, `${mv}:ResultContent`, `${mv}:JobId`, `${mv}:ResultId`, `${mv}:MeasId`, `${mv}:InternalRecipeId`, 'Transition'];
  const item = ClientMonitoredItem.create(
    sub,
    { nodeId: 'i=2253', attributeId: AttributeIds.EventNotifier },
    { queueSize: 1000, filter: constructEventFilter(fields), samplingInterval: 0 },
    TimestampsToReturn.Neither,
  );
  item.on('changed', (values: Variant[]) => {
    const [type, , state, content, jobId, resultId, measId, recipe, transition] = values.map((v) => v.value);
    if (transition) transitions.push((transition as { text: string }).text);
    if (String(type) !== `ns=${mv};i=1024`) return;
    results.push({
      jobId: (jobId as { id: string }).id,
      resultId: (resultId as { id: string }).id,
      state: state as number,
      content: ((content as Variant[] | null) ?? []).map((v) => String(v.value)),
      measId: (measId as { id?: string } | null)?.id,
      recipe: (recipe as { id?: string } | null)?.id,
    });
  });
  await sleep(200);
});
t.teardown(async () => {
  await s?.close();
  await fx?.server.stop();
});

t.test('the state machine follows the camera: Preoperational → Operational, Error, Halted', async (t) => {
  t.equal(await mainState('cam1'), 'Preoperational', 'after power-up');
  t.equal(await autoState('cam1'), 'BadStateNotActive', 'automatic mode inactive outside Operational');
  cam1.setHealth('streaming');
  t.equal(await mainState('cam1'), 'Operational');
  t.equal(await autoState('cam1'), 'Ready');
  cam1.setHealth('reconnecting');
  t.equal(await mainState('cam1'), 'Error');
  cam1.setHealth('streaming');
  t.equal(await mainState('cam1'), 'Operational', 'ErrorToOperationalAuto');
  cam1.setHealth('ended');
  t.equal(await mainState('cam1'), 'Halted');
  cam1.setHealth('streaming');
  t.equal(await mainState('cam1'), 'Operational', 'through Preoperational');
  t.equal(await autoState('cam1'), 'Ready');
  await until(() => transitions.includes('ErrorToOperationalAuto') && transitions.includes('HaltedToPreoperationalAuto'), 3000, 'transition events');
  t.ok(transitions.includes('PreoperationalToOperationalAuto'), 'TransitionEvents name the automatic transitions');
});

t.test('StartSingleJob: SingleExecution, then a ResultReady event with the verdict', async (t) => {
  cam1.delayMs = 150;
  const r = await startJob('cam1', 'StartSingleJob', { measId: 'meas-42' });
  t.equal(r.status, 'Good');
  t.match(r.jobId, /^cam1-job-\d+$/);
  t.equal(await autoState('cam1'), 'SingleExecution');
  t.equal((await startJob('cam1', 'StartSingleJob')).status, 'BadInvalidState', 'not from SingleExecution');
  await until(() => results.some((e) => e.jobId === r.jobId), 3000, 'ResultReady event');
  const ev = results.find((e) => e.jobId === r.jobId)!;
  t.equal(ev.state, 1, 'ResultState Completed');
  t.equal(ev.measId, 'meas-42', 'MeasId echoed');
  t.equal(ev.recipe, 'bottle', 'InternalRecipeId');
  const verdict = JSON.parse(ev.content[0]);
  t.equal(verdict.id, ev.resultId, 'ResultId is the inspection id');
  t.equal(verdict.pass, true);
  t.equal(verdict.score, 0.21);
  t.same(verdict.locations, []);
  t.equal(await autoState('cam1'), 'Ready');
  await until(() => transitions.includes('ReadyToSingleExecution') && transitions.includes('SingleExecutionToReadyAuto'), 3000, 'job transitions');
  t.pass('ReadyToSingleExecution (method) and SingleExecutionToReadyAuto were raised');
  t.equal((await startJob('cam1', 'StartSingleJob', { recipeId: 'cable' })).status, 'BadInvalidArgument', 'not the active recipe');
  cam1.delayMs = 0;
});

t.test('a job whose inspection fails: ResultState Failed and the Error tag', async (t) => {
  cam1.failNext = new AppError(ErrorCodes.CAMERA_READ, 'frame grab timed out');
  const r = await startJob('cam1', 'StartSingleJob');
  t.equal(r.status, 'Good');
  await until(() => results.some((e) => e.jobId === r.jobId), 3000, 'failure event');
  const ev = results.find((e) => e.jobId === r.jobId)!;
  t.equal(ev.state, 4, 'ResultState Failed');
  t.same(ev.content, []);
  const error = await s.session.read({ nodeId: `ns=${fx.ns};s=cam1.Error`, attributeId: AttributeIds.Value });
  t.equal(error.value.value, true);
  const last = await s.session.read({ nodeId: `ns=${fx.ns};s=cam1.LastError`, attributeId: AttributeIds.Value });
  t.match(last.value.value, /E_CAMERA_READ: frame grab timed out/);
});

t.test('StartContinuous inspects until Stop', async (t) => {
  cam1.delayMs = 20;
  const r = await startJob('cam1', 'StartContinuous');
  t.equal(r.status, 'Good');
  t.equal(await autoState('cam1'), 'ContinuousExecution');
  await until(() => results.filter((e) => e.jobId === r.jobId).length >= 3, 3000, 'three results');
  t.equal(await call(auto('cam1'), 'Stop'), 'Good');
  t.equal(await autoState('cam1'), 'Ready');
  await sleep(60);
  const seq = cam1.seq;
  await sleep(150);
  t.equal(cam1.seq, seq, 'no more inspections after Stop');
  await until(() => transitions.includes('ReadyToContinuousExecution') && transitions.includes('ContinuousExecutionToReadyStop'), 3000, 'Stop transition');
  t.pass('ReadyToContinuousExecution and ContinuousExecutionToReadyStop were raised');
  t.equal(await call(auto('cam1'), 'Abort'), 'BadInvalidState', 'nothing to abort in Ready');
  cam1.delayMs = 0;
});

t.test('Halt and Reset', async (t) => {
  t.equal(await call(vs('cam1', ''), 'Halt'), 'Good');
  t.equal(await mainState('cam1'), 'Halted');
  const trigger = await s.session.write({
    nodeId: `ns=${fx.ns};s=cam1.Trigger`,
    attributeId: AttributeIds.Value,
    value: { value: { dataType: DataType.Boolean, value: true } },
  });
  t.equal(trigger.name, 'BadInvalidState', 'no trigger while Halted');
  cam1.setHealth('reconnecting');
  cam1.setHealth('streaming');
  t.equal(await mainState('cam1'), 'Halted', 'a halted system stays halted whatever the camera does');
  t.equal(await call(vs('cam1', ''), 'Reset'), 'Good');
  t.equal(await mainState('cam1'), 'Operational', 'Reset → Preoperational → Operational');
  t.equal(await autoState('cam1'), 'Ready');
  await until(() => transitions.includes('OperationalToHalted') && transitions.includes('HaltedToPreoperational'), 3000, 'method-caused transitions');
  t.pass('OperationalToHalted and HaltedToPreoperational (the method-caused ones) were raised');
});

t.test('a free-running camera is in ContinuousExecution and cannot be stopped over OPC UA', async (t) => {
  t.equal(await mainState('cam2'), 'Operational');
  t.equal(await autoState('cam2'), 'ContinuousExecution');
  t.equal(await call(auto('cam2'), 'Stop'), 'BadNotSupported');
  t.equal((await startJob('cam2', 'StartSingleJob')).status, 'BadInvalidState');
  const v = cam2.makeVerdict();
  cam2.sink?.(v);
  await until(() => results.some((e) => e.resultId === v.id), 3000, 'free-run event');
  t.equal(results.find((e) => e.resultId === v.id)!.jobId, 'cam2-free-run');
  await sleep(120);
  t.equal(results.filter((e) => e.resultId === v.id).length, 1, 'one event per verdict on the Server object');
  t.equal(JSON.parse(results.find((e) => e.resultId === v.id)!.content[0]).pass, v.pass);
});

t.test('operators may not do what only engineers may', async (t) => {
  // the job methods are operator-callable (checked above); recipe selection is not
  const r = await s.session.call({
    objectId: `ns=${fx.ns};s=cam1`,
    methodId: `ns=${fx.ns};s=cam1.SelectRecipe`,
    inputArguments: [{ dataType: DataType.String, value: 'cable' }],
  });
  t.equal(r.statusCode.name, 'BadUserAccessDenied');
});

t.test('anonymous, when allowed, may read but not write or call', async (t) => {
  const anon = await openSession(fx, { mode: 'Sign', user: { type: UserTokenType.Anonymous } });
  t.teardown(() => anon.close());
  const state = await anon.session.read({ nodeId: `ns=${fx.ns};s=cam1.CameraState`, attributeId: AttributeIds.Value });
  t.equal(state.value.value, 'streaming');
  const w = await anon.session.write({
    nodeId: `ns=${fx.ns};s=cam1.Trigger`,
    attributeId: AttributeIds.Value,
    value: { value: { dataType: DataType.Boolean, value: true } },
  });
  t.equal(w.name, 'BadUserAccessDenied');
  const inspect = await anon.session.call({ objectId: `ns=${fx.ns};s=cam1`, methodId: `ns=${fx.ns};s=cam1.Inspect`, inputArguments: [] });
  t.equal(inspect.statusCode.name, 'BadUserAccessDenied');
  const halt = await anon.session.call({
    objectId: vs('cam1', ''),
    methodId: vs('cam1', '-Halt'),
    inputArguments: [{ dataType: DataType.Int32, value: 0 }, { dataType: DataType.String, value: '' }],
  });
  t.equal(halt.statusCode.name, 'BadUserAccessDenied');
  t.equal(await mainState('cam1'), 'Operational');
});
