/**
 * models/schemas/*.schema.json are generated from the TypeBox manifest schemas
 * (tools/models/gen-schemas.ts) and committed, so the Python export validates against the rules
 * the daemon loads bundles with. A TypeBox change without `npm run gen:schemas` fails here.
 * Fast: no models, no Python (the Python side's use of them: test/export/manifest-schema.integration.test.ts).
 */
import t from 'tap';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../support/bundle.js';
import { SCHEMAS_DIR, SCHEMA_SOURCES, generateSchemas, schemaUrn, staleSchemas } from '../../tools/models/gen-schemas.js';

const dir = join(REPO_ROOT, SCHEMAS_DIR);

t.test('the committed schemas are what the TypeBox schemas give (else: npm run gen:schemas)', async (t) => {
  t.same(staleSchemas(dir), [], 'no stale or missing file');
  const generated = generateSchemas();
  for (const [file, text] of generated) t.equal(readFileSync(join(dir, file), 'utf8'), text, file);
  t.same(readdirSync(dir).filter((f) => f.endsWith('.json')).sort(), [...generated.keys()].sort(), 'no schema file without a TypeBox source');
  t.equal(generateSchemas().get('bundle.schema.json'), generated.get('bundle.schema.json'), 'deterministic');
});

t.test('draft 2020-12 documents: $id from the manifest schema id, tuples as prefixItems, const unions as enums', async (t) => {
  const ids = new Set<string>();
  for (const src of SCHEMA_SOURCES) {
    const s = JSON.parse(readFileSync(join(dir, src.file), 'utf8'));
    t.equal(s.$schema, 'https://json-schema.org/draft/2020-12/schema', `${src.file} $schema`);
    t.equal(s.$id, schemaUrn(src.schemaId), `${src.file} $id`);
    ids.add(s.$id);
    t.equal(s.properties.schema.const, src.schemaId, 'the manifest `schema` value the Python side picks the file by');
    t.equal(s.additionalProperties, false, 'closed, as the TypeBox object');
    const text = JSON.stringify(s);
    t.notMatch(text, /"additionalItems"|"items":\[/, 'no draft-07 tuple keywords');
  }
  t.equal(ids.size, SCHEMA_SOURCES.length, 'unique $ids');
  const agpt = JSON.parse(readFileSync(join(dir, 'anomalygpt-bundle.schema.json'), 'utf8'));
  t.same(agpt.properties.image.properties.mean, { type: 'array', minItems: 3, maxItems: 3, prefixItems: [{ type: 'number' }, { type: 'number' }, { type: 'number' }], items: false });
  t.same(agpt.properties.files.items.properties.role.enum, ['encoder', 'decoder', 'text-prototypes', 'prompt-learner', 'llama-proj', 'llm-manifest']);
  const llm = JSON.parse(readFileSync(join(dir, 'llm-bundle.schema.json'), 'utf8'));
  t.same(llm.properties.config.properties.ropeLayout, { type: 'string', enum: ['interleaved', 'half'] });
  t.same(llm.properties.provenance.required, ['source', 'license', 'builtBy'], 'Type.Optional stays optional');
});
