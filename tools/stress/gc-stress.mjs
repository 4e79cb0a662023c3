#!/usr/bin/env node
// GC stress for the @u4/opencv4nodejs crash of issue 9 ("# Fatal error … Check failed:
// marking_done_." in v8::internal::CppHeap::TraceEpilogue, exit 133). Runs the product's own
// workloads as separate processes, several at once, with a tiny young generation
// (--max-semi-space-size) so V8 collects — and finalises Mats — all the time, and counts the
// processes that died. Plain Node ESM, no build step needed for the script itself (the eval and
// daemon workloads run dist/: `npm run build` first).
//
//   npm run stress:gc -- [options]        (= node tools/stress/gc-stress.mjs [options])
//     --workload W[,W…]  opencv | eval | daemon, cycled over the processes of a run (default opencv)
//     --runs N           rounds (default 10)
//     --parallel P       processes started together per round (default 4)
//     --seconds S        length of an opencv or daemon process (default 20)
//     --semi-space MB    --max-semi-space-size for the children (default 1; 0 = leave V8's default)
//     --data DIR         eval data set (default ../shared/data/bsdata)
//     --shots K          eval shots (default 4)   --draws N   eval draws (default 3)
//     --timeout S        a process still alive after S seconds is killed and counted as hung (default 600)
//     --env K=V          extra environment for the children (repeatable)
//     --json FILE        every process's result as JSON
//
// Exit status 1 when any process crashed or hung. A crash is a death by signal, an exit status
// of 128 or more (133 = SIGTRAP from V8_Fatal, 134 = abort, 139 = SIGSEGV), or a V8/C++ fatal
// line on stderr; a process that exited 1..127 without one is a failure, reported apart.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const MAIN = join(ROOT, 'dist/src/main.js');
const CHURN = join(ROOT, 'tools/stress/opencv-churn.mjs');

const { values: opt } = parseArgs({
  options: {
    workload: { type: 'string', default: 'opencv' },
    runs: { type: 'string', default: '10' },
    parallel: { type: 'string', default: '4' },
    seconds: { type: 'string', default: '20' },
    'semi-space': { type: 'string', default: '1' },
    data: { type: 'string', default: '../shared/data/bsdata' },
    shots: { type: 'string', default: '4' },
    draws: { type: 'string', default: '3' },
    timeout: { type: 'string', default: '600' },
    env: { type: 'string', multiple: true, default: [] },
    json: { type: 'string' },
  },
});

const workloads = opt.workload.split(',');
for (const w of workloads) if (!['opencv', 'eval', 'daemon'].includes(w)) throw new Error(`unknown workload ${w}`);
const runs = Number(opt.runs);
const parallel = Number(opt.parallel);
const seconds = Number(opt.seconds);
const timeoutMs = Number(opt.timeout) * 1000;
const nodeArgs = Number(opt['semi-space']) > 0 ? [`--max-semi-space-size=${opt['semi-space']}`] : [];
const extraEnv = Object.fromEntries(opt.env.map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
const childEnv = { ...process.env, OPENCV4NODEJS_DISABLE_AUTOBUILD: '1', LOG_LEVEL: 'warn', ...extraEnv };

// Which binding is being stressed: the stamp scripts/build-opencv4nodejs.mjs writes names the
// patches compiled in; no stamp means the package's own (unpatched) build.
function bindingDescription() {
  const pkg = join(ROOT, 'node_modules/@u4/opencv4nodejs');
  const stamp = join(pkg, 'build/anomalygpt-edge-patches.json');
  if (!existsSync(join(pkg, 'build/Release/opencv4nodejs.node'))) return 'NOT BUILT';
  if (!existsSync(stamp)) return 'unpatched (no build stamp)';
  const s = JSON.parse(readFileSync(stamp, 'utf8'));
  return `patched: ${s.patches.map((p) => p.name).join(', ') || 'none'}`;
}

const scratch = mkdtempSync(join(tmpdir(), 'gc-stress-'));
process.on('exit', () => rmSync(scratch, { recursive: true, force: true }));

function runSync(args, what) {
  const r = spawnSync(process.execPath, args, { cwd: ROOT, env: childEnv, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${what} failed (${r.status ?? r.signal}):\n${r.stderr}`);
}

// Large test images for the opencv and daemon workloads, made once (OpenCV loaded in a child:
// this process stays free of the binding, so only the workloads can crash).
const imageDir = join(scratch, 'images');
if (workloads.some((w) => w === 'opencv' || w === 'daemon')) runSync([CHURN, '--make-images', imageDir], 'making test images');

// The daemon workload: a folder camera replaying those images as fast as the pipeline goes
// (fps 0), with a recipe calibrated from them; stopped with SIGTERM after --seconds.
let daemonConfig;
if (workloads.includes('daemon')) {
  const state = join(scratch, 'state');
  runSync([MAIN, 'calibrate', '--recipe', 'big', imageDir, '--recipes', join(state, 'recipes')], 'calibrating the daemon recipe');
  daemonConfig = join(scratch, 'daemon.yaml');
  writeFileSync(
    daemonConfig,
    [
      `stateDirectory: ${state}`,
      'logging: { level: warn }',
      `inference: { bundle: ${join(ROOT, 'models/bundles/mobilenetv2-nsfwjs')}, executionProviders: [cpu], warmupRuns: 1 }`,
      'recipes: { directory: recipes }',
      'cameras:',
      ...[1, 2].map((n) => `  - { id: big${n}, recipe: big, source: { kind: folder, path: ${imageDir}, loop: true }, trigger: { mode: free-run, fps: 0 } }`),
      'archive: { directory: archive, saveFrames: none }',
      'http: { enabled: false }',
      '',
    ].join('\n'),
  );
  runSync([MAIN, 'check-config', daemonConfig], 'checking the daemon config');
}

function command(workload) {
  switch (workload) {
    case 'opencv':
      return [...nodeArgs, CHURN, '--images', imageDir, '--seconds', String(seconds)];
    case 'eval':
      return [...nodeArgs, MAIN, 'eval', resolve(opt.data), '--shots', opt.shots, '--draws', opt.draws];
    default:
      return [...nodeArgs, MAIN, 'run', '--config', daemonConfig];
  }
}

// The most specific line first: V8_Fatal prints "# Fatal error in , line 0" before the reason.
const FATAL = [/^# Check failed:.*$/m, /^.*Assertion .* failed.*$/m, /^FATAL ERROR:.*$/m, /^terminate called .*$/m, /^Segmentation fault.*$/m, /^# Fatal error.*$/m];
const fatalLine = (text) => FATAL.map((re) => text.match(re)?.[0].trim()).find((m) => m !== undefined);

function runOne(workload, label) {
  const args = command(workload);
  const started = Date.now();
  return new Promise((done) => {
    const child = spawn(process.execPath, args, { cwd: ROOT, env: childEnv, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => {
      stderr = (stderr + d).slice(-65536);
    });
    let hung = false;
    const stop = workload === 'daemon' ? setTimeout(() => child.kill('SIGTERM'), seconds * 1000) : undefined;
    const kill = setTimeout(() => {
      hung = true;
      child.kill('SIGKILL');
    }, timeoutMs + (workload === 'daemon' ? seconds * 1000 : 0));
    child.on('close', (code, signal) => {
      clearTimeout(stop);
      clearTimeout(kill);
      const fatal = fatalLine(stderr.replace(/\r/g, '\n'));
      const crashed = !hung && (signal !== null || (code ?? 0) >= 128 || fatal !== undefined);
      const outcome = hung ? 'hung' : crashed ? 'crash' : code === 0 ? 'ok' : 'failed';
      const r = { label, workload, outcome, code, signal, fatal, seconds: (Date.now() - started) / 1000 };
      if (outcome === 'failed') r.stderrTail = stderr.slice(-400);
      const cause = fatal ?? (signal ? `signal ${signal}` : outcome === 'failed' ? stderr.trim().split('\n').pop() : '');
      process.stdout.write(`${label.padEnd(8)} ${workload.padEnd(7)} ${outcome.padEnd(6)} exit ${String(code ?? signal).padEnd(7)} ${r.seconds.toFixed(1).padStart(6)} s  ${cause ?? ''}\n`);
      done(r);
    });
  });
}

const fingerprint = createHash('sha256').update(readFileSync(join(ROOT, 'node_modules/@u4/opencv4nodejs/build/Release/opencv4nodejs.node'))).digest('hex').slice(0, 12);
process.stdout.write(
  `gc-stress: ${runs} runs × ${parallel} processes (${workloads.join(', ')}), node ${process.version}, node args [${nodeArgs.join(' ')}]` +
    `${Object.keys(extraEnv).length ? `, env ${opt.env.join(' ')}` : ''}\n` +
    `binding: ${bindingDescription()}, opencv4nodejs.node sha256 ${fingerprint}…\n`,
);
const results = [];
let n = 0;
for (let run = 1; run <= runs; run++) {
  const batch = [];
  for (let p = 1; p <= parallel; p++) batch.push(runOne(workloads[n++ % workloads.length], `${run}.${p}`));
  results.push(...(await Promise.all(batch)));
}

const count = (pred) => results.filter(pred).length;
process.stdout.write('\nworkload  processes  crashed  (V8 marking_done_)  hung  failed  ok\n');
for (const w of [...workloads.filter((w, i) => workloads.indexOf(w) === i), 'all']) {
  const rs = w === 'all' ? results : results.filter((r) => r.workload === w);
  const c = (o) => rs.filter((r) => r.outcome === o).length;
  const marking = rs.filter((r) => r.fatal?.includes('marking_done_')).length;
  process.stdout.write(`${w.padEnd(9)} ${String(rs.length).padStart(9)}  ${String(c('crash')).padStart(7)}  ${String(marking).padStart(18)}  ${String(c('hung')).padStart(4)}  ${String(c('failed')).padStart(6)}  ${String(c('ok')).padStart(2)}\n`);
}
if (opt.json) writeFileSync(opt.json, `${JSON.stringify({ binding: bindingDescription(), fingerprint, nodeArgs, env: extraEnv, results }, null, 2)}\n`);
process.exitCode = count((r) => r.outcome === 'crash' || r.outcome === 'hung') > 0 ? 1 : 0;
