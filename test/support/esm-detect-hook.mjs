// Module loader hook for tests that import node-opcua under tap.
//
// Node 20.19+ detects ES module syntax in a `.js` file of a package without "type":"module"
// (e.g. @peculiar/webcrypto's `build/webcrypto.es.js`, reached through its "import" export
// condition) and loads it as ESM. tap's TypeScript loader (ts-node) still classifies such files
// as CommonJS, so `import { Crypto } from '@peculiar/webcrypto'` fails with "does not provide an
// export named 'Crypto'" — under tap only; `node dist/main.js` is not affected.
//
// This hook restores Node's own rule for dependencies: a node_modules `.js` file that ts-node
// would load as CommonJS but that does not parse as a script and has import/export statements
// is loaded as a module. Register it before node-opcua is imported:
//   register('./esm-detect-hook.mjs', import.meta.url); await import('node-opcua');
// (or preload it for every test process via tap's node-arg).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Script } from 'node:vm';

export async function load(url, context, next) {
  if (url.startsWith('file:') && url.includes('/node_modules/') && url.endsWith('.js') && context.format !== 'module') {
    const source = readFileSync(fileURLToPath(url), 'utf8');
    if (/^\s*(import|export)\b/m.test(source)) {
      try {
        new Script(source);
      } catch (e) {
        if (e instanceof SyntaxError) return next(url, { ...context, format: 'module' });
      }
    }
  }
  return next(url, context);
}
