import t, { type Test } from 'tap';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isAppError, type AppError } from '../../src/errors.js';
import {
  checkConfigFile,
  configJsonSchema,
  defaultConfigPath,
  loadConfig,
  validateConfig,
  type Config,
  type ConfigIssue,
} from '../../src/config/index.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const noEnv = { env: {} as NodeJS.ProcessEnv };

/** A valid minimal config object; tests change one thing in it. */
function minimal(): Record<string, any> {
  return {
    inference: { bundle: '/opt/bundle' },
    cameras: [{ id: 'cam1', recipe: 'sim-part', source: { kind: 'sim' } }],
  };
}

function issuesOf(t: Test, fn: () => unknown): ConfigIssue[] {
  try {
    fn();
  } catch (e) {
    t.ok(isAppError(e, 'E_CONFIG_INVALID'), `E_CONFIG_INVALID (got ${String(e)})`);
    return ((e as AppError).details as { issues: ConfigIssue[] }).issues;
  }
  t.fail('expected E_CONFIG_INVALID');
  return [];
}

t.test('embedded default config loads with resolved paths', async (t) => {
  t.equal(defaultConfigPath(), join(repoRoot, 'config', 'default.yaml'));
  const c = loadConfig(undefined, noEnv);
  t.equal(c.stateDirectory, join(repoRoot, 'state'));
  t.equal(c.inference.bundle, join(repoRoot, 'models', 'bundles', 'mobilenetv2-nsfwjs'));
  t.equal(c.recipes.directory, join(repoRoot, 'state', 'recipes'));
  t.equal(c.archive.directory, join(repoRoot, 'state', 'archive'));
  t.same(c.inference.executionProviders, ['tensorrt', 'cuda', 'cpu']);
  t.match(c.cameras[0], { id: 'cam1', recipe: 'sim-part', source: { kind: 'sim' }, trigger: { mode: 'free-run', fps: 2 } });
  t.match(c.http, { enabled: true, host: '127.0.0.1', port: 8787 });
});

t.test('example config validates, and so do its commented-out cameras', async (t) => {
  const file = join(repoRoot, 'config', 'example.yaml');
  // Uncomment the example cameras (lines "  # - id:" and "  #   ...") for the second check.
  const text = readFileSync(file, 'utf8').replace(/^ {2}# (- id:| {2})/gm, '  $1');
  // The example's OPC UA users name one env secret and one systemd credential.
  const dir = t.testdir({ 'example-all.yaml': text, creds: { 'line2-camera-password': 's3cret\n', 'opcua-engineer-password': 'eng\n' } });
  const secrets = join(dir, 'creds');
  const c = loadConfig(file, { env: { OPCUA_PLC_PASSWORD: 'plc' }, credentialsDirectory: secrets });
  t.same(c.cameras.map((x) => x.source.kind), ['sim', 'device']);

  const all = loadConfig(join(dir, 'example-all.yaml'), { env: { OPCUA_PLC_PASSWORD: 'plc' }, credentialsDirectory: secrets });
  t.same(all.cameras.map((x) => x.source.kind).sort(), ['device', 'file', 'folder', 'sim', 'url']);
  const kinds = new Set(all.cameras.map((x) => x.source.kind));
  t.equal(kinds.size, 5, 'every source kind is shown in the example');
});

t.test('defaults are applied to a minimal config', async (t) => {
  const c = validateConfig(minimal(), 'test', { ...noEnv, baseDir: '/etc/age' });
  t.equal(c.logging.level, 'info');
  t.equal(c.stateDirectory, '/etc/age/state');
  t.same(c.cameras[0].source, { kind: 'sim', width: 320, height: 240, defectRate: 0.3, seed: 1 });
  t.same(c.cameras[0].trigger, { mode: 'free-run', fps: 2 });
  t.same(c.cameras[0].reconnect, { initialDelayMs: 500, maxDelayMs: 30000 });
  t.same(c.archive, { directory: '/etc/age/state/archive', maxRecords: 10000, maxBytes: 2147483648, saveFrames: 'fails', fsync: true });
  t.same(c.shutdown, { stepTimeoutMs: 10000 });
  t.equal(c.inference.warmupRuns, 3);
  t.match(c.assistant, { enabled: false, part: 'object', mode: 'fails-only', maxPerSecond: 1, dialogue: { maxTurns: 8, maxConcurrent: 1 } }, 'the assistant is off by default');
});

t.test('an unknown key deep down is reported with its YAML path', async (t) => {
  const cfg = minimal();
  cfg.cameras[0].source = { kind: 'file', path: 'a.mp4', fps: 5 };
  const issues = issuesOf(t, () => validateConfig(cfg, 'x.yaml', noEnv));
  t.same(issues, [{ path: 'cameras[0].source.fps', message: 'unknown key' }]);
});

t.test('one error lists every problem', async (t) => {
  const cfg = minimal();
  cfg.logging = { level: 'loud' };
  cfg.http = { port: 70000, tlz: true };
  try {
    validateConfig(cfg, 'plant.yaml', noEnv);
    t.fail('should throw');
  } catch (e) {
    const msg = (e as Error).message;
    t.match(msg, /^invalid configuration plant\.yaml \(3 problems\)/);
    t.match(msg, /logging\.level: must be one of fatal, error, warn, info, debug, trace/);
    t.match(msg, /http\.port: /);
    t.match(msg, /http\.tlz: unknown key/);
  }
});

t.test('a bad enum value names the index and the allowed values', async (t) => {
  const cfg = minimal();
  cfg.inference.executionProviders = ['cuda', 'gpu'];
  const issues = issuesOf(t, () => validateConfig(cfg, 'x', noEnv));
  t.equal(issues.length, 1);
  t.equal(issues[0].path, 'inference.executionProviders[1]');
  t.match(issues[0].message, /^must be one of tensorrt, cuda, cpu/);

  cfg.inference.executionProviders = ['cpu', 'cpu'];
  t.same(issuesOf(t, () => validateConfig(cfg, 'x', noEnv)), [{ path: 'inference.executionProviders', message: 'each item must be unique' }]);
});

t.test('source errors are reported against the branch chosen by kind', async (t) => {
  const cfg = minimal();
  cfg.cameras[0].source = { kind: 'url', uri: 'rtsp://x', api: 'vlc' };
  const issues = issuesOf(t, () => validateConfig(cfg, 'x', noEnv));
  t.same(
    issues.map((i) => i.path).sort(),
    ['cameras[0].source.api', 'cameras[0].source.uri', 'cameras[0].source.url'],
    'only the url branch is reported, no union noise',
  );
  t.match(issues.find((i) => i.path.endsWith('.api'))!.message, /must be one of any, ffmpeg, gstreamer/);
  t.equal(issues.find((i) => i.path.endsWith('.url'))!.message, 'is required');

  cfg.cameras[0].source = { kind: 'webcam' };
  t.same(issuesOf(t, () => validateConfig(cfg, 'x', noEnv)), [
    { path: 'cameras[0].source.kind', message: 'must be one of device, url, file, folder, sim (got "webcam")' },
  ]);
  cfg.cameras[0].source = { index: 0 };
  t.match(issuesOf(t, () => validateConfig(cfg, 'x', noEnv)), [{ path: 'cameras[0].source.kind', message: /^is required/ }]);
});

t.test('semantic checks: unique camera ids, reconnect bounds, password in URL', async (t) => {
  const cfg = minimal();
  cfg.cameras.push({ id: 'cam1', recipe: 'b', source: { kind: 'url', url: 'rtsp://op:pw@10.0.0.2/s' }, reconnect: { initialDelayMs: 1000, maxDelayMs: 10 } });
  const issues = issuesOf(t, () => validateConfig(cfg, 'x', noEnv));
  t.same(issues.map((i) => i.path).sort(), ['cameras[1].id', 'cameras[1].reconnect.maxDelayMs', 'cameras[1].source.url']);
  t.match(issues.find((i) => i.path === 'cameras[1].id')!.message, /duplicate camera id "cam1" \(also cameras\[0\]\.id\)/);
});

t.test('a literal secret is rejected with the reason', async (t) => {
  const cfg = minimal();
  cfg.cameras[0].source = { kind: 'url', url: 'rtsp://10.0.0.2/s', username: 'op', password: 'hunter2' };
  const issues = issuesOf(t, () => validateConfig(cfg, 'x', noEnv));
  t.equal(issues.length, 1);
  t.equal(issues[0].path, 'cameras[0].source.password');
  t.match(issues[0].message, /literal secret/);
  t.match(issues[0].message, /\{ env: NAME \}/);
  t.match(issues[0].message, /\{ credential: NAME \}/);
  t.notMatch(JSON.stringify(issues), /hunter2/, 'the secret is not echoed');

  cfg.cameras[0].source.password = { credential: '../etc/shadow' };
  t.match(issuesOf(t, () => validateConfig(cfg, 'x', noEnv)), [{ path: 'cameras[0].source.password.credential', message: /credential name/ }]);
});

t.test('relative paths: config dir vs stateDirectory; STATE_DIRECTORY overrides', async (t) => {
  const dir = t.testdir({
    etc: {
      'c.yaml': [
        'stateDirectory: ./st',
        'inference: { bundle: ../bundles/b1 }',
        'recipes: { directory: rec }',
        'archive: { directory: /var/archive }',
        'cameras:',
        '  - { id: a, recipe: r, source: { kind: folder, path: imgs } }',
        '  - { id: b, recipe: r, source: { kind: sim, references: ../good } }',
        '',
      ].join('\n'),
    },
  });
  const file = join(dir, 'etc', 'c.yaml');
  const c = loadConfig(file, noEnv);
  t.equal(c.stateDirectory, join(dir, 'etc', 'st'));
  t.equal(c.inference.bundle, join(dir, 'bundles', 'b1'));
  t.equal(c.recipes.directory, join(dir, 'etc', 'st', 'rec'));
  t.equal(c.archive.directory, '/var/archive');
  t.match(c.cameras[0].source, { kind: 'folder', path: join(dir, 'etc', 'imgs'), loop: false });
  t.match(c.cameras[1].source, { kind: 'sim', references: join(dir, 'good') });

  const s = loadConfig(file, { env: { STATE_DIRECTORY: '/var/lib/anomalygpt-edge:/var/lib/other' } });
  t.equal(s.stateDirectory, '/var/lib/anomalygpt-edge');
  t.equal(s.recipes.directory, '/var/lib/anomalygpt-edge/rec');
});

t.test('the result is deep-frozen', async (t) => {
  const c: Config = validateConfig(minimal(), 'x', noEnv);
  t.throws(() => {
    (c as any).http.port = 1;
  }, TypeError);
  t.throws(() => {
    (c.cameras as any[]).push({});
  }, TypeError);
  t.throws(() => {
    (c.cameras[0].source as any).width = 1;
  }, TypeError);
  t.equal(c.http.port, 8787);
});

t.test('YAML problems, unreadable files and check-config results', async (t) => {
  const dir = t.testdir({
    'dup.yaml': 'http: { port: 1 }\nhttp: { port: 2 }\n',
    'syntax.yaml': 'cameras: [\n',
    'empty.yaml': '',
    'bad.yaml': 'inference: { bundle: b }\ncameras: []\nlogging: { level: loud }\n',
  });
  for (const name of ['dup.yaml', 'syntax.yaml', 'empty.yaml']) {
    const issues = issuesOf(t, () => loadConfig(join(dir, name), noEnv));
    t.ok(issues.length >= 1, `${name}: reported`);
  }
  t.match(issuesOf(t, () => loadConfig(join(dir, 'dup.yaml'), noEnv))[0], { path: /^line 2, column 1/, message: /unique/ });
  t.throws(() => loadConfig(join(dir, 'missing.yaml'), noEnv), { code: 'E_CONFIG_UNREADABLE' });

  const bad = checkConfigFile(join(dir, 'bad.yaml'), noEnv);
  t.equal(bad.ok, false);
  t.same(bad.errors.map((e) => e.split(':')[0]).sort(), ['cameras', 'logging.level']);
  const missing = checkConfigFile(join(dir, 'missing.yaml'), noEnv);
  t.equal(missing.ok, false);
  t.match(missing.errors[0], /ENOENT/);
  const good = checkConfigFile(join(repoRoot, 'config', 'default.yaml'), noEnv);
  t.same({ ok: good.ok, errors: good.errors }, { ok: true, errors: [] });
});

t.test('JSON Schema export: plain JSON, every object closed', async (t) => {
  const schema = configJsonSchema();
  const text = JSON.stringify(schema);
  t.same(JSON.parse(text), schema, 'round-trips through JSON');
  t.equal(schema.$schema, 'https://json-schema.org/draft/2020-12/schema');
  let objects = 0;
  const walk = (s: any, at: string): void => {
    if (typeof s !== 'object' || s === null) return;
    if (s.type === 'object') {
      objects++;
      t.equal(s.additionalProperties, false, `${at} rejects unknown keys`);
    }
    for (const [k, v] of Object.entries(s)) if (k !== 'default') walk(v, `${at}/${k}`);
  };
  walk(schema, '#');
  t.ok(objects >= 15, `walked ${objects} object schemas`);
  writeFileSync(join(t.testdir(), 'schema.json'), text);
});
