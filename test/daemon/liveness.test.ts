import t from 'tap';
import { judgeLiveness, LivenessMonitor } from '../../src/daemon/liveness.js';
import type { PipelineActivity } from '../../src/pipeline/camera-pipeline.js';
import { capturingLogger } from '../pipeline/helpers.js';

const base: PipelineActivity = { completed: 10, inFlight: false, triggersPending: 0, cameraState: 'streaming', mode: 'free-run', fps: 0 };
const at = (over: Partial<PipelineActivity>): PipelineActivity => ({ ...base, ...over });

t.test('liveness rule per pipeline', async (t) => {
  t.equal(judgeLiveness(at({ completed: 11 }), 10, 1000), 'live', 'completed a frame this interval');
  t.equal(judgeLiveness(at({ completed: 11, inFlight: true }), 10, 1000), 'live');
  t.equal(judgeLiveness(at({}), 10, 1000), 'stalled', 'streaming free-run camera that completed nothing');
  t.equal(judgeLiveness(at({ inFlight: true }), 10, 1000), 'stalled', 'a frame in flight for a whole interval');
  t.equal(judgeLiveness(at({ mode: 'on-demand' }), 10, 1000), 'idle', 'idle on-demand camera');
  t.equal(judgeLiveness(at({ mode: 'on-demand', triggersPending: 1 }), 10, 1000), 'stalled', 'unanswered trigger');
  t.equal(judgeLiveness(at({ mode: 'on-demand', inFlight: true }), 10, 1000), 'stalled');
  t.equal(judgeLiveness(at({ cameraState: 'reconnecting' }), 10, 1000), 'idle', 'a reconnecting camera retries by itself');
  t.equal(judgeLiveness(at({ cameraState: 'ended' }), 10, 1000), 'idle');
  t.equal(judgeLiveness(at({ fps: 0.5 }), 10, 1000), 'idle', 'no frame due within the interval');
  t.equal(judgeLiveness(at({ fps: 2 }), 10, 1000), 'stalled', 'two frames were due');
});

t.test('the monitor feeds the watchdog only when no pipeline is stalled', async (t) => {
  const { logger, lines } = capturingLogger('warn');
  let progress = 0;
  let pings = 0;
  let last = 0;
  const watchdog = {
    progress: () => void progress++,
    tick: () => {
      const ping = progress > last;
      last = progress;
      if (ping) pings++;
      return ping;
    },
  };
  const a = { cameraId: 'a', activity: at({ completed: 0 }) };
  const b = { cameraId: 'b', activity: at({ completed: 0, mode: 'on-demand' }) };
  const monitor = new LivenessMonitor({ pipelines: [a, b], watchdog, intervalMs: 1000, logger });
  monitor.start();
  t.teardown(() => monitor.stop());
  a.activity = at({ completed: 3 });
  t.equal(monitor.check(), true, 'a made progress, b is idle on demand');
  t.equal(monitor.check(), false, 'a made no progress since');
  t.same(monitor.stalled, ['a']);
  t.equal(lines.filter((l) => l.msg === 'pipelines made no progress this interval').length, 1);
  t.equal(monitor.check(), false);
  t.equal(lines.length, 1, 'the same stall is logged once');
  a.activity = at({ completed: 4 });
  t.equal(monitor.check(), true, 'progress resumed');
  t.same(monitor.stalled, []);
  a.activity = at({ completed: 4, mode: 'on-demand' });
  t.equal(monitor.check(), true, 'no camera free-running: alive');
  t.equal(pings, 3);
});
