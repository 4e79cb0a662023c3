/**
 * Security against real client sessions: an unknown client certificate is refused until
 * `anomalygpt-edge opcua trust`, each endpoint (None when configured, Sign, SignAndEncrypt with
 * Basic256Sha256 and the Aes policies) × role (operator, engineer) does what the role allows,
 * and anonymous, wrong passwords, unknown users and X509 user tokens are refused.
 */
import { copyFileSync, existsSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import t from 'tap';
import type { ClientSession } from 'node-opcua';
import type { CliContext } from '../../../src/cli/cli-context.js';
import type { Fixture, Session } from './helpers.js';

const { AttributeIds, DataType, MessageSecurityMode, UserTokenType } = await import('node-opcua');
const { TestControl, capturingLogger, openSession, silentLogger, sleep, startServer, clientCertificate } = await import('./helpers.js');
const { opcuaCommand } = await import('../../../src/cli/opcua-command.js');

const control = new TestControl([{ id: 'cam1' }]);
/** node-opcua's PKI folder watcher notices moved certificates in ≈ 1 s idle, much later on a loaded 2-core machine. */
const WATCH_TRIES = 120;
const log = capturingLogger();
let fx: Fixture;

t.before(async () => {
  fx = await startServer(control, { securityModes: ['None', 'Sign', 'SignAndEncrypt'] }, { logger: log.logger });
});
t.teardown(async () => fx?.server.stop());

function cli(): { ctx: CliContext; out: string[] } {
  const out: string[] = [];
  return { ctx: { logger: silentLogger(), io: { out: (s) => void out.push(s), err: (s) => void out.push(s) } }, out };
}
const pki = () => join(fx.stateDir, 'opcua-pki');
const node = (tag: string) => `ns=${fx.ns};s=cam1.${tag}`;

async function refused(what: Promise<Session>): Promise<string> {
  try {
    const s = await what;
    await s.close();
    return 'accepted';
  } catch (e) {
    return (e as Error).message;
  }
}

t.test('an unknown client certificate is refused until `opcua trust`, and again after `opcua reject`', async (t) => {
  const first = await refused(openSession(fx, { mode: 'Sign', policy: 'Basic256Sha256', user: 'operator' }));
  t.not(first, 'accepted', `refused: ${first.split('\n')[0]}`);

  const list = cli();
  t.equal(await opcuaCommand(['list', '--pki', pki()], list.ctx), 0);
  const line = list.out.join('').split('\n').find((l) => l.startsWith('rejected'));
  t.ok(line, 'the refused certificate is listed as rejected');
  t.match(line, /agpt-opcua-test/, 'with its subject');
  const thumbprint = line!.split(/\s+/)[1];
  t.match(thumbprint, /^[0-9a-f]{40}$/);
  t.ok(log.lines.some((l) => l.level === 40 && l.thumbprint === thumbprint), 'the refusal was logged with the same thumbprint');

  const trust = cli();
  t.equal(await opcuaCommand(['trust', thumbprint.slice(0, 12), '--pki', pki()], trust.ctx), 0, 'a unique prefix will do');
  t.match(trust.out.join(''), /^trusted: [0-9a-f]{40}/);
  const json = cli();
  await opcuaCommand(['list', '--json', '--pki', pki()], json.ctx);
  t.same(json.out.map((l) => JSON.parse(l).store), ['trusted']);

  // The running server's folder watcher picks the file up: no restart.
  let outcome = '';
  for (let i = 0; i < WATCH_TRIES && outcome !== 'accepted'; i++) {
    outcome = await refused(openSession(fx, { mode: 'Sign', policy: 'Basic256Sha256', user: 'operator' }));
    if (outcome !== 'accepted') await sleep(250);
  }
  t.equal(outcome, 'accepted', 'accepted after trust');

  const reject = cli();
  t.equal(await opcuaCommand(['reject', thumbprint, '--pki', pki()], reject.ctx), 0);
  for (let i = 0; i < WATCH_TRIES && outcome === 'accepted'; i++) {
    outcome = await refused(openSession(fx, { mode: 'SignAndEncrypt', policy: 'Basic256Sha256', user: 'operator' }));
    if (outcome === 'accepted') await sleep(250);
  }
  t.not(outcome, 'accepted', 'refused again after reject');
  t.equal(await opcuaCommand(['trust', thumbprint, '--pki', pki()], cli().ctx), 0);
  for (let i = 0; i < WATCH_TRIES && outcome !== 'accepted'; i++) {
    outcome = await refused(openSession(fx, { mode: 'Sign', policy: 'Basic256Sha256', user: 'operator' }));
    if (outcome !== 'accepted') await sleep(250);
  }
  t.equal(outcome, 'accepted');

  // The state a client arriving between `opcua trust` and the server's folder event leaves
  // behind: the server's own rejected copy beside the trusted file (node-opcua reads the
  // rejected store first). The trusted file wins; the copy is removed.
  const trustedFile = (await listed()).find((c) => c.store === 'trusted')!.file;
  const copy = join(pki(), 'rejected', basename(trustedFile));
  copyFileSync(trustedFile, copy);
  await sleep(1100); // past the one-reload-a-second bound
  outcome = '';
  for (let i = 0; i < WATCH_TRIES && outcome !== 'accepted'; i++) {
    outcome = await refused(openSession(fx, { mode: 'Sign', policy: 'Basic256Sha256', user: 'operator' }));
    if (outcome !== 'accepted') await sleep(250);
  }
  t.equal(outcome, 'accepted', 'a rejected copy of a trusted certificate does not refuse it');
  t.notOk(existsSync(copy), 'the rejected copy is removed');
  t.same((await listed()).map((c) => c.store), ['trusted']);
});

async function listed(): Promise<{ store: string; file: string }[]> {
  const json = cli();
  await opcuaCommand(['list', '--json', '--pki', pki()], json.ctx);
  return json.out.map((l) => JSON.parse(l) as { store: string; file: string });
}

t.test('opcua command: usage errors', async (t) => {
  await t.rejects(opcuaCommand(['trust', '--pki', pki()], cli().ctx), { code: 'E_USAGE', message: /needs a THUMBPRINT/ });
  await t.rejects(opcuaCommand(['trust', 'xyz', '--pki', pki()], cli().ctx), { code: 'E_USAGE', message: /not a thumbprint/ });
  await t.rejects(opcuaCommand(['trust', 'abcdef0123', '--pki', pki()], cli().ctx), { code: 'E_USAGE', message: /no certificate .* in the rejected store/ });
  await t.rejects(opcuaCommand(['frobnicate'], cli().ctx), { code: 'E_USAGE', message: /unknown action/ });
  const help = cli();
  t.equal(await opcuaCommand(['--help'], help.ctx), 0);
  t.match(help.out.join(''), /opcua <list\|trust\|reject>/);
});

const COMBOS = [
  ['None', 'Basic256Sha256'],
  ['Sign', 'Basic256Sha256'],
  ['SignAndEncrypt', 'Basic256Sha256'],
  ['Sign', 'Aes128_Sha256_RsaOaep'],
  ['SignAndEncrypt', 'Aes128_Sha256_RsaOaep'],
  ['SignAndEncrypt', 'Aes256_Sha256_RsaPss'],
] as const;

const write = (s: ClientSession, tag: string, dataType: number, value: unknown) =>
  s.write({ nodeId: node(tag), attributeId: AttributeIds.Value, value: { value: { dataType, value } } });
const selectRecipe = (s: ClientSession, id: string) =>
  s.call({ objectId: `ns=${fx.ns};s=cam1`, methodId: node('SelectRecipe'), inputArguments: [{ dataType: DataType.String, value: id }] });

for (const [mode, policy] of COMBOS) {
  const label = mode === 'None' ? 'None' : `${mode} ${policy}`;
  t.test(`${label}: operator reads, triggers and acks; recipes are refused`, async (t) => {
    const s = await openSession(fx, { mode, policy, user: 'operator' });
    t.teardown(() => s.close());
    t.equal(s.session.endpoint.securityMode, MessageSecurityMode[mode]);
    t.equal((await s.session.read({ nodeId: node('CameraState'), attributeId: AttributeIds.Value })).value.value, 'streaming');
    t.equal((await write(s.session, 'Trigger', DataType.Boolean, true)).name, 'Good');
    t.equal((await write(s.session, 'Trigger', DataType.Boolean, false)).name, 'Good');
    t.equal((await write(s.session, 'Ack', DataType.Boolean, true)).name, 'Good');
    t.equal((await write(s.session, 'RecipeId', DataType.String, 'cable')).name, 'BadUserAccessDenied');
    t.equal((await selectRecipe(s.session, 'cable')).statusCode.name, 'BadUserAccessDenied');
    const inspect = await s.session.call({ objectId: `ns=${fx.ns};s=cam1`, methodId: node('Inspect'), inputArguments: [] });
    t.equal(inspect.statusCode.name, 'Good', 'operators may call Inspect()');
    t.equal(control.camera('cam1')!.recipe.id, 'bottle');
  });
  if (mode === 'None' || policy !== 'Basic256Sha256') {
    t.test(`${label}: engineer may switch recipes`, async (t) => {
      const s = await openSession(fx, { mode, policy, user: 'engineer' });
      t.teardown(() => s.close());
      t.equal((await write(s.session, 'RecipeId', DataType.String, 'cable')).name, 'Good');
      t.equal((await selectRecipe(s.session, 'nope')).statusCode.name, 'BadNotFound');
      t.equal((await selectRecipe(s.session, 'bottle')).statusCode.name, 'Good');
      t.equal(control.camera('cam1')!.recipe.id, 'bottle');
    });
  }
}

t.test('anonymous, wrong passwords, unknown users and X509 user tokens are refused', async (t) => {
  const probe = await openSession(fx, { mode: 'None', user: 'operator' });
  const endpoints = await probe.client.getEndpoints();
  await probe.close();
  t.ok(endpoints.some((e) => e.securityMode === MessageSecurityMode.None), 'None is offered: it is configured');
  t.notOk(endpoints.some((e) => (e.userIdentityTokens ?? []).some((u) => u.tokenType === UserTokenType.Anonymous)), 'no anonymous token policy');
  t.not(await refused(openSession(fx, { mode: 'None', user: { type: UserTokenType.Anonymous } })), 'accepted', 'anonymous over None');
  t.not(await refused(openSession(fx, { mode: 'Sign', user: { type: UserTokenType.Anonymous } })), 'accepted', 'anonymous over Sign');
  t.not(await refused(openSession(fx, { mode: 'Sign', user: { type: UserTokenType.UserName, userName: 'op', password: 'guess' } })), 'accepted', 'wrong password');
  t.not(await refused(openSession(fx, { mode: 'SignAndEncrypt', user: { type: UserTokenType.UserName, userName: 'root', password: 'op-secret' } })), 'accepted', 'unknown user');
  const certFile = await clientCertificate(fx.clientPki);
  const certificateData = Buffer.from(readFileSync(certFile, 'utf8').replace(/-----[A-Z ]+-----|\s/g, ''), 'base64');
  const privateKey = readFileSync(join(fx.clientPki, 'own', 'private', 'private_key.pem'), 'utf8');
  const x509 = await refused(openSession(fx, { mode: 'SignAndEncrypt', user: { type: UserTokenType.Certificate, certificateData, privateKey } as never }));
  t.not(x509, 'accepted', `an application certificate does not double as a login (${x509.split('\n')[0]})`);
});
