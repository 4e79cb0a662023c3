/**
 * The pieces without a running server: the config slice and its defaults, endpoint security,
 * users and passwords, the StatusCode rule of the result tags, the ResultContent JSON, the
 * PKI store's certificate handling, and build-time configuration errors.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { Value } from '@sinclair/typebox/value';

const { MessageSecurityMode, SecurityPolicy, WellKnownRoles } = await import('node-opcua');
const { OpcuaConfigSchema } = await import('../../../src/config/opcua.js');
const { UserDirectory, endpointSecurity } = await import('../../../src/publish/opcua/opcua-security.js');
const { resultQuality } = await import('../../../src/publish/opcua/tag-quality.js');
const { verdictContent } = await import('../../../src/publish/opcua/result-event.js');
const { listCertificates, matchThumbprint, moveCertificate } = await import('../../../src/publish/opcua/pki-store.js');
const { OpcuaServer } = await import('../../../src/publish/opcua/opcua-server.js');
const { TestControl, silentLogger } = await import('./helpers.js');

t.test('config defaults are the production ones', async (t) => {
  const c = Value.Default(OpcuaConfigSchema, {}) as Record<string, unknown>;
  t.ok(Value.Check(OpcuaConfigSchema, c));
  t.same(c.securityModes, ['SignAndEncrypt', 'Sign'], 'no None unless listed');
  t.same(c.securityPolicies, ['Basic256Sha256', 'Aes128_Sha256_RsaOaep', 'Aes256_Sha256_RsaPss']);
  t.equal(c.allowAnonymous, false);
  t.equal(c.port, 4840);
  t.equal(c.pkiDirectory, 'opcua-pki');
  t.notOk(Value.Check(OpcuaConfigSchema, { ...c, extra: 1 }), 'unknown keys are errors');
  t.notOk(Value.Check(OpcuaConfigSchema, { ...c, securityPolicies: ['Basic128Rsa15'] }), 'deprecated policies are not accepted');
  t.notOk(Value.Check(OpcuaConfigSchema, { ...c, users: [{ username: 'a', password: 'plain', role: 'operator' }] }), 'no literal passwords');
  t.notOk(Value.Check(OpcuaConfigSchema, { ...c, users: [{ username: 'a', password: { env: 'X' }, role: 'admin' }] }));
});

t.test('endpoint security: None only when listed, with its own policy', async (t) => {
  const def = endpointSecurity({ securityModes: ['SignAndEncrypt', 'Sign'], securityPolicies: ['Basic256Sha256', 'Aes128_Sha256_RsaOaep'] });
  t.same(def.securityModes, [MessageSecurityMode.SignAndEncrypt, MessageSecurityMode.Sign]);
  t.same(def.securityPolicies, [SecurityPolicy.Basic256Sha256, SecurityPolicy.Aes128_Sha256_RsaOaep]);
  const none = endpointSecurity({ securityModes: ['None', 'Sign'], securityPolicies: ['Aes256_Sha256_RsaPss'] });
  t.same(none.securityModes, [MessageSecurityMode.None, MessageSecurityMode.Sign]);
  t.same(none.securityPolicies, [SecurityPolicy.Aes256_Sha256_RsaPss, SecurityPolicy.None]);
});

t.test('users: passwords from secrets, roles, refusals', async (t) => {
  const users = new UserDirectory(
    [
      { username: 'op', password: { env: 'OP_PW' }, role: 'operator' },
      { username: 'eng', password: { credential: 'eng-pw' }, role: 'engineer' },
    ],
    { env: { OP_PW: 's3cret' }, credentialsDirectory: t.testdir({ 'eng-pw': 'other\n' }) },
  );
  t.ok(users.isValidUser('op', 's3cret'));
  t.ok(users.isValidUser('eng', 'other'), 'credential file, trailing newline dropped');
  t.notOk(users.isValidUser('op', 's3cret '));
  t.notOk(users.isValidUser('op', 'other'), "another user's password");
  t.notOk(users.isValidUser('nobody', 's3cret'));
  const ids = (u: string) => users.rolesOf(u).map((r) => Number(r.value));
  t.same(ids('op'), [WellKnownRoles.AuthenticatedUser, WellKnownRoles.Operator]);
  t.same(ids('eng'), [WellKnownRoles.AuthenticatedUser, WellKnownRoles.Operator, WellKnownRoles.Engineer]);
  t.same(ids('x509-someone'), [WellKnownRoles.Anonymous], 'an identity that is no configured user gets the Anonymous role only');
  t.throws(() => new UserDirectory([{ username: 'op', password: { env: 'MISSING' }, role: 'operator' }], { env: {} }), {
    code: 'E_CONFIG_INVALID',
    message: 'opcua.users[0].password: environment variable MISSING is not set',
  });
  t.throws(
    () => new UserDirectory([{ username: 'a', password: { env: 'P' }, role: 'operator' }, { username: 'a', password: { env: 'P' }, role: 'engineer' }], { env: { P: 'x' } }),
    { code: 'E_CONFIG_INVALID', message: /duplicate user "a"/ },
  );
});

t.test('a server nobody could log in to is a configuration error', async (t) => {
  const config = Value.Default(OpcuaConfigSchema, { enabled: true }) as never;
  t.throws(() => new OpcuaServer(config, silentLogger(), new TestControl([{ id: 'c' }]), t.testdir()), { code: 'E_CONFIG_INVALID', message: /no users/ });
  const anon = Value.Default(OpcuaConfigSchema, { enabled: true, allowAnonymous: true, pkiDirectory: 'pki' }) as never;
  const dir = t.testdir();
  t.equal(new OpcuaServer(anon, silentLogger(), new TestControl([{ id: 'c' }]), dir).pkiDirectory, join(dir, 'pki'), 'PKI under the state directory');
});

t.test('result tag quality rule', async (t) => {
  const base = { health: 'streaming' as const, triggerMode: 'on-demand' as const, lastCapturedAt: 1000, now: 60_000, staleAfterMs: 10_000 };
  t.equal(resultQuality({ ...base, lastCapturedAt: null }), 'waiting');
  t.equal(resultQuality({ ...base, health: 'reconnecting', lastCapturedAt: null }), 'no-communication');
  t.equal(resultQuality(base), 'good', 'an on-demand result does not age');
  t.equal(resultQuality({ ...base, triggerMode: 'free-run' }), 'last-usable', 'a free-run result does');
  t.equal(resultQuality({ ...base, triggerMode: 'free-run', lastCapturedAt: 55_000 }), 'good');
  for (const health of ['reconnecting', 'ended', 'stopped'] as const) t.equal(resultQuality({ ...base, health }), 'last-usable', health);
  t.equal(resultQuality({ ...base, health: 'starting' }), 'good');
});

t.test('ResultContent carries the verdict as the judge made it', async (t) => {
  const cam = new TestControl([{ id: 'c' }]).cameras[0];
  cam.makeVerdict();
  const v = cam.makeVerdict(1_700_000_000_000);
  const json = JSON.parse(verdictContent(v));
  t.match(json, { id: v.id, cameraId: 'c', pass: false, score: 0.87, threshold: 0.5, confidence: 0.95, defectCount: 2, totalMs: 4.5 });
  t.same(json.locations.map((l: { grid: string }) => l.grid), ['top left', 'center']);
  t.same(json.locations[0].box, { x: 2, y: 3, width: 10, height: 8 });
  t.equal(json.capturedAt, '2023-11-14T22:13:20.000Z');
  t.same(json.recipe, { id: 'bottle', version: '1' });
});

t.test('PKI store: PEM and DER certificates, thumbprints, moves', async (t) => {
  const pki = t.testdir();
  const rejected = join(pki, 'rejected');
  mkdirSync(rejected, { recursive: true });
  const make = (cn: string, file: string, der: boolean) => {
    const key = join(pki, `${cn}.key`);
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', file, '-days', '30', '-subj', `/CN=${cn}/O=Test`,
      '-addext', `subjectAltName=URI:urn:test:${cn}`], { stdio: 'ignore' });
    if (der) execFileSync('openssl', ['x509', '-in', file, '-outform', 'DER', '-out', file.replace(/\.pem$/, '.der')]);
  };
  make('plc-a', join(rejected, 'plc-a.pem'), false);
  make('plc-b', join(pki, 'plc-b.pem'), true);
  writeFileSync(join(rejected, 'plc-b.der'), readFileSync(join(pki, 'plc-b.der')));
  writeFileSync(join(rejected, 'notes.pem'), 'not a certificate');
  const certs = await listCertificates(pki);
  t.equal(certs.length, 2, 'stray files are skipped');
  const a = certs.find((c) => c.subject.includes('plc-a'))!;
  t.equal(a.store, 'rejected');
  t.equal(a.applicationUri, 'urn:test:plc-a');
  const fp = execFileSync('openssl', ['x509', '-in', join(rejected, 'plc-a.pem'), '-noout', '-fingerprint', '-sha1']).toString();
  t.equal(a.thumbprint, fp.split('=')[1].trim().replaceAll(':', '').toLowerCase(), 'thumbprint = SHA-1 of the DER certificate');
  t.equal(matchThumbprint(certs, a.thumbprint.toUpperCase().match(/../g)!.join(':')), a, 'colons and case ignored');
  const moved = await moveCertificate(pki, a.thumbprint.slice(0, 10), 'trusted');
  t.equal(moved.file, join(pki, 'trusted', 'certs', 'plc-a.pem'));
  t.same((await listCertificates(pki)).map((c) => `${c.store}:${c.subject.includes('plc-a') ? 'a' : 'b'}`), ['rejected:b', 'trusted:a']);
  await t.rejects(moveCertificate(pki, a.thumbprint, 'trusted'), { code: 'E_USAGE', message: /in the rejected store/ });
  t.throws(() => matchThumbprint(certs, '0'.repeat(41)), { code: 'E_USAGE' });
});

t.test('a port already in use fails start() with the reason, and releases what it took', async (t) => {
  const { createServer } = await import('node:net');
  const blocker = createServer();
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  t.teardown(() => blocker.close());
  const port = (blocker.address() as { port: number }).port;
  const control = new TestControl([{ id: 'c' }]);
  const config = Value.Default(OpcuaConfigSchema, { enabled: true, allowAnonymous: true, host: '127.0.0.1', hostname: '127.0.0.1', port, shutdownTimeoutMs: 0 }) as never;
  const server = new OpcuaServer(config, silentLogger(), control, t.testdir());
  await t.rejects(server.start(new AbortController().signal), { message: /EADDRINUSE/ });
  await server.stop();
  t.equal(server.endpointUrl, undefined, 'nothing left running');
});
