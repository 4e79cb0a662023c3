/**
 * What the technician's console added to the OPC UA server: the DriftState tag per camera (the
 * drift watch's state of its active recipe), a recipe switched elsewhere (page, MQTT) shown on
 * the Recipe tags within a second, and the status getter (sessions) the page's status view reads.
 */
import t from 'tap';
import type { Fixture, Session } from './helpers.js';

// node-opcua loads under tap through test/support/esm-detect.mjs (preloaded, package.json).
const { AttributeIds } = await import('node-opcua');
const { TestControl, openSession, startServer, until } = await import('./helpers.js');

const control = new TestControl([{ id: 'cam1' }]);
const cam1 = control.camera('cam1')!;
let fx: Fixture;
let op: Session;

const read = async (tag: string) => (await op.session.read({ nodeId: `ns=${fx.ns};s=cam1.${tag}`, attributeId: AttributeIds.Value })).value.value as unknown;

t.before(async () => {
  fx = await startServer(control, {}, { trustClient: true });
  op = await openSession(fx, { mode: 'SignAndEncrypt', user: 'operator' });
});
t.teardown(async () => {
  await op?.close();
  await fx?.server.stop();
});

t.test('DriftState follows the camera snapshot\'s drift (written on change, within a second)', async (t) => {
  t.equal(await read('DriftState'), 'insufficient', 'before any drift report');
  cam1.drift = { state: 'watch', margin: 0.4, passes: 200 };
  await until(async () => (await read('DriftState')) === 'watch', 3000, 'DriftState = watch', 100);
  cam1.drift = { state: 'drifting', margin: 0.1, passes: 200 };
  await until(async () => (await read('DriftState')) === 'drifting', 3000, 'DriftState = drifting', 100);
  t.pass('DriftState went watch → drifting');
});

t.test('a recipe selected outside OPC UA shows on the Recipe tag within a second', async (t) => {
  t.equal(await read('Recipe'), 'bottle');
  await cam1.selectRecipe('cable'); // as the page's PUT /api/cameras/cam1/recipe does
  await until(async () => (await read('Recipe')) === 'cable', 3000, 'Recipe = cable', 100);
  t.pass('Recipe tag updated without a verdict');
});

t.test('status(): endpoint, open sessions and the session limit', async (t) => {
  const s = fx.server.status();
  t.match(s, { listening: true, endpoint: /^opc\.tcp:\/\//, maxSessions: 20 });
  t.ok(s.sessions >= 1, `${s.sessions} session(s) open (the test's own)`);
});
