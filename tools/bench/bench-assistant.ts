/**
 * What each assistant.mode costs per inspection, measured in the real daemon: one App per mode
 * (default bundle + few-shot judge on a simulated on-demand camera, the tiny AnomalyGPT bundle as
 * the assistant), N triggers each, trigger → verdict latency p50 / p99, and how many verdicts the
 * LLM made. All modes in one run, so the ratios compare like with like.
 *
 *   node dist-tools/tools/bench/bench-assistant.js [--n 60] [--threads 1] [--bundle DIR]
 *
 * With the tiny random bundle the LLM is 2 layers × 64 wide: the figures show the daemon's
 * overhead and the ImageBind-shaped vision path, not a 7B prefill (README, models/README.md).
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ASSISTANT_MODES } from '../../src/config/assistant.js';
import { validateConfig } from '../../src/config/index.js';
import { App } from '../../src/daemon/app.js';
import { createLogger } from '../../src/log.js';
import { buildDefaultBundle, repoRoot } from '../models/build-default-bundle.js';
import { buildTinyBundle } from '../fixtures/anomalygpt/build-tiny-bundle.js';

const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};

async function main(argv: string[]): Promise<void> {
  const opt = (name: string, def: string): string => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : def);
  const n = Number(opt('--n', '60'));
  const threads = Number(opt('--threads', '1'));
  const dir = await mkdtemp(join(tmpdir(), 'agpt-bench-assistant-'));
  try {
    // The repository's default bundle (`npm run build:models`), or one built here.
    let judgeBundle = join(repoRoot(), 'models', 'bundles', 'mobilenetv2-nsfwjs');
    if (!existsSync(join(judgeBundle, 'manifest.json'))) {
      judgeBundle = join(dir, 'default');
      await buildDefaultBundle(judgeBundle);
    }
    const agpt = argv.includes('--bundle') ? opt('--bundle', '') : join(dir, 'tiny');
    if (!argv.includes('--bundle')) await buildTinyBundle(agpt, { seed: 3 });
    const rows: string[] = [];
    let base = 0;
    for (const mode of ['off', ...ASSISTANT_MODES] as const) {
      const config = validateConfig(
        {
          stateDirectory: join(dir, mode),
          logging: { level: 'warn' },
          inference: { bundle: judgeBundle, executionProviders: ['cpu'], warmupRuns: 3, intraOpThreads: threads },
          cameras: [{ id: 'cam1', recipe: 'sim-part', source: { kind: 'sim', defectRate: 0.3, seed: 5 }, trigger: { mode: 'on-demand' } }],
          http: { enabled: false },
          archive: { saveFrames: 'none' },
          assistant: mode === 'off' ? { enabled: false } : { enabled: true, bundle: agpt, part: 'bottle', mode, maxPerSecond: 5 },
        },
        'bench',
        { baseDir: dir, env: {} },
      );
      const app = new App({ config, logger: createLogger({ level: 'error' }), env: {} });
      const started = await app.start();
      if (!started.ok) throw new Error(started.failures.map((f) => f.error.message).join('; '));
      const ms: number[] = [];
      let llm = 0;
      const t0 = performance.now();
      for (let i = 0; i < n; i++) {
        const t = performance.now();
        const v = await app.pipeline('cam1')!.trigger();
        ms.push(performance.now() - t);
        if (v.decidedBy === 'llm') llm++;
      }
      const wall = (performance.now() - t0) / 1000;
      await app.stop();
      const p50 = pct(ms, 50);
      if (mode === 'off') base = p50;
      rows.push(`| ${mode} | ${llm}/${n} | ${p50.toFixed(1)} | ${pct(ms, 99).toFixed(1)} | ${(p50 / base).toFixed(2)}× | ${(n / wall).toFixed(1)} |`);
    }
    console.log(`trigger → verdict, ${n} inspections per mode, CPU, ${threads} intra-op thread(s)\n`);
    console.log('| assistant.mode | LLM verdicts | p50 ms | p99 ms | p50 vs off | inspections/s |');
    console.log('|---|---|---|---|---|---|');
    for (const r of rows) console.log(r);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

main(process.argv.slice(2)).then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
