/**
 * First-token and full-answer latency of the grounded answerer (no language model) over HTTP on
 * loopback: a real inspection record in a temp folder filled with a synthetic line history
 * (seeded: 3 cameras, 2 recipes, one inspection every ~15 s per camera, ~6 % fails with
 * regions, the newest row now), the daemon's HTTP server with the dialogue routes, and a client
 * in a worker thread (its own event loop, as a browser would be) asking question after question
 * over Server-Sent Events, one at a time, in multi-turn conversations about recent fails.
 * First token = request sent → first `token` event read; answer = request sent → `done` read.
 *
 *   node dist-tools/tools/bench/bench-grounded.js [--questions 200] [--records 10000] [--seed 1]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InspectionRecord } from '../../src/archive/inspection-record.js';
import { DialogueService } from '../../src/dialogue/dialogue-service.js';
import { GroundedConversations, groundedAssistantInfo } from '../../src/dialogue/grounded/grounded-conversation.js';
import { dialogueRoutes } from '../../src/http/dialogue-routes.js';
import { HttpServer } from '../../src/http/http-server.js';
import type { DefectLocation, GridWord, Verdict } from '../../src/judge/verdict.js';
import { createLogger } from '../../src/log.js';
import { createRng, type Rng } from '../../src/util/prng.js';
import { gridWord } from '../../src/judge/grid-words.js';

const QUESTIONS = [
  'Why did it fail?', 'and where?', 'how sure?', 'Which recipe and references decided?', 'How does it compare with recent passes?',
  'Have we seen this defect before?', 'How many failed today?', 'and yesterday?', 'yield on all cameras this week', 'how many in the last hour',
  'When was it inspected and how long did it take?', 'did it pass?', "What's the temperature?", 'why did it fial and where?',
];

const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};

function verdictAt(rng: Rng, i: number, camera: string, capturedAt: number): Verdict {
  const recipe = camera === 'cam3' ? { id: 'cap', version: '3' } : { id: 'bottle', version: '1' };
  const threshold = camera === 'cam3' ? 0.35 : 0.4;
  const fail = rng.chance(0.06);
  const score = fail ? threshold + rng.range(0.01, 0.4) : Math.max(0.01, threshold * (0.5 + 0.15 * rng.normal()));
  const locations: DefectLocation[] = [];
  if (fail) {
    for (let k = rng.int(1, 3); k > 0; k--) {
      const w = rng.int(4, 40);
      const h = rng.int(4, 40);
      const x = rng.int(0, 320 - w);
      const y = rng.int(0, 240 - h);
      const grid: GridWord = gridWord(x + w / 2, y + h / 2, 320, 240);
      locations.push({ box: { x, y, width: w, height: h }, centroid: { x: x + w / 2, y: y + h / 2 }, grid, area: Math.round(w * h * 0.7), peak: score + rng.range(0, 0.1) });
    }
  }
  const model = { id: 'mobilenetv2-nsfwjs', version: '1.0.0' };
  const confidence = 0.5 + Math.min(0.49, Math.abs(score - threshold) * 2);
  return {
    id: `${camera}-${capturedAt}-${i}`, cameraId: camera, seq: i, capturedAt, decidedAt: capturedAt + 9, pass: !fail, confidence, score, threshold, locations, recipe, model,
    timings: { preprocessMs: 0.6, encoderMs: 3.9, mapMs: 3.1, judgeMs: 0.1, totalMs: 7.9 }, frame: { width: 320, height: 240, origin: 'sim' },
    decidedBy: 'judge', judge: { pass: !fail, score, threshold, confidence, model },
  };
}

interface Sample {
  readonly first: number;
  readonly done: number;
  readonly topic: string;
  readonly tokens: number;
}

/** One question over SSE: ms to the first token event and to done. */
async function ask(base: string, conversation: string, question: string): Promise<Sample> {
  const t0 = performance.now();
  const res = await fetch(`${base}/api/conversations/${conversation}/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
    body: JSON.stringify({ question }),
  });
  if (res.status !== 200 || !res.body) throw new Error(`HTTP ${res.status}: ${await res.text()}`);
  let first = NaN;
  let text = '';
  const decoder = new TextDecoder();
  const reader = res.body.getReader();
  for (let r = await reader.read(); !r.done; r = await reader.read()) {
    text += decoder.decode(r.value, { stream: true });
    if (Number.isNaN(first) && text.includes('event: token')) first = performance.now() - t0;
  }
  const done = performance.now() - t0;
  const last = /event: done\ndata: (.*)\n/.exec(text);
  if (!last) throw new Error(`no done event: ${text.slice(-300)}`);
  const body = JSON.parse(last[1]) as { tokens: number; grounded: { topic: string } };
  return { first, done, topic: body.grounded.topic, tokens: body.tokens };
}

/** The client (worker thread): conversations about recent fails, one question at a time. */
async function client(o: { base: string; fails: string[]; questions: number }): Promise<Sample[]> {
  const samples: Sample[] = [];
  let conversation = '';
  for (let q = 0; q < o.questions; q++) {
    // A new conversation about another recent fail every QUESTIONS.length turns.
    if (q % QUESTIONS.length === 0) {
      const id = o.fails[(q / QUESTIONS.length) % o.fails.length];
      const res = await fetch(`${o.base}/api/inspections/${encodeURIComponent(id)}/conversations`, { method: 'POST' });
      conversation = ((await res.json()) as { id: string }).id;
    }
    samples.push(await ask(o.base, conversation, QUESTIONS[q % QUESTIONS.length]));
  }
  return samples;
}

function report(samples: Sample[], records: number): void {
  const first = samples.map((s) => s.first);
  const done = samples.map((s) => s.done);
  console.log(`${samples.length} questions over SSE on loopback, one at a time, ${records} records:`);
  console.log(`  first token  p50 ${pct(first, 50).toFixed(2)} ms  p90 ${pct(first, 90).toFixed(2)} ms  p99 ${pct(first, 99).toFixed(2)} ms`);
  console.log(`  full answer  p50 ${pct(done, 50).toFixed(2)} ms  p90 ${pct(done, 90).toFixed(2)} ms  p99 ${pct(done, 99).toFixed(2)} ms  (pieces per answer p50 ${pct(samples.map((s) => s.tokens), 50)})`);
  for (const topic of [...new Set(samples.map((s) => s.topic))]) {
    const xs = samples.filter((s) => s.topic === topic);
    console.log(`  ${topic.padEnd(10)} n=${String(xs.length).padStart(3)}  first p50 ${pct(xs.map((s) => s.first), 50).toFixed(2)} ms  answer p50 ${pct(xs.map((s) => s.done), 50).toFixed(2)} ms`);
  }
}

async function main(argv: string[]): Promise<void> {
  const opt = (name: string, def: string): string => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : def);
  const questions = Number(opt('--questions', '200'));
  const records = Number(opt('--records', '10000'));
  const rng = createRng(Number(opt('--seed', '1')));
  const dir = await mkdtemp(join(tmpdir(), 'agpt-bench-grounded-'));
  const logger = createLogger({ level: 'warn' });
  const record = new InspectionRecord({ directory: dir, maxRecords: records + 10, maxBytes: 1e10, saveFrames: 'none', fsync: false }, logger);
  await record.start();
  try {
    const now = Date.now();
    const cameras = ['cam1', 'cam2', 'cam3'];
    const t0 = performance.now();
    const pending: Promise<number>[] = [];
    for (let i = 0; i < records; i++) {
      const camera = cameras[i % cameras.length];
      pending.push(record.append(verdictAt(rng, i + 1, camera, now - (records - i) * 5000)));
      if (pending.length >= 500) await Promise.all(pending.splice(0));
    }
    await Promise.all(pending);
    console.log(`record: ${records} rows written in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

    const dialogue = new DialogueService(
      { maxConversations: 64, idleTimeoutMs: 900_000, maxTurns: 8, maxHistoryTokens: 1024, maxAnswerTokens: 128, maxQuestionChars: 1000, maxConcurrent: 1, maxQueued: 4 },
      new GroundedConversations({ archive: record, cameras: () => cameras }),
      logger,
    );
    const http = new HttpServer({ host: '127.0.0.1', port: 0, logger, routes: [dialogueRoutes(dialogue, { assistant: groundedAssistantInfo })] });
    await http.start();
    const { host, port } = http.address();
    const base = `http://${host}:${port}`;
    try {
      const fails = record.history({ pass: false, limit: 20 }).items.map((i) => i.id);
      const samples = await new Promise<Sample[]>((resolve, reject) => {
        const w = new Worker(new URL(import.meta.url), { workerData: { base, fails, questions } });
        w.once('message', resolve);
        w.once('error', reject);
      });
      report(samples, records);
    } finally {
      await http.stop();
      dialogue.stop();
    }
  } finally {
    await record.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

if (isMainThread) {
  main(process.argv.slice(2)).catch((e: unknown) => {
    console.error(e);
    process.exitCode = 1;
  });
} else {
  void client(workerData as { base: string; fails: string[]; questions: number }).then((samples) => parentPort!.postMessage(samples));
}
