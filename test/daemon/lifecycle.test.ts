import t from 'tap';
import { EventEmitter } from 'node:events';
import type { Component } from '../../src/component.js';
import { Lifecycle, handleStopSignals } from '../../src/daemon/lifecycle.js';
import { componentLogger } from '../../src/log.js';
import { sleep } from '../support/wait.js';
import { capturingLogger } from '../support/logger.js';

/** A component that records its calls in a shared journal. */
function part(name: string, journal: string[], behaviour: { startMs?: number; stop?: 'hang' | 'throw'; start?: 'throw' | 'wait-abort' } = {}): Component {
  return {
    name,
    async start(signal) {
      journal.push(`start ${name}`);
      if (behaviour.start === 'throw') throw new Error(`${name} cannot start`);
      if (behaviour.start === 'wait-abort') {
        await new Promise<void>((_, reject) => signal.addEventListener('abort', () => reject(signal.reason), { once: true }));
      }
      if (behaviour.startMs) await sleep(behaviour.startMs);
    },
    async stop() {
      journal.push(`stop ${name}`);
      if (behaviour.stop === 'hang') await new Promise(() => {});
      if (behaviour.stop === 'throw') throw new Error(`${name} stop failed`);
    },
  };
}

t.test('starts in order, stops in exact reverse', async (t) => {
  const journal: string[] = [];
  const { logger } = capturingLogger();
  const lc = new Lifecycle(['config', 'model', 'archive', 'camera', 'http'].map((n) => part(n, journal)), { logger, stepTimeoutMs: 1000 });
  t.equal(lc.state, 'idle');
  t.same(await lc.start(), { ok: true, failures: [] });
  t.equal(lc.state, 'running');
  t.same(lc.started, ['config', 'model', 'archive', 'camera', 'http']);
  const [a, b] = await Promise.all([lc.stop('test'), lc.stop('again')]);
  t.equal(a, b, 'stop is idempotent');
  t.same(a, { ok: true, failures: [] });
  t.equal(lc.state, 'stopped');
  t.same(journal, [
    'start config', 'start model', 'start archive', 'start camera', 'start http',
    'stop http', 'stop camera', 'stop archive', 'stop model', 'stop config',
  ]);
  t.throws(() => new Lifecycle([part('x', []), part('x', [])], { logger, stepTimeoutMs: 1 }), /duplicate component name/);
});

t.test('a hanging stop times out with E_STOP_TIMEOUT and the next step still runs', async (t) => {
  const journal: string[] = [];
  const { logger, lines } = capturingLogger();
  const lc = new Lifecycle([part('a', journal), part('b', journal, { stop: 'throw' }), part('c', journal, { stop: 'hang' }), part('d', journal)], {
    logger,
    stepTimeoutMs: 50,
  });
  await lc.start();
  const t0 = performance.now();
  const result = await lc.stop();
  const ms = performance.now() - t0;
  t.ok(ms >= 45 && ms < 1000, `stop took ${ms.toFixed(0)} ms (one 50 ms timeout)`);
  t.same(journal.slice(4), ['stop d', 'stop c', 'stop b', 'stop a']);
  t.equal(result.ok, false);
  t.same(result.failures.map((f) => [f.component, f.phase, (f.error as any).code ?? f.error.message]), [
    ['c', 'stop', 'E_STOP_TIMEOUT'],
    ['b', 'stop', 'b stop failed'],
  ]);
  const logged = lines.find((l) => l.code === 'E_STOP_TIMEOUT');
  t.ok(logged, 'the timeout is logged with its code');
  t.equal(logged?.step, 'c');
  t.equal(logged?.level, 50, 'at error level');
});

t.test('a start failure stops what started, in reverse, and reports it', async (t) => {
  const journal: string[] = [];
  const { logger } = capturingLogger();
  const lc = new Lifecycle([part('a', journal), part('b', journal), part('c', journal, { start: 'throw' }), part('d', journal)], { logger, stepTimeoutMs: 100 });
  const result = await lc.start();
  t.equal(result.ok, false);
  t.same(result.failures.map((f) => [f.component, f.phase, f.error.message]), [['c', 'start', 'c cannot start']]);
  t.same(journal, ['start a', 'start b', 'start c', 'stop b', 'stop a'], 'd never starts; c is not stopped');
  t.equal(lc.state, 'stopped');
});

t.test('stop during start aborts the running start and stops what started', async (t) => {
  const journal: string[] = [];
  const { logger } = capturingLogger();
  const lc = new Lifecycle([part('a', journal), part('slow', journal, { start: 'wait-abort' }), part('never', journal)], { logger, stepTimeoutMs: 1000 });
  const starting = lc.start();
  await sleep(20);
  t.equal(lc.state, 'starting');
  const stopped = await lc.stop('SIGTERM');
  t.same(await starting, stopped, 'start() resolves with the stop result');
  t.same(stopped, { ok: true, failures: [] }, 'an aborted start is not a failure');
  t.same(journal, ['start a', 'start slow', 'stop a']);
});

t.test('a start that ignores the abort is abandoned after the step timeout', async (t) => {
  const journal: string[] = [];
  const { logger } = capturingLogger();
  const lc = new Lifecycle([part('a', journal), part('deaf', journal, { startMs: 200 })], { logger, stepTimeoutMs: 30 });
  const starting = lc.start();
  await sleep(10);
  const result = await lc.stop();
  t.same(result.failures.map((f) => [f.component, f.phase, (f.error as any).code]), [['deaf', 'start', 'E_STOP_TIMEOUT']]);
  t.same(journal, ['start a', 'start deaf', 'stop a']);
  await starting;
  await sleep(250);
  t.same(journal, ['start a', 'start deaf', 'stop a', 'stop deaf'], 'the late start is released when it returns');
});

t.test('signals: first triggers stop, second SIGTERM ignored, second SIGINT forces exit', async (t) => {
  const { logger, lines } = capturingLogger();
  const target = new EventEmitter();
  const got: string[] = [];
  const exits: number[] = [];
  const dispose = handleStopSignals({ logger: componentLogger(logger, 'signals'), onSignal: (s) => got.push(s), exit: (c) => exits.push(c), target });
  target.emit('SIGTERM');
  target.emit('SIGTERM');
  t.same(got, ['SIGTERM']);
  t.same(exits, []);
  t.ok(lines.some((l) => l.msg === 'already stopping; signal ignored' && l.component === 'signals'));
  target.emit('SIGINT');
  t.same(exits, [130]);
  dispose();
  t.equal(target.listenerCount('SIGTERM') + target.listenerCount('SIGINT'), 0, 'handlers removed');
});
