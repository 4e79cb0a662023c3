/**
 * The real daemon for the console's tests (the HTTP API and the browser tests): the default
 * bundle, simulated cameras, the record, and the HTTP server on a free port. Also: a second
 * recipe made from the first (for switching), and a reader of Server-Sent Events.
 */
import type { Test } from 'tap';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { validateConfig } from '../../src/config/index.js';
import { App } from '../../src/daemon/app.js';
import { defaultBundleDir } from './bundle.js';
import { silentLogger } from './logger.js';
export { daemonTestdir } from './testdir.js';

export const SIM_CAMERA = (id: string, seed: number, over: Record<string, unknown> = {}) => ({
  id,
  recipe: 'sim-part',
  source: { kind: 'sim', width: 320, height: 240, defectRate: 0.4, seed },
  trigger: { mode: 'free-run', fps: 4 },
  ...over,
});

export interface ConsoleDaemon {
  readonly app: App;
  readonly base: string;
  readonly stateDirectory: string;
}

export async function startConsoleDaemon(
  t: Test,
  dir: string,
  options: { cameras?: unknown[]; http?: Record<string, unknown>; archive?: Record<string, unknown>; assistant?: Record<string, unknown>; opcua?: Record<string, unknown>; env?: NodeJS.ProcessEnv } = {},
): Promise<ConsoleDaemon> {
  const stateDirectory = join(dir, 'state');
  const env = options.env ?? {};
  const config = validateConfig(
    {
      stateDirectory,
      logging: { level: 'warn' },
      inference: { bundle: await defaultBundleDir(), executionProviders: ['cpu'], warmupRuns: 1, intraOpThreads: 1 },
      cameras: options.cameras ?? [SIM_CAMERA('cam1', 11)],
      archive: { saveFrames: 'all', fsync: false, ...options.archive },
      http: { enabled: true, host: '127.0.0.1', port: 0, ...options.http },
      ...(options.assistant ? { assistant: options.assistant } : {}),
      ...(options.opcua ? { opcua: options.opcua } : {}),
    },
    'test',
    { baseDir: dir, env },
  );
  const app = new App({ config, logger: silentLogger(), env });
  const started = await app.start();
  t.teardown(() => app.stop());
  if (!started.ok) throw new Error(`daemon did not start: ${started.failures.map((f) => f.error.message).join('; ')}`);
  const a = app.httpAddress()!;
  const host = a.host.includes(':') ? `[${a.host}]` : a.host === '0.0.0.0' ? '127.0.0.1' : a.host;
  return { app, base: `http://${host}:${a.port}`, stateDirectory };
}

/**
 * A copy of a recipe under another id (same bank and boundary, so the same version), as if an
 * engineer had calibrated a second part type. The daemon must have saved `from` already.
 */
export function copyRecipe(stateDirectory: string, from: string, to: string): void {
  const src = join(stateDirectory, 'recipes', from);
  const dst = join(stateDirectory, 'recipes', to);
  // The whole folder: recipe.json, the bank and the references/ the recipe keeps.
  cpSync(src, dst, { recursive: true });
  const json = JSON.parse(readFileSync(join(dst, 'recipe.json'), 'utf8')) as { id: string };
  json.id = to;
  writeFileSync(join(dst, 'recipe.json'), `${JSON.stringify(json, null, 2)}\n`);
}

export interface SseEvent {
  readonly event: string;
  // Event bodies are checked field by field by the tests.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly data: any;
  /** Date.now() when the event was parsed. */
  readonly at: number;
}

/**
 * Reads an event stream until `done(events)` says so (or `timeoutMs` passes), then closes it.
 */
export async function readEvents(url: string, done: (events: SseEvent[]) => boolean, timeoutMs = 20_000, headers: Record<string, string> = {}): Promise<SseEvent[]> {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), timeoutMs);
  const events: SseEvent[] = [];
  try {
    const res = await fetch(url, { headers: { accept: 'text/event-stream', ...headers }, signal: abort.signal });
    if (!res.ok || !res.body) throw new Error(`${url}: HTTP ${res.status}`);
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let buf = '';
    while (!done(events)) {
      const { value, done: end } = await reader.read();
      if (end) break;
      buf += value;
      let cut;
      while ((cut = buf.indexOf('\n\n')) >= 0) {
        const block = buf.slice(0, cut);
        buf = buf.slice(cut + 2);
        const ev = /^event: (.*)$/m.exec(block)?.[1];
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (ev && data) events.push({ event: ev, data: JSON.parse(data), at: Date.now() });
      }
    }
  } catch (e) {
    if (!abort.signal.aborted) throw e;
  } finally {
    clearTimeout(timer);
    abort.abort();
  }
  return events;
}
