/**
 * Reliability run (issue 9): the real daemon at full rate (simulated camera, fps 0,
 * archive.saveFrames all, MQTT to a local mosquitto), with a broker outage, a `kill -9` and a
 * restart in the middle; then a drain start. Prints verdicts inspected (recorded), published
 * (received by a QoS 1 subscriber), lost, duplicates, RSS at start and end of each daemon, and
 * inspections/s at full rate as a ratio to the same inspections without record or sinks.
 *
 *   npm run soak -- [--seconds 120] [--json OUT]
 *
 * Timeline (fractions of --seconds): 0 daemon A starts · 0.25 broker stops · 0.45 A is killed
 * (SIGKILL) and daemon B starts on the same state · 0.65 broker back · 1.0 B gets SIGTERM ·
 * then daemon C (same state, camera on demand: no new verdicts) runs until MQTT has drained.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { connectAsync } from 'mqtt';
import { repoRoot } from '../models/build-default-bundle.js';
import { Mosquitto, freePort } from '../support/mosquitto.js';
import { bareInspectionsPerSecond } from './bare-rate.js';

const argv = process.argv.slice(2);
const arg = (name: string, def: string) => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : def);
const SECONDS = Number(arg('--seconds', '120'));
const JSON_OUT = argv.includes('--json') ? arg('--json', '') : undefined;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Daemon {
  readonly name: string;
  readonly child: ChildProcess;
  readonly startedAt: number;
  readyAt: number | null;
  rss: { start: number | null; end: number | null };
}

function rssMb(pid: number | undefined): number | null {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Math.round(Number(m[1]) / 1024) : null;
  } catch {
    return null;
  }
}

function config(state: string, mqttPort: number, httpPort: number, onDemand: boolean): string {
  const bundle = path.join(repoRoot(), 'models', 'bundles', 'mobilenetv2-nsfwjs');
  return `stateDirectory: ${state}
logging: { level: info }
inference: { bundle: ${bundle}, executionProviders: [cpu] }
cameras:
  - id: line1
    recipe: sim-part
    source: { kind: sim, width: 320, height: 240, defectRate: 0.3, seed: 1 }
    trigger: ${onDemand ? '{ mode: on-demand }' : '{ mode: free-run, fps: 0 }'}
archive: { saveFrames: all, maxRecords: 1000000, maxBytes: 100000000000, fsync: true }
http: { port: ${httpPort} }
mqtt: { enabled: true, url: 'mqtt://127.0.0.1:${mqttPort}', clientId: soak-daemon, prefix: soak, reconnectPeriodMs: 500 }
`;
}

function startDaemon(name: string, configPath: string): Daemon {
  const child = spawn(process.execPath, [path.join(repoRoot(), 'dist', 'main.js'), 'run', '--config', configPath], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, OPENCV4NODEJS_DISABLE_AUTOBUILD: '1' },
  });
  const d: Daemon = { name, child, startedAt: Date.now(), readyAt: null, rss: { start: null, end: null } };
  let buf = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    buf += chunk.toString();
    for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      if (d.readyAt === null && line.includes('"msg":"ready"')) d.readyAt = Date.now();
    }
  });
  return d;
}

async function untilReady(d: Daemon, ms = 120_000): Promise<void> {
  const end = Date.now() + ms;
  while (d.readyAt === null) {
    if (d.child.exitCode !== null) throw new Error(`${d.name} exited with ${d.child.exitCode} before READY`);
    if (Date.now() > end) throw new Error(`${d.name} not READY within ${ms} ms`);
    await sleep(50);
  }
  await sleep(2000);
  d.rss.start = rssMb(d.child.pid);
}

function exited(d: Daemon): Promise<number | null> {
  return d.child.exitCode !== null ? Promise.resolve(d.child.exitCode) : new Promise((r) => d.child.once('exit', (code) => r(code)));
}

async function mqttQueue(httpPort: number): Promise<{ connected: boolean; queued: number } | undefined> {
  try {
    const s = (await (await fetch(`http://127.0.0.1:${httpPort}/status`)).json()) as { outputs?: { mqtt?: { connected: boolean; queue: { length: number } } } };
    const m = s.outputs?.mqtt;
    return m ? { connected: m.connected, queued: m.queue.length } : undefined;
  } catch {
    return undefined;
  }
}

async function main(): Promise<void> {
  const state = await mkdtemp(path.join(tmpdir(), 'agpt-soak-'));
  const broker = await Mosquitto.start({ persistence: true, extra: ['max_queued_messages 1000000', 'max_inflight_messages 100'] });
  const httpPort = await freePort();
  const run = path.join(state, 'run.yaml');
  const drain = path.join(state, 'drain.yaml');
  writeFileSync(run, config(state, broker.port, httpPort, false));
  writeFileSync(drain, config(state, broker.port, httpPort, true));

  // The subscriber keeps a persistent session: what arrives while it is cut off by the outage waits for it.
  const received = new Map<string, number>();
  const sub = await connectAsync(broker.url, { clientId: 'soak-sub', clean: false, protocolVersion: 5, properties: { sessionExpiryInterval: 3600 }, reconnectPeriod: 300 });
  sub.on('message', (_topic, payload) => {
    const id = (JSON.parse(payload.toString('utf8')) as { id: string }).id;
    received.set(id, (received.get(id) ?? 0) + 1);
  });
  await sub.subscribeAsync('soak/+/inspection', { qos: 1 });

  const T = SECONDS * 1000;
  const t0 = Date.now();
  const at = (f: number) => sleep(Math.max(0, t0 + f * T - Date.now()));
  const log = (msg: string) => process.stderr.write(`[soak +${((Date.now() - t0) / 1000).toFixed(1)} s] ${msg}\n`);

  const a = startDaemon('A', run);
  await untilReady(a);
  log(`daemon A ready (RSS ${a.rss.start} MB)`);
  await at(0.25);
  await broker.stop();
  log('broker stopped');
  await at(0.45);
  a.rss.end = rssMb(a.child.pid);
  a.child.kill('SIGKILL');
  await exited(a);
  const killedAt = Date.now();
  log('daemon A killed (SIGKILL)');
  const b = startDaemon('B', run);
  await untilReady(b);
  log(`daemon B ready (RSS ${b.rss.start} MB)`);
  await at(0.65);
  await broker.resume();
  log('broker back');
  await at(1);
  b.rss.end = rssMb(b.child.pid);
  b.child.kill('SIGTERM');
  const bCode = await exited(b);
  const stoppedAt = Date.now();
  log(`daemon B stopped (exit ${bCode})`);

  const c = startDaemon('C', drain);
  await untilReady(c);
  const drainEnd = Date.now() + 120_000;
  let q = await mqttQueue(httpPort);
  while (!(q?.connected && q.queued === 0) && Date.now() < drainEnd) {
    await sleep(250);
    q = await mqttQueue(httpPort);
  }
  await sleep(1500); // the last PUBACKs and deliveries to the subscriber
  c.rss.end = rssMb(c.child.pid);
  c.child.kill('SIGTERM');
  const cCode = await exited(c);
  log(`drain daemon C stopped (exit ${cCode}); MQTT backlog ${q?.queued ?? '?'}`);
  await sub.endAsync();
  await broker.close();

  const db = new Database(path.join(state, 'archive', 'inspections.db'), { readonly: true });
  const recorded = (db.prepare('SELECT id FROM inspections').all() as { id: string }[]).map((r) => r.id);
  const counters = Object.fromEntries((db.prepare('SELECT name, value FROM counters').all() as { name: string; value: number }[]).map((r) => [r.name, r.value]));
  db.close();
  const recordedSet = new Set(recorded);
  const lost = recorded.filter((id) => !received.has(id));
  const phantom = [...received.keys()].filter((id) => !recordedSet.has(id));
  const duplicates = [...received.values()].reduce((s, n) => s + n - 1, 0);
  const activeS = ((killedAt - (a.readyAt ?? a.startedAt)) + (stoppedAt - (b.readyAt ?? b.startedAt))) / 1000;
  const fullRate = recorded.length / activeS;
  const bare = await bareInspectionsPerSecond({ state, recipe: 'sim-part', seconds: Math.min(30, Math.max(10, SECONDS / 6)) });
  const result = {
    seconds: SECONDS,
    inspected: recorded.length,
    recorded: recorded.length,
    published: received.size,
    lost: lost.length,
    phantom: phantom.length,
    duplicates,
    recordLosses: counters,
    rssMb: { A: a.rss, B: b.rss, C: c.rss },
    inspectionsPerSecond: { fullRate: +fullRate.toFixed(2), bare: +bare.toFixed(2), ratio: +(fullRate / bare).toFixed(3) },
    state,
  };
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  process.stdout.write(
    `soak: ${SECONDS} s — verdicts inspected ${result.inspected}, recorded ${result.recorded}, published ${result.published}, lost ${result.lost} ` +
      `(duplicates ${duplicates}, phantom ${phantom.length}); RSS A ${a.rss.start}→${a.rss.end} MB, B ${b.rss.start}→${b.rss.end} MB; ` +
      `${fullRate.toFixed(1)} inspections/s with record + MQTT vs ${bare.toFixed(1)}/s bare = ${(fullRate / bare).toFixed(2)}×\n`,
  );
  if (JSON_OUT) writeFileSync(JSON_OUT, JSON.stringify(result, null, 2));
  process.exitCode = lost.length === 0 && phantom.length === 0 ? 0 : 1;
}

main().catch((e: unknown) => {
  process.stderr.write(`soak failed: ${(e as Error).stack ?? String(e)}\n`);
  process.exitCode = 1;
});
