/**
 * The technician's console, measured in a real browser (Debian chromium via playwright-core):
 * page load (DOMContentLoaded, load, first frames drawn) and the live view's display lag —
 * frame decided in the daemon → drawn in the page, as the page itself measures it per frame
 * (web/js/views/live.js) — over N seconds with simulated cameras on loopback. The daemon runs
 * in this process (default bundle, CPU); the browser is a separate process.
 *
 *   node dist-tools/tools/bench/console-latency.js [--seconds 30] [--cameras 2] [--fps 4] [--json OUT]
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { packageRoot } from '../../src/config/index.js';

/**
 * The daemon as `npm run build` made it (dist/): its record writer thread is a file of its own
 * that only that build has.
 */
async function daemonModules() {
  const dist = (...p: string[]) => pathToFileURL(join(packageRoot(), 'dist', ...p)).href;
  const { App } = (await import(dist('daemon', 'app.js'))) as typeof import('../../src/daemon/app.js');
  const { validateConfig } = (await import(dist('config', 'index.js'))) as typeof import('../../src/config/index.js');
  const { createLogger } = (await import(dist('log.js'))) as typeof import('../../src/log.js');
  return { App, validateConfig, createLogger };
}

const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((s.length - 1) * p))];
};

async function main(argv: string[]): Promise<void> {
  const opt = (name: string, def: number): number => (argv.includes(name) ? Number(argv[argv.indexOf(name) + 1]) : def);
  const seconds = opt('--seconds', 30);
  const cameras = opt('--cameras', 2);
  const fps = opt('--fps', 4);
  const jsonOut = argv.includes('--json') ? argv[argv.indexOf('--json') + 1] : undefined;
  const { App, validateConfig, createLogger } = await daemonModules();
  const dir = await mkdtemp(join(tmpdir(), 'agpt-console-bench-'));
  const config = validateConfig(
    {
      stateDirectory: join(dir, 'state'),
      logging: { level: 'warn' },
      inference: { bundle: join(packageRoot(), 'models', 'bundles', 'mobilenetv2-nsfwjs'), executionProviders: ['cpu'], warmupRuns: 1 },
      cameras: Array.from({ length: cameras }, (_, i) => ({
        id: `cam${i + 1}`, recipe: 'sim-part', source: { kind: 'sim', width: 320, height: 240, defectRate: 0.3, seed: 11 }, trigger: { mode: 'free-run', fps },
      })),
      archive: { saveFrames: 'fails' },
      http: { enabled: true, host: '127.0.0.1', port: 0 },
    },
    'bench',
    { baseDir: dir, env: {} },
  );
  const app = new App({ config, logger: createLogger({ level: 'warn' }), env: {} });
  const started = await app.start();
  if (!started.ok) throw new Error(started.failures.map((f) => f.error.message).join('; '));
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync'],
  });
  try {
    const a = app.httpAddress()!;
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    const t0 = Date.now();
    await page.goto(`http://${a.host}:${a.port}/#/live`);
    await page.waitForFunction(`document.querySelectorAll('section.cam canvas').length === ${cameras}`, undefined, { timeout: 60_000 });
    const drawnMs = Date.now() - t0;
    const nav = (await page.evaluate('(() => { const n = performance.getEntriesByType("navigation")[0]; return [n.domContentLoadedEventEnd, n.loadEventEnd]; })()')) as [number, number];
    await page.waitForTimeout(seconds * 1000);
    // The first few frames include the page's own start-up; they are left out.
    const lat = ((await page.evaluate('window.__agptLive.latencies')) as number[]).slice(cameras * 2);
    const report = {
      cameras, fps, seconds,
      pageLoad: { domContentLoadedMs: Math.round(nav[0]), loadMs: Math.round(nav[1]), allCamerasDrawnMs: drawnMs },
      displayLag: { frames: lat.length, p50Ms: pct(lat, 0.5), p90Ms: pct(lat, 0.9), maxMs: Math.max(...lat) },
    };
    process.stdout.write(`${JSON.stringify(report)}\n`);
    if (jsonOut) await writeFile(jsonOut, `${JSON.stringify(report, null, 2)}\n`);
  } finally {
    await browser.close();
    await app.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

main(process.argv.slice(2)).then(
  () => process.exit(0),
  (e: unknown) => {
    process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
    process.exit(1);
  },
);
