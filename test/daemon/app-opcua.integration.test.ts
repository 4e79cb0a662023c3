/**
 * The daemon end to end with the PLC's side: a real App (simulated on-demand camera, the real
 * default bundle) serving OPC UA; a real node-opcua client session (SignAndEncrypt, operator)
 * drives the Trigger → Busy → ResultReady → Ack handshake, and an engineer switches recipes.
 */
import t from 'tap';
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { validateConfig } from '../../src/config/index.js';
import { App } from '../../src/daemon/app.js';
import { defaultBundleDir, silentLogger, until } from '../pipeline/helpers.js';
import { daemonTestdir } from '../support/testdir.js';

const { AttributeIds, ClientMonitoredItem, ClientSubscription, DataType, TimestampsToReturn } = await import('node-opcua');
const { SECRETS, USERS, clientCertificate, freePort, openSession } = await import('../publish/opcua/helpers.js');

t.test('PLC handshake against the running daemon; recipe selection by an engineer', async (t) => {
  const dir = daemonTestdir(t);
  const stateDir = join(dir, 'state');
  const clientPki = join(dir, 'client-pki');
  // The integrator trusts the PLC's certificate (as `anomalygpt-edge opcua trust` would).
  const trusted = join(stateDir, 'opcua-pki', 'trusted', 'certs');
  mkdirSync(trusted, { recursive: true });
  copyFileSync(await clientCertificate(clientPki), join(trusted, 'plc.pem'));
  const port = await freePort();
  const config = validateConfig(
    {
      stateDirectory: stateDir,
      logging: { level: 'warn' },
      inference: { bundle: await defaultBundleDir(), executionProviders: ['cpu'], warmupRuns: 1 },
      cameras: [{ id: 'cam1', recipe: 'sim-part', source: { kind: 'sim', width: 320, height: 240, defectRate: 0.5, seed: 9 }, trigger: { mode: 'on-demand' } }],
      http: { enabled: false },
      opcua: {
        enabled: true, host: '127.0.0.1', hostname: '127.0.0.1', port,
        users: [
          { username: USERS.operator[0], password: { env: 'OPCUA_OP_PW' }, role: 'operator' },
          { username: USERS.engineer[0], password: { env: 'OPCUA_ENG_PW' }, role: 'engineer' },
        ],
      },
    },
    'test',
    { baseDir: dir, env: SECRETS.env },
  );
  const app = new App({ config, logger: silentLogger(), env: SECRETS.env });
  const started = await app.start();
  t.ok(started.ok, `daemon started ${JSON.stringify(started.failures)}`);
  t.teardown(() => app.stop());

  const fx = { endpoint: `opc.tcp://127.0.0.1:${port}`, clientPki };
  const op = await openSession(fx, { mode: 'SignAndEncrypt', policy: 'Basic256Sha256', user: 'operator' });
  t.teardown(() => op.close());
  const ns = (await op.session.readNamespaceArray()).indexOf('urn:anomalygpt-edge');
  t.ok(ns > 0, 'our namespace is served');
  const nodeId = (tag: string) => `ns=${ns};s=cam1.${tag}`;
  const read = async (tag: string) => (await op.session.read({ nodeId: nodeId(tag), attributeId: AttributeIds.Value })).value.value;
  const write = (s: typeof op.session, tag: string, dataType: number, value: unknown) =>
    s.write({ nodeId: nodeId(tag), attributeId: AttributeIds.Value, value: { value: { dataType, value } } });

  const sub = ClientSubscription.create(op.session, { requestedPublishingInterval: 50, requestedLifetimeCount: 1000, requestedMaxKeepAliveCount: 10, publishingEnabled: true });
  t.teardown(() => sub.terminate());
  const ready: boolean[] = [];
  const busy: boolean[] = [];
  for (const [tag, into] of [['ResultReady', ready], ['Busy', busy]] as const) {
    const item = ClientMonitoredItem.create(sub, { nodeId: nodeId(tag), attributeId: AttributeIds.Value }, { samplingInterval: 0, queueSize: 100 }, TimestampsToReturn.Both);
    item.on('changed', (dv) => into.push(dv.value.value as boolean));
  }
  await until(() => ready.length > 0 && busy.length > 0, 10_000, 'initial values');

  const handshakes = 6;
  for (let i = 0; i < handshakes; i++) {
    const mark = ready.length;
    t.equal((await write(op.session, 'Trigger', DataType.Boolean, true)).name, 'Good', `trigger ${i} accepted`);
    await until(() => ready.slice(mark).includes(true), 15_000, `ResultReady ${i}`);
    const pass = await read('Pass');
    t.equal(await read('Fail'), !pass, 'Pass and Fail agree');
    t.match(await read('InspectionId'), /^cam1-/, 'inspection id published');
    await write(op.session, 'Ack', DataType.Boolean, true);
    await until(() => ready[ready.length - 1] === false, 10_000, `ResultReady cleared ${i}`);
    await write(op.session, 'Trigger', DataType.Boolean, false);
  }
  t.ok(busy.includes(true), 'Busy was raised during an inspection');
  t.equal(app.status().cameras.cam1.counters.inspected, handshakes, 'the daemon inspected one frame per trigger');

  // An operator may not select recipes; an engineer may, and an unknown one is refused.
  t.not((await write(op.session, 'RecipeId', DataType.String, 'other')).name, 'Good', 'operator cannot write RecipeId');
  const eng = await openSession(fx, { mode: 'SignAndEncrypt', policy: 'Basic256Sha256', user: 'engineer' });
  t.teardown(() => eng.close());
  t.equal((await write(eng.session, 'RecipeId', DataType.String, 'no-such-recipe')).name, 'BadNotFound', 'unknown recipe refused');
  t.equal(app.control.camera('cam1')!.snapshot().recipe.id, 'sim-part', 'active recipe unchanged');
  t.equal(app.state, 'running');
});
