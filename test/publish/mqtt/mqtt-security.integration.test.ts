import t from 'tap';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { MqttPublisher } from '../../../src/publish/mqtt/mqtt-publisher.js';
import { Mosquitto, mosquittoMissing } from '../../../tools/support/mosquitto.js';
import { Recorder, RecordedPublisher, TestCamera, frameOf, TestControl, makePublisher, mqttConfig, silentLogger, tempDir, until } from './fixtures.js';

const missing = mosquittoMissing();
if (missing) t.plan(0, missing);

const ACL = `user alice
topic readwrite acl/#
user bob
topic read acl/#
user watcher
topic read #
`;

t.test('password file + ACL: env and systemd-credential passwords; denied publishes surface in status', async (t) => {
  const broker = await Mosquitto.start({ users: { alice: 'alice-pw', bob: 'bob-pw', watcher: 'w-pw' }, acl: ACL });
  const state = tempDir();
  t.teardown(async () => { await broker.close(); state.remove(); });
  const rec = await Recorder.connect(broker.url, ['acl/#'], { username: 'watcher', password: 'w-pw' });
  t.teardown(() => rec.close());
  const base = { url: broker.url, prefix: 'acl', username: 'alice' };

  // password from the environment
  const cam = new TestCamera('cam');
  const control = new TestControl([cam]);
  const alice = new RecordedPublisher({
    config: mqttConfig({ ...base, password: { env: 'AGPT_MQTT_PW' } }), stateDirectory: path.join(state.dir, 'a'),
    control, logger: silentLogger(), secrets: { env: { AGPT_MQTT_PW: 'alice-pw' } },
  });
  cam.sink = (v) => alice.publish(v, frameOf(v));
  await alice.start(new AbortController().signal);
  await cam.sink(cam.next());
  await rec.waitFor('acl/cam/inspection', 1);
  t.equal(alice.status().lastError, undefined);
  await alice.stop();

  // password from $CREDENTIALS_DIRECTORY (systemd LoadCredential=)
  const creds = path.join(state.dir, 'creds');
  mkdirSync(creds);
  writeFileSync(path.join(creds, 'mqtt-password'), 'alice-pw\n');
  const viaCred = new RecordedPublisher({
    config: mqttConfig({ ...base, clientId: 'cred', password: { credential: 'mqtt-password' } }), stateDirectory: path.join(state.dir, 'c'),
    control, logger: silentLogger(), secrets: { env: {}, credentialsDirectory: creds },
  });
  cam.sink = (v) => viaCred.publish(v, frameOf(v));
  await viaCred.start(new AbortController().signal);
  await cam.sink(cam.next());
  await rec.waitFor('acl/cam/inspection', 2);
  await viaCred.stop();

  // a missing secret is a config error at construction (exit 78), not a reconnect loop
  t.throws(() => new RecordedPublisher({
    config: mqttConfig({ ...base, password: { env: 'UNSET_PW' } }), stateDirectory: state.dir, control, logger: silentLogger(), secrets: { env: {} },
  }), { code: 'E_CONFIG_INVALID', message: /UNSET_PW/ });

  // bob may only read: MQTT 5 PUBACK "Not authorized" (0x87) → kept in the record, shown in status
  const bobCam = new TestCamera('cam');
  const bob = makePublisher(new TestControl([bobCam]), mqttConfig({ ...base, username: 'bob', password: { env: 'BOB' }, clientId: 'bob' }), path.join(state.dir, 'b'), { secrets: { env: { BOB: 'bob-pw' } } });
  t.teardown(() => bob.stop());
  t.equal(bob.mqtt instanceof MqttPublisher, true);
  await bob.start(new AbortController().signal);
  await until(() => bob.status().connected, 3000, 'bob connected');
  await bobCam.sink!(bobCam.next());
  await until(() => bob.status().lastError !== undefined && bob.status().delivery.refusals > 0, 5000, 'refusal in status');
  const st = bob.status();
  t.equal(st.lastError!.code, 135, 'reason code 0x87');
  t.match(st.lastError!.message, /Not authorized/);
  t.equal(st.queue.length, 1, 'the inspection stays queued (an ACL fix lets it through)');
  t.equal(rec.on('acl/cam/inspection').length, 2, 'nothing from bob reached subscribers');

  // a wrong password: refused at CONNECT, shown in status, not connected
  const wrong = makePublisher(new TestControl([new TestCamera('cam')]), mqttConfig({ ...base, password: { env: 'WRONG' }, clientId: 'wrong' }), path.join(state.dir, 'w'), { secrets: { env: { WRONG: 'nope' } } });
  t.teardown(() => wrong.stop());
  await wrong.start(new AbortController().signal);
  await until(() => wrong.status().lastError !== undefined, 5000, 'connect refusal in status');
  t.equal(wrong.status().connected, false);
  t.match(wrong.status().lastError!.message, /Bad User Name or Password|Not authorized/i);
});

t.test('TLS with test-made certificates: CA + client certificate', async (t) => {
  const broker = await Mosquitto.start({ tls: { requireCertificate: true } });
  const state = tempDir();
  t.teardown(async () => { await broker.close(); state.remove(); });
  const tls = broker.tls!;
  t.match(broker.url, /^mqtts:\/\/127\.0\.0\.1:/);
  const { readFileSync } = await import('node:fs');
  const rec = await Recorder.connect(broker.url, ['tls/#'], {
    ca: readFileSync(tls.caPath), cert: readFileSync(tls.clientCertPath), key: readFileSync(tls.clientKeyPath),
  });
  t.teardown(() => rec.close());

  const cam = new TestCamera('cam', { failEvery: 1 });
  const good = makePublisher(new TestControl([cam]), mqttConfig({
    url: broker.url, prefix: 'tls', tls: { ca: tls.caPath, cert: tls.clientCertPath, key: tls.clientKeyPath },
  }), path.join(state.dir, 'good'));
  await good.start(new AbortController().signal);
  await cam.sink!(cam.next());
  await rec.waitFor('tls/cam/inspection', 1);
  await rec.waitFor('tls/cam/mask', 1);
  t.equal(good.status().connected, true, 'mutual TLS connection');
  await good.stop();

  // no client certificate: the broker ends the handshake
  const noCert = makePublisher(new TestControl([new TestCamera('cam')]), mqttConfig({ url: broker.url, prefix: 'tls', clientId: 'nocert', tls: { ca: tls.caPath } }), path.join(state.dir, 'n'));
  t.teardown(() => noCert.stop());
  await noCert.start(new AbortController().signal);
  // without a CA the broker's certificate is not trusted
  const noCa = makePublisher(new TestControl([new TestCamera('cam')]), mqttConfig({ url: broker.url, prefix: 'tls', clientId: 'noca', tls: { cert: tls.clientCertPath, key: tls.clientKeyPath } }), path.join(state.dir, 'o'));
  t.teardown(() => noCa.stop());
  await noCa.start(new AbortController().signal);
  await until(() => noCa.status().lastError !== undefined, 5000, 'untrusted broker certificate in status');
  t.equal(noCa.status().connected, false);
  t.match(noCa.status().lastError!.message, /certificate/i);
  t.comment(`no CA: ${noCa.status().lastError!.message}`);
  await until(() => noCert.status().lastError !== undefined, 5000, 'missing client certificate in status');
  t.comment(`no client cert: ${noCert.status().lastError!.message}`);
  t.equal(noCert.status().connected, false, 'no client certificate: not connected');
  t.equal(noCert.status().connects, 0);

  // config errors: unreadable files, tls on a plain URL
  t.throws(() => makePublisher(new TestControl([]), mqttConfig({ url: broker.url, tls: { ca: '/nonexistent/ca.pem' } }), state.dir), { code: 'E_CONFIG_INVALID', message: /ca.*ENOENT/ });
  t.throws(() => makePublisher(new TestControl([]), mqttConfig({ url: 'mqtt://127.0.0.1:1', tls: { ca: tls.caPath } }), state.dir), { code: 'E_CONFIG_INVALID', message: /mqtts/ });
});
