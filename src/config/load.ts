/**
 * Config file → validated, path-resolved, deep-frozen `Config` (fastify: validate once, throw
 * one error listing every problem, then freeze). Bad config is E_CONFIG_INVALID, which the
 * CLI maps to exit 78 (EX_CONFIG) so systemd does not restart-loop (RestartPreventExitStatus=78).
 *
 * Path rules: stateDirectory, inference.bundle, file/folder `path` and sim `references` are
 * relative to the config file's directory; recipes.directory and archive.directory are
 * relative to stateDirectory (also opcua.pkiDirectory and mqtt.queue.directory; mqtt.tls files are
 * relative to the config file). $STATE_DIRECTORY (set by systemd's StateDirectory=) replaces
 * stateDirectory when set.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Value } from '@sinclair/typebox/value';
import { LineCounter, parseDocument, visit } from 'yaml';
import { AppError, ErrorCodes, toError } from '../errors.js';
import { ConfigSchema, type Config } from './schema.js';
import { checkSecrets, type SecretEnvironment } from './secrets.js';
import { collectIssues, type ConfigIssue } from './validate.js';

export interface ValidateOptions extends SecretEnvironment {
  /** Directory that relative paths resolve against. Default: process.cwd(). */
  baseDir?: string;
  /** Check that every { env } / { credential } secret resolves now. Default: true. */
  checkSecrets?: boolean;
}

/** The package root (folder of our package.json), from `src/config/` or `dist/config/`. */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'anomalygpt-edge') return dir;
      } catch {
        // not ours or unreadable: keep walking up
      }
    }
    const parent = dirname(dir);
    if (parent === dir) throw new AppError(ErrorCodes.CONFIG_UNREADABLE, 'cannot find the anomalygpt-edge package root');
    dir = parent;
  }
}

/** The embedded default configuration file. */
export function defaultConfigPath(): string {
  return join(packageRoot(), 'config', 'default.yaml');
}

function configError(sourceName: string, issues: ConfigIssue[]): AppError {
  const lines = issues.map((i) => `  - ${i.path}: ${i.message}`);
  return new AppError(
    ErrorCodes.CONFIG_INVALID,
    `invalid configuration ${sourceName} (${issues.length} problem${issues.length === 1 ? '' : 's'}):\n${lines.join('\n')}`,
    { details: { source: sourceName, issues } },
  );
}

/** Aliases a config may expand; the yaml package's guard against "billion laughs" alias bombs. */
const MAX_ALIAS_COUNT = 100;
/** YAML errors listed at most (a deeply nested file gives hundreds, one per level). */
const MAX_YAML_ISSUES = 10;

/**
 * YAML text → plain data. Every parser failure is E_CONFIG_INVALID naming the file and line:
 * syntax errors (incl. duplicate keys), nesting too deep for the parser, and an alias bomb
 * (yaml's toJS throws a bare ReferenceError for it, which used to end as E_UNEXPECTED, exit
 * 1, and a systemd restart loop instead of exit 78).
 */
export function parseConfigText(text: string, sourceName: string): unknown {
  const lineCounter = new LineCounter();
  let doc: ReturnType<typeof parseDocument>;
  try {
    doc = parseDocument(text, { uniqueKeys: true, prettyErrors: true, lineCounter });
  } catch (e) {
    throw configError(sourceName, [{ path: '(yaml)', message: `cannot be parsed: ${toError(e).message}` }]);
  }
  if (doc.errors.length > 0) {
    const issues = doc.errors.slice(0, MAX_YAML_ISSUES).map((e) => {
      const pos = e.linePos?.[0];
      return { path: pos ? `line ${pos.line}, column ${pos.col}` : '(yaml)', message: e.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '') };
    });
    if (doc.errors.length > MAX_YAML_ISSUES) issues.push({ path: '(yaml)', message: `and ${doc.errors.length - MAX_YAML_ISSUES} more YAML errors` });
    throw configError(sourceName, issues);
  }
  try {
    return doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT }) as unknown;
  } catch (e) {
    const bomb = /alias count/i.test(toError(e).message);
    const at = bomb ? nestedAliasAt(doc, lineCounter) : undefined;
    throw configError(sourceName, [
      {
        path: at ? `line ${at.line}, column ${at.col}` : '(yaml)',
        message: bomb
          ? `aliases expand to more than ${MAX_ALIAS_COUNT} nodes (an alias bomb?); write the values out instead of nesting aliases`
          : `cannot be read: ${toError(e).message}`,
      },
    ]);
  }
}

/** Where the first alias to a node that itself holds aliases is (how an alias bomb is built); else the first alias. */
function nestedAliasAt(doc: ReturnType<typeof parseDocument>, lines: LineCounter): { line: number; col: number } | undefined {
  let first: number | undefined;
  let nested: number | undefined;
  visit(doc, {
    Alias(_key, node) {
      const offset = node.range?.[0];
      if (offset === undefined) return visit.SKIP;
      first ??= offset;
      const target = node.resolve(doc);
      let inner = false;
      if (target) {
        visit(target, {
          Alias() {
            inner = true;
            return visit.BREAK;
          },
        });
      }
      if (inner) {
        nested = offset;
        return visit.BREAK;
      }
      return visit.SKIP;
    },
  });
  const offset = nested ?? first;
  return offset === undefined ? undefined : lines.linePos(offset);
}

/** Semantic checks the schema cannot express. Guarded: `value` may be invalid. */
function crossChecks(value: unknown): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const assistant = (value as { assistant?: { enabled?: unknown; bundle?: unknown } })?.assistant;
  if (assistant?.enabled === true && assistant.bundle === undefined) {
    issues.push({ path: 'assistant.bundle', message: 'is required when assistant.enabled is true (an AnomalyGPT bundle folder)' });
  }
  const cameras = (value as { cameras?: unknown })?.cameras;
  if (!Array.isArray(cameras)) return issues;
  const firstIndex = new Map<string, number>();
  cameras.forEach((cam: Record<string, any> | null, i) => {
    if (typeof cam !== 'object' || cam === null) return;
    if (typeof cam.id === 'string') {
      const prev = firstIndex.get(cam.id);
      if (prev !== undefined) issues.push({ path: `cameras[${i}].id`, message: `duplicate camera id "${cam.id}" (also cameras[${prev}].id)` });
      else firstIndex.set(cam.id, i);
    }
    const r = cam.reconnect;
    if (r && Number.isInteger(r.initialDelayMs) && Number.isInteger(r.maxDelayMs) && r.maxDelayMs < r.initialDelayMs) {
      issues.push({ path: `cameras[${i}].reconnect.maxDelayMs`, message: 'must be at least initialDelayMs' });
    }
    const src = cam.source;
    if (src?.kind === 'url' && typeof src.url === 'string' && URL.canParse(src.url) && new URL(src.url).password !== '') {
      issues.push({
        path: `cameras[${i}].source.url`,
        message: 'contains a password; put it in source.password as { env: NAME } or { credential: NAME }',
      });
    }
  });
  return issues;
}

function resolvePaths(config: Config, baseDir: string, env: NodeJS.ProcessEnv): void {
  // systemd may list several StateDirectory= entries separated by ':'; ours is the first.
  const fromSystemd = env.STATE_DIRECTORY?.split(':')[0];
  config.stateDirectory = fromSystemd ? resolve(fromSystemd) : resolve(baseDir, config.stateDirectory);
  config.inference.bundle = resolve(baseDir, config.inference.bundle);
  if (config.assistant.bundle !== undefined) config.assistant.bundle = resolve(baseDir, config.assistant.bundle);
  config.recipes.directory = resolve(config.stateDirectory, config.recipes.directory);
  config.archive.directory = resolve(config.stateDirectory, config.archive.directory);
  config.opcua.pkiDirectory = resolve(config.stateDirectory, config.opcua.pkiDirectory);
  if (config.http.tls) {
    config.http.tls.cert = resolve(baseDir, config.http.tls.cert);
    config.http.tls.key = resolve(baseDir, config.http.tls.key);
  }
  const tls = config.mqtt.tls;
  if (tls) {
    if (tls.ca !== undefined) tls.ca = resolve(baseDir, tls.ca);
    if (tls.cert !== undefined) tls.cert = resolve(baseDir, tls.cert);
    if (tls.key !== undefined) tls.key = resolve(baseDir, tls.key);
  }
  for (const cam of config.cameras) {
    const s = cam.source;
    if (s.kind === 'file' || s.kind === 'folder') s.path = resolve(baseDir, s.path);
    if (s.kind === 'sim' && s.references !== undefined) s.references = resolve(baseDir, s.references);
  }
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

/**
 * Plain data (e.g. parsed YAML) → frozen Config. `sourceName` labels the error message.
 * Throws one AppError(E_CONFIG_INVALID) listing every issue (details.issues: ConfigIssue[]).
 */
export function validateConfig(obj: unknown, sourceName: string, options: ValidateOptions = {}): Config {
  const env = options.env ?? process.env;
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) {
    throw configError(sourceName, [{ path: '(root)', message: `must be a mapping (got ${obj === null || obj === undefined ? 'an empty document' : typeof obj})` }]);
  }
  const value = Value.Default(ConfigSchema, Value.Clone(obj));
  const issues = [...collectIssues(ConfigSchema, value), ...crossChecks(value)];
  if (issues.length === 0 && options.checkSecrets !== false) {
    issues.push(...checkSecrets(value, { env, credentialsDirectory: options.credentialsDirectory }));
  }
  if (issues.length > 0) throw configError(sourceName, issues);
  const config = value as Config;
  resolvePaths(config, resolve(options.baseDir ?? process.cwd()), env);
  return deepFreeze(config);
}

/** Reads, validates and freezes a config file; no path → the embedded config/default.yaml. */
export function loadConfig(path?: string, options: Omit<ValidateOptions, 'baseDir'> = {}): Config {
  const file = resolve(path ?? defaultConfigPath());
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? String(e);
    throw new AppError(ErrorCodes.CONFIG_UNREADABLE, `cannot read configuration ${file} (${code})`, { cause: e });
  }
  return validateConfig(parseConfigText(text, file), file, { ...options, baseDir: dirname(file) });
}

export interface CheckResult {
  ok: boolean;
  /** One line per problem: `key.path: message`. */
  errors: string[];
  config?: Config;
}

/** For `check-config`: never throws for a bad or unreadable file; reports every problem. */
export function checkConfigFile(path: string, options: Omit<ValidateOptions, 'baseDir'> = {}): CheckResult {
  try {
    return { ok: true, errors: [], config: loadConfig(isAbsolute(path) ? path : resolve(path), options) };
  } catch (e) {
    if (e instanceof AppError) {
      const issues = (e.details as { issues?: ConfigIssue[] } | undefined)?.issues;
      return { ok: false, errors: issues ? issues.map((i) => `${i.path}: ${i.message}`) : [e.message] };
    }
    throw e;
  }
}
