#!/usr/bin/env node
// npm postinstall (package.json "scripts.postinstall"): applies patches/opencv4nodejs-<version>-*.patch
// to @u4/opencv4nodejs' C++ source and then compiles the binding — once. The package's own
// install script (the implicit `node-gyp rebuild` of a package with a binding.gyp) is turned
// off with `"allowScripts": { "@u4/opencv4nodejs": false }` (npm 11), because it would compile
// the unpatched source first. Root postinstall runs after every dependency is in place.
//
// Why a patch: the binding's Mat allocator calls V8 from Mat finalisers, inside the garbage
// collector, which kills the process on Node 20 (issue 9; patches/README.md).
//
//   node scripts/build-opencv4nodejs.mjs [--force]   --force: rebuild even when the stamp matches
//
// Needs the environment of scripts/setup.sh (OPENCV4NODEJS_DISABLE_AUTOBUILD=1 and OPENCV_*_DIR
// of Debian's libopencv-dev, STACK-NOTES) and `patch`. Idempotent: patches already applied are
// skipped, and the build is skipped when build/anomalygpt-edge-patches.json says this exact set
// of patches was compiled for this Node ABI. A patch that neither applies nor is applied stops
// the install with an error: the pinned version changed, or the source was edited.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const PKG = join(ROOT, 'node_modules/@u4/opencv4nodejs');
const PATCHES = join(ROOT, 'patches');
const STAMP = join(PKG, 'build/anomalygpt-edge-patches.json');
const BINARY = join(PKG, 'build/Release/opencv4nodejs.node');
const force = process.argv.includes('--force');

const log = (msg) => process.stderr.write(`opencv4nodejs: ${msg}\n`);
function fail(msg) {
  process.stderr.write(`\nopencv4nodejs: ERROR: ${msg}\n\n`);
  process.exit(1);
}

if (!existsSync(join(PKG, 'package.json'))) fail(`${PKG} is missing (npm ci first)`);
const version = JSON.parse(readFileSync(join(PKG, 'package.json'), 'utf8')).version;
const pinned = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).dependencies['@u4/opencv4nodejs'];
const all = readdirSync(PATCHES).filter((f) => /^opencv4nodejs-.*\.patch$/.test(f)).sort();
const patches = all.filter((f) => f.startsWith(`opencv4nodejs-${version}-`));
if (version !== pinned || (all.length > 0 && patches.length === 0)) {
  fail(`installed @u4/opencv4nodejs ${version}, package.json pins ${pinned}, patches/ has ${all.join(', ')}: ` +
    'port the patches to the new version (and rename them) before changing the pin');
}
if (process.env.OPENCV4NODEJS_DISABLE_AUTOBUILD !== '1') {
  fail('OPENCV4NODEJS_DISABLE_AUTOBUILD=1 and OPENCV_INCLUDE_DIR/OPENCV_LIB_DIR/OPENCV_BIN_DIR are not set: ' +
    'install with scripts/setup.sh (it sets them for Debian\'s libopencv-dev), see STACK-NOTES');
}

function patchTool(args, file) {
  // --fuzz=0: the context must match exactly; a patch that only "nearly" applies is an error.
  return spawnSync('patch', ['-p1', '--fuzz=0', '--no-backup-if-mismatch', '--batch', '-d', PKG, '-i', join(PATCHES, file), ...args], {
    encoding: 'utf8',
  });
}

for (const file of patches) {
  const forward = patchTool(['--forward', '--dry-run'], file);
  if (forward.error) fail(`cannot run patch (apt-get install patch): ${forward.error.message}`);
  if (forward.status === 0) {
    const applied = patchTool(['--forward', '--silent'], file);
    if (applied.status !== 0) fail(`${file} failed to apply:\n${applied.stdout}${applied.stderr}`);
    log(`applied ${file}`);
  } else if (patchTool(['--reverse', '--dry-run'], file).status === 0) {
    log(`${file} already applied`);
  } else {
    fail(`${file} does not apply to @u4/opencv4nodejs ${version}:\n${forward.stdout}${forward.stderr}`);
  }
}

const stamp = {
  package: `@u4/opencv4nodejs@${version}`,
  patches: patches.map((name) => ({ name, sha256: createHash('sha256').update(readFileSync(join(PATCHES, name))).digest('hex') })),
  nodeModules: process.versions.modules,
  arch: process.arch,
  opencv: { include: process.env.OPENCV_INCLUDE_DIR ?? null, lib: process.env.OPENCV_LIB_DIR ?? null },
};
const text = `${JSON.stringify(stamp, null, 2)}\n`;
if (!force && existsSync(BINARY) && existsSync(STAMP) && readFileSync(STAMP, 'utf8') === text) {
  log('binding already built with these patches; skipping the build (--force rebuilds)');
  process.exit(0);
}

// The package's own node-gyp (a dependency of it), as its install script would have run it.
const nodeGyp = createRequire(join(PKG, 'package.json')).resolve('node-gyp/bin/node-gyp.js');
log(`building the binding with node-gyp (≈ 3 min on 2 cores; JOBS=${process.env.JOBS ?? '1'})`);
// Headers of the running Node: npm passes its `nodedir` setting (here /usr) to scripts, but run
// by hand node-gyp would try to download them, and no internet is reachable.
const env = { ...process.env };
const prefix = dirname(dirname(process.execPath));
if (!env.npm_config_nodedir && existsSync(join(prefix, 'include/node/node.h'))) env.npm_config_nodedir = prefix;
const built = spawnSync(process.execPath, [nodeGyp, 'rebuild'], { cwd: PKG, stdio: 'inherit', env });
if (built.status !== 0) fail(`node-gyp rebuild failed (${built.status ?? built.signal})`);
if (!existsSync(BINARY)) fail(`node-gyp finished but ${BINARY} is missing`);
writeFileSync(STAMP, text);
log(`built ${BINARY} with ${patches.length ? patches.join(', ') : 'no patches'}`);
