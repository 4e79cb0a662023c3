import t from 'tap';
import { Writable } from 'node:stream';
import * as ort from 'onnxruntime-node';
import { ErrorCodes } from '../../src/errors.js';
import { createLogger } from '../../src/log.js';
import { GraphBuilder } from '../../src/inference/onnx-graph.js';
import { openSession } from '../../src/inference/ort-session.js';

/** y = x + 1 on a (2) float vector. */
function addOneModel(): Uint8Array {
  const g = new GraphBuilder('add_one');
  const x = g.input('x', [2]);
  g.op('Add', [x, g.floats(new Float32Array([1]), [1])], {}, 'y');
  g.output('y', [2]);
  return g.toBytes();
}

function logLines() {
  const lines: { level: number; msg: string; provider?: string; rejected?: unknown[] }[] = [];
  const destination = new Writable({
    write(chunk, _e, cb) {
      for (const l of String(chunk).split('\n')) if (l) lines.push(JSON.parse(l));
      cb();
    },
  });
  return { logger: createLogger({ level: 'info', destination }), lines };
}

t.test('tensorrt → cuda → cpu: on a CPU-only machine the session is cpu, the others rejected', async (t) => {
  const { logger, lines } = logLines();
  const opened = await openSession(addOneModel(), { executionProviders: ['tensorrt', 'cuda', 'cpu'], intraOpThreads: 1 }, logger);
  t.equal(opened.provider, 'cpu');
  t.same(opened.rejected.map((r) => r.provider), ['tensorrt', 'cuda'], 'tried in order, both rejected');
  for (const r of opened.rejected) t.ok(r.reason.length > 0 && !r.reason.includes('\n'), `${r.provider} has a one-line reason: ${r.reason}`);
  const out = await opened.session.run({ x: new ort.Tensor('float32', Float32Array.from([1, 2]), [2]) });
  t.same([...(out.y.data as Float32Array)], [2, 3], 'the session runs');
  await opened.session.release();
  const warn = lines.find((l) => l.msg === 'execution provider fallback');
  t.ok(warn, 'the fallback is logged as a warning');
  t.equal(warn?.level, 40);
  t.equal(warn?.provider, 'cpu');
});

t.test('cpu only: nothing rejected, selection logged at info', async (t) => {
  const { logger, lines } = logLines();
  const opened = await openSession(addOneModel(), { executionProviders: ['cpu'], intraOpThreads: 0 }, logger);
  t.equal(opened.provider, 'cpu');
  t.same(opened.rejected, []);
  t.ok(lines.some((l) => l.msg === 'execution provider selected' && l.level === 30 && l.provider === 'cpu'));
  await opened.session.release();
});

t.test('cpu is appended when the list lacks it', async (t) => {
  const opened = await openSession(addOneModel(), { executionProviders: ['cuda'], intraOpThreads: 1 }, logLines().logger);
  t.equal(opened.provider, 'cpu');
  t.same(opened.rejected.map((r) => r.provider), ['cuda']);
  await opened.session.release();
});

t.test('a model no provider can load → E_MODEL_LOAD naming every attempt', async (t) => {
  const garbage = new TextEncoder().encode('this is not an onnx model');
  await t.rejects(
    openSession(garbage, { executionProviders: ['tensorrt', 'cuda', 'cpu'], intraOpThreads: 1 }, logLines().logger),
    { code: ErrorCodes.MODEL_LOAD, message: /tensorrt: .*; cuda: .*; cpu: / },
  );
});
