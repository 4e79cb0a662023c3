/**
 * The Python export checks manifests against models/schemas/ (generated from the TypeBox
 * schemas, test/models/schemas.test.ts) instead of re-declaring the rules: the manifests the
 * TypeScript builders write pass `python3 -m anomalygpt_export.manifest_schema`, and a manifest
 * broken in one place is refused by TypeBox's Value.Check *and* by the Python side, which names
 * the place as a JSON pointer. Fast (no torch); needs /usr/bin/python3 with python3-jsonschema.
 * The export CLIs refusing what they would write: llm-export.integration.test.ts (quantize_int4 on a bundle).
 */
import t from 'tap';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { BundleManifestSchema } from '../../src/fewshot/bundle-manifest.js';
import { LlmManifestSchema } from '../../src/vlm/llm/llm-manifest.js';
import { AnomalyGptManifestSchema } from '../../src/vlm/manifest.js';
import { buildTinyBundle } from '../../tools/fixtures/anomalygpt/build-tiny-bundle.js';
import { defaultBundleDir } from '../support/bundle.js';
import { pythonMissing, runExport } from '../support/python.js';

const skip = pythonMissing(['jsonschema']);
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- manifests are mutated as plain JSON here
type Json = any;

const dir = mkdtempSync(join(tmpdir(), 'manifest-schema-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

interface Kind {
  name: string;
  schema: TSchema;
  manifest: () => Promise<string>;
}
const tiny = (async () => {
  await buildTinyBundle(join(dir, 'tiny'), { seed: 2 });
  return join(dir, 'tiny');
})();
const KINDS: Kind[] = [
  { name: 'few-shot bundle (default bundle)', schema: BundleManifestSchema, manifest: async () => join(await defaultBundleDir(), 'manifest.json') },
  { name: 'AnomalyGPT bundle (tiny fixture)', schema: AnomalyGptManifestSchema, manifest: async () => join(await tiny, 'manifest.json') },
  { name: 'LLM sub-bundle (tiny fixture)', schema: LlmManifestSchema, manifest: async () => join(await tiny, 'llm', 'manifest.json') },
];

const SCHEMA_IDS = ['anomalygpt-edge/bundle@1', 'anomalygpt-edge/anomalygpt-bundle@1', 'anomalygpt-edge/llm-bundle@1'];
/** The Python check of one manifest file; with `kind`, against that kind's schema whatever the file's `schema` field says. */
const check = (path: string, kind?: number) => runExport('manifest_schema', [...(kind === undefined ? [] : ['--schema', SCHEMA_IDS[kind]]), path]);

t.test('manifests the TS builders write pass the Python check', { skip }, async (t) => {
  for (const k of KINDS) {
    const path = await k.manifest();
    t.ok(Value.Check(k.schema, JSON.parse(readFileSync(path, 'utf8'))), `${k.name}: TypeBox accepts it`);
    const r = check(path);
    t.equal(r.status, 0, `${k.name}: python accepts it ${r.stderr}`);
    t.match(r.stdout, `: ok (${SCHEMA_IDS[KINDS.indexOf(k)]})`, 'picked by its `schema` field');
  }
});

/** One broken place per case; `at` is the JSON pointer the Python message must name. */
const BREAKS: { kind: number; what: string; at: RegExp; mutate: (m: Json) => void }[] = [
  { kind: 0, what: 'an id with capitals and a space', at: /\/id: 'Not An Id' does not match/, mutate: (m) => { m.id = 'Not An Id'; } },
  { kind: 0, what: 'a sha256 that is not 64 hex digits', at: /\/files\/0\/sha256: /, mutate: (m) => { m.files[0].sha256 = 'abc'; } },
  { kind: 0, what: 'a 4-entry mean (a 3-tuple)', at: /\/encoder\/input\/mean: /, mutate: (m) => { m.encoder.input.mean = [0, 0, 0, 0]; } },
  { kind: 0, what: 'an unknown resize mode', at: /\/encoder\/input\/resize: 'stretch' is not one of \['squash', 'shorter-side-crop'\]/, mutate: (m) => { m.encoder.input.resize = 'stretch'; } },
  { kind: 1, what: 'a file role the bundle type does not have', at: /\/files\/\d+\/role: 'weights' is not one of/, mutate: (m) => { m.files[1].role = 'weights'; } },
  { kind: 1, what: 'no provenance', at: /\/: 'provenance' is a required property/, mutate: (m) => { delete m.provenance; } },
  { kind: 1, what: 'an absolute encoder path', at: /\/encoder\/file: '\/abs\/encoder.onnx' does not match/, mutate: (m) => { m.encoder.file = '/abs/encoder.onnx'; } },
  { kind: 1, what: '3 tap blocks', at: /\/encoder\/tapBlocks: /, mutate: (m) => { m.encoder.tapBlocks = [1, 2, 3]; } },
  { kind: 2, what: 'an unknown RoPE layout', at: /\/config\/ropeLayout: 'rotated' is not one of \['interleaved', 'half'\]/, mutate: (m) => { m.config.ropeLayout = 'rotated'; } },
  { kind: 2, what: 'a property the closed schema does not know', at: /\/tokenizer: Additional properties are not allowed \('merges' was unexpected\)/, mutate: (m) => { m.tokenizer.merges = 'x'; } },
  { kind: 2, what: 'the schema id of another bundle type', at: /\/schema: 'anomalygpt-edge\/llm-bundle@1' was expected/, mutate: (m) => { m.schema = 'anomalygpt-edge/bundle@1'; } },
];

t.test('one broken place: TypeBox and the Python schema check both refuse it, Python names the place', { skip }, async (t) => {
  for (const [i, b] of BREAKS.entries()) {
    const k = KINDS[b.kind];
    const m = JSON.parse(readFileSync(await k.manifest(), 'utf8')) as Json;
    b.mutate(m);
    t.notOk(Value.Check(k.schema, m), `${k.name}, ${b.what}: TypeBox refuses it`);
    const path = join(dir, `broken-${i}.json`);
    writeFileSync(path, JSON.stringify(m));
    const r = check(path, b.kind);
    t.equal(r.status, 1, `${k.name}, ${b.what}: python refuses it`);
    t.match(r.stderr, b.at, `${k.name}, ${b.what}: the message names the place`);
  }
});
