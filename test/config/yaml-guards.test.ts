/** YAML parser failures are E_CONFIG_INVALID with the file and line (exit 78), and images.maxPixels. */
import t from 'tap';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { exitCodeFor } from '../../src/cli/cli-context.js';
import { HARD_MAX_PIXELS } from '../../src/capture/image-limits.js';
import { loadConfig, parseConfigText, validateConfig, type ConfigIssue } from '../../src/config/index.js';
import type { AppError } from '../../src/errors.js';
import { aliasBomb } from '../support/alias-bomb.js';
import { appErrorOf } from '../support/app-error.js';


const issues = (e: AppError) => (e.details as { issues: ConfigIssue[] }).issues;

t.test('an alias bomb: E_CONFIG_INVALID naming the file and the line, exit 78', async (t) => {
  const path = join(t.testdir(), 'bomb.yaml');
  writeFileSync(path, aliasBomb());
  const t0 = performance.now();
  const e = appErrorOf(() => loadConfig(path, { env: {} }));
  t.ok(performance.now() - t0 < 2000, 'refused without expanding it');
  t.equal(e.code, 'E_CONFIG_INVALID');
  t.match(e.message, new RegExp(`invalid configuration ${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
  t.same(issues(e), [{ path: 'line 3, column 8', message: 'aliases expand to more than 100 nodes (an alias bomb?); write the values out instead of nesting aliases' }], 'the first alias of an aliased node');
  t.equal(exitCodeFor(e), 78, 'systemd stops instead of restart-looping');
});

t.test('a few aliases are fine; nesting too deep and syntax errors are E_CONFIG_INVALID with positions', async (t) => {
  t.same(parseConfigText('x: &x {a: 1}\ny: *x\nz: *x\n', 'ok.yaml'), { x: { a: 1 }, y: { a: 1 }, z: { a: 1 } });
  const deep = appErrorOf(() => parseConfigText(`a: ${'['.repeat(100_000)}`, 'deep.yaml'));
  t.equal(deep.code, 'E_CONFIG_INVALID');
  t.ok(issues(deep).length <= 11, `listed at most 10 YAML errors and a count (${issues(deep).length} issues)`);
  t.match(issues(deep).at(-1), { path: '(yaml)', message: /and \d+ more YAML errors/ });
  const syntax = appErrorOf(() => parseConfigText('a: 1\n  b: [\n', 'syntax.yaml'));
  t.match(issues(syntax)[0], { path: /^line \d+, column \d+$/ });
  t.match(syntax.message, /syntax\.yaml/);
});

t.test('images.maxPixels: default 40 MP, at most the binding\'s hard cap', async (t) => {
  const base = { inference: { bundle: '/opt/b' }, cameras: [{ id: 'c', recipe: 'r', source: { kind: 'sim' } }] };
  t.equal(validateConfig(base, 'x', { env: {} }).images.maxPixels, 40_000_000);
  t.equal(validateConfig({ ...base, images: { maxPixels: HARD_MAX_PIXELS } }, 'x', { env: {} }).images.maxPixels, HARD_MAX_PIXELS);
  const over = appErrorOf(() => validateConfig({ ...base, images: { maxPixels: HARD_MAX_PIXELS + 1 } }, 'x', { env: {} }));
  t.match(issues(over), [{ path: 'images.maxPixels', message: /268435455/ }]);
  const zero = appErrorOf(() => validateConfig({ ...base, images: { maxPixels: 0, minPixels: 1 } }, 'x', { env: {} }));
  t.same(issues(zero).map((i) => i.path).sort(), ['images.maxPixels', 'images.minPixels']);
});
