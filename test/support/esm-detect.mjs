// Preloaded into every test process (package.json tap.node-arg): registers esm-detect-hook.mjs,
// which lets node-opcua's ESM-only dependencies load under tap's TypeScript loader (see there).
import { register } from 'node:module';

register('./esm-detect-hook.mjs', import.meta.url);
