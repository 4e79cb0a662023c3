/** The retained state message carries the active recipe's drift state (docs/mqtt.md "State"). */
import t from 'tap';
import type { CameraSnapshot } from '../../../src/publish/control.js';
import { stateKey, stateMessage } from '../../../src/publish/mqtt/payloads.js';

const snapshot = (drift?: CameraSnapshot['drift']): CameraSnapshot => ({
  id: 'cam1', health: 'streaming', triggerMode: 'free-run', busy: false,
  recipe: { id: 'bottle', version: '3' }, model: { id: 'm', version: '1' },
  counters: { inspected: 1, passed: 1, failed: 0, dropped: 0, errors: 0 }, lastVerdictAt: null,
  ...(drift ? { drift } : {}),
});
const mqtt = { queued: 0, dropped: 0, rejected: 0 };

t.test('drift: state, margin rounded to 0.01, passes; null without a drift watch', async (t) => {
  const m = stateMessage(snapshot({ state: 'watch', margin: 0.41234, passes: 200 }), null, mqtt, 0);
  t.same(m.drift, { state: 'watch', margin: 0.41, passes: 200 });
  t.same(stateMessage(snapshot({ state: 'insufficient', margin: null, passes: 3 }), null, mqtt, 0).drift, { state: 'insufficient', margin: null, passes: 3 });
  t.equal(stateMessage(snapshot(), null, mqtt, 0).drift, null);
  t.same(JSON.parse(JSON.stringify(m)).drift.state, 'watch', 'in the JSON payload');
});

t.test('a change of drift state is a change of the state message; noise below 0.01 is not', async (t) => {
  const a = stateKey(stateMessage(snapshot({ state: 'ok', margin: 0.801, passes: 200 }), null, mqtt, 0));
  t.equal(stateKey(stateMessage(snapshot({ state: 'ok', margin: 0.8031, passes: 200 }), null, mqtt, 5)), a);
  t.not(stateKey(stateMessage(snapshot({ state: 'watch', margin: 0.49, passes: 200 }), null, mqtt, 0)), a);
});
