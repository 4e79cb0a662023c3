/**
 * Dependencies point one way (DESIGN principle 2): every relative import in src/ must land in
 * the same folder or in one its folder may import. The rules are the table under "Import
 * rules" in README.md — read from there, so the README and this check cannot disagree.
 *
 *   node dist-tools/tools/checks/check-imports.js        exit 0: all imports allowed; 1: violations listed
 *
 * Table rows: `| \`src/fewshot/\` | root, util, config, … |`; "root" means the files directly
 * in src/ but main.ts (errors.ts, log.ts, component.ts), which has a row of its own. A folder's subfolders follow its row. src/ must
 * never import tools/ or test/.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { repoRoot } from '../models/build-default-bundle.js';

export interface ImportViolation {
  readonly file: string;
  readonly specifier: string;
  readonly from: string;
  readonly to: string;
}

/** Folder (first segment below src/, or 'root') → the folders it may import. */
export function parseRules(readme: string): Map<string, Set<string>> {
  const section = readme.split(/^#+ Import rules\s*$/m)[1];
  if (!section) throw new Error('README.md has no "Import rules" heading');
  const rules = new Map<string, Set<string>>();
  for (const line of section.split('\n')) {
    const m = /^\|\s*`src\/([^`]*)`[^|]*\|([^|]*)\|/.exec(line);
    if (!m) {
      if (rules.size > 0 && !line.startsWith('|')) break;
      continue;
    }
    const folder = m[1] === 'main.ts' ? 'main.ts' : m[1].replace(/\/$/, '').split('/')[0] || 'root';
    const allowed = m[2].split(',').map((s) => s.trim().replace(/`/g, '')).filter((s) => s && s !== '—' && s !== 'nothing');
    rules.set(folder, new Set(allowed));
  }
  if (rules.size === 0) throw new Error('README.md "Import rules" has no table rows');
  return rules;
}

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? tsFiles(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/** The folder a path in src/ belongs to: its first segment, 'main.ts', or 'root' for the other files directly in src/. */
function folderOf(srcDir: string, path: string): string {
  const rel = relative(srcDir, path);
  if (rel.startsWith('..')) return rel.split(sep).includes('test') ? 'test' : rel.split(sep).includes('tools') ? 'tools' : 'outside';
  const parts = rel.split(sep);
  return parts.length === 1 ? (parts[0] === 'main.ts' ? 'main.ts' : 'root') : parts[0];
}

const SPECIFIER = /(?:\bfrom\s+|\bimport\s*\(\s*|\bimport\s+)['"](\.{1,2}\/[^'"]+)['"]/g;

export function checkImports(root: string): { violations: ImportViolation[]; files: number; folders: string[] } {
  const rules = parseRules(readFileSync(join(root, 'README.md'), 'utf8'));
  const srcDir = join(root, 'src');
  const violations: ImportViolation[] = [];
  const files = tsFiles(srcDir);
  for (const file of files) {
    const from = folderOf(srcDir, file);
    const allowed = rules.get(from);
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(SPECIFIER)) {
      const to = folderOf(srcDir, resolve(dirname(file), m[1]));
      if (to === from) continue;
      if (!allowed || !allowed.has(to)) violations.push({ file: relative(root, file), specifier: m[1], from, to });
    }
  }
  const unknown = [...new Set(files.map((f) => folderOf(srcDir, f)))].filter((f) => !rules.has(f));
  for (const f of unknown) violations.push({ file: `src/${f}/`, specifier: '', from: f, to: '(no row in README "Import rules")' });
  return { violations, files: files.length, folders: [...rules.keys()] };
}

function main(): number {
  const root = repoRoot();
  const { violations, files, folders } = checkImports(root);
  for (const v of violations) process.stderr.write(`${v.file}: imports ${v.specifier} (${v.from} → ${v.to}), which README "Import rules" does not allow\n`);
  process.stdout.write(`check-imports: ${files} files in ${folders.length} folders, ${violations.length} violation(s)\n`);
  return violations.length === 0 ? 0 : 1;
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(new URL(import.meta.url).pathname)) process.exitCode = main();
