/** tools/checks/check-imports.ts: the README's import rules hold for src/, and a breach is caught. */
import t from 'tap';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkImports, parseRules } from '../../tools/checks/check-imports.js';
import { repoRoot } from '../../tools/models/build-default-bundle.js';

t.test('the rules table parses into folder → allowed folders', async (t) => {
  const rules = parseRules('# x\n## Import rules\n\n| folder | may import |\n|---|---|\n| `src/` (root files) | nothing |\n| `src/main.ts` | root, cli |\n| `src/judge/` | root, capture |\n\nafter\n| `src/late/` | x |\n');
  t.same([...rules.keys()], ['root', 'main.ts', 'judge'], 'rows until the table ends');
  t.same([...rules.get('judge')!], ['root', 'capture']);
  t.same([...rules.get('root')!], []);
  t.throws(() => parseRules('# no rules here'), /no "Import rules"/);
});

t.test('src/ follows the README as committed', async (t) => {
  const { violations, files } = checkImports(repoRoot());
  t.ok(files > 100, `${files} files checked`);
  t.same(violations, [], 'no import the README forbids');
});

t.test('a forbidden import, a folder without a row and a static import of test/ are reported', async (t) => {
  const root = t.testdir({
    'README.md': '## Import rules\n| folder | may import |\n|---|---|\n| `src/` | nothing |\n| `src/judge/` | root |\n| `src/fewshot/` | root, judge |\n',
  });
  mkdirSync(join(root, 'src', 'judge'), { recursive: true });
  mkdirSync(join(root, 'src', 'fewshot'), { recursive: true });
  mkdirSync(join(root, 'src', 'extra'), { recursive: true });
  writeFileSync(join(root, 'src', 'errors.ts'), 'export const x = 1;\n');
  writeFileSync(join(root, 'src', 'fewshot', 'a.ts'), "import { j } from '../judge/j.js';\nexport const a = j;\n");
  // (assembled so that no import-rewriting tool takes the specifiers for this file's own imports)
  const from = (spec: string) => `from '${spec}'`;
  writeFileSync(join(root, 'src', 'judge', 'j.ts'), `import { a } ${from('../fewshot/a.js')};\nimport type { T } ${from('../../test/t.js')};\nexport const j = await import('../errors.js');\n`);
  writeFileSync(join(root, 'src', 'extra', 'e.ts'), 'export {};\n');
  const { violations } = checkImports(root);
  t.same(
    violations.map((v) => `${v.file} ${v.from}→${v.to}`).sort(),
    ['src/extra/ extra→(no row in README "Import rules")', 'src/judge/j.ts judge→fewshot', 'src/judge/j.ts judge→test'],
  );
});
