import t from 'tap';
import { join } from 'node:path';
import { isAppError, type AppError } from '../../src/errors.js';
import { checkSecrets, findSecretRefs, loadConfig, resolveSecret, validateConfig } from '../../src/config/index.js';

function urlCamera(password: unknown) {
  return {
    inference: { bundle: '/b' },
    cameras: [
      { id: 'c0', recipe: 'r', source: { kind: 'sim' } },
      { id: 'c1', recipe: 'r', source: { kind: 'url', url: 'rtsp://10.0.0.9/s', username: 'op', password } },
    ],
  };
}

t.test('resolveSecret from the environment', async (t) => {
  t.equal(resolveSecret({ env: 'CAM_PW' }, 'k', { env: { CAM_PW: 'pa:ss' } }), 'pa:ss');
  t.throws(() => resolveSecret({ env: 'CAM_PW' }, 'cameras[1].source.password', { env: {} }), {
    code: 'E_CONFIG_INVALID',
    message: 'cameras[1].source.password: environment variable CAM_PW is not set',
  });
  t.throws(() => resolveSecret({ env: 'CAM_PW' }, 'k', { env: { CAM_PW: '' } }), { message: /CAM_PW is empty/ });
});

t.test('resolveSecret from systemd credentials', async (t) => {
  const dir = t.testdir({ 'cam-pw': 'from-file\n', crlf: 'x\r\n', keep: 'two\n\n', empty: '' });
  const opts = { env: {}, credentialsDirectory: dir };
  t.equal(resolveSecret({ credential: 'cam-pw' }, 'k', opts), 'from-file', 'one trailing newline dropped');
  t.equal(resolveSecret({ credential: 'crlf' }, 'k', opts), 'x');
  t.equal(resolveSecret({ credential: 'keep' }, 'k', opts), 'two\n', 'only one newline dropped');
  t.equal(resolveSecret({ credential: 'cam-pw' }, 'k', { env: { CREDENTIALS_DIRECTORY: dir } }), 'from-file', '$CREDENTIALS_DIRECTORY is the default');
  t.throws(() => resolveSecret({ credential: 'empty' }, 'k', opts), { message: /credential empty is empty/ });
  t.throws(() => resolveSecret({ credential: 'nope' }, 'a.b', opts), { code: 'E_CONFIG_INVALID', message: /^a\.b: credential nope cannot be read .*ENOENT/ });
  t.throws(() => resolveSecret({ credential: 'cam-pw' }, 'a.b', { env: {} }), { message: /^a\.b: credential cam-pw needs \$CREDENTIALS_DIRECTORY/ });
});

t.test('findSecretRefs and checkSecrets name the key path', async (t) => {
  const cfg = validateConfig(urlCamera({ env: 'LINE_PW' }), 'x', { env: { LINE_PW: 'pw' } });
  t.same(findSecretRefs(cfg), [{ path: 'cameras[1].source.password', ref: { env: 'LINE_PW' } }]);
  t.same(checkSecrets(cfg, { env: {} }), [{ path: 'cameras[1].source.password', message: 'environment variable LINE_PW is not set' }]);
  t.same(checkSecrets(cfg, { env: { LINE_PW: 'x' } }), []);
});

t.test('a missing secret is a config error at load; checkSecrets: false skips it', async (t) => {
  try {
    validateConfig(urlCamera({ credential: 'line-pw' }), 'plant.yaml', { env: {} });
    t.fail('should throw');
  } catch (e) {
    t.ok(isAppError(e, 'E_CONFIG_INVALID'));
    t.match((e as AppError).message, /cameras\[1\]\.source\.password: credential line-pw needs \$CREDENTIALS_DIRECTORY/);
  }
  const c = validateConfig(urlCamera({ credential: 'line-pw' }), 'x', { env: {}, checkSecrets: false });
  t.same(c.cameras[1].source, { kind: 'url', url: 'rtsp://10.0.0.9/s', username: 'op', password: { credential: 'line-pw' } },
    'the config keeps the reference, never the value');

  const dir = t.testdir({
    'c.yaml': 'inference: { bundle: b }\ncameras:\n  - { id: a, recipe: r, source: { kind: url, url: "rtsp://h/s", password: { env: PW } } }\n',
    creds: { pw: 'v' },
  });
  t.throws(() => loadConfig(join(dir, 'c.yaml'), { env: {} }), { code: 'E_CONFIG_INVALID', message: /cameras\[0\]\.source\.password: environment variable PW is not set/ });
  t.equal(loadConfig(join(dir, 'c.yaml'), { env: { PW: 'v' } }).cameras[0].id, 'a');
});

t.test('literal secrets and malformed references are rejected', async (t) => {
  for (const bad of ['hunter2', 42]) {
    try {
      validateConfig(urlCamera(bad), 'x', { env: {} });
      t.fail('should throw');
    } catch (e) {
      const issues = ((e as AppError).details as { issues: Array<{ path: string; message: string }> }).issues;
      t.equal(issues.length, 1);
      t.equal(issues[0].path, 'cameras[1].source.password');
      t.match(issues[0].message, typeof bad === 'string' ? /must not be a literal secret/ : /must be \{ env: NAME \} or \{ credential: NAME \}/);
    }
  }
  t.throws(() => validateConfig(urlCamera({ env: 'PW', credential: 'x' }), 'x', { env: { PW: 'a' } }), { code: 'E_CONFIG_INVALID' });
  t.throws(() => validateConfig(urlCamera({ env: '1BAD' }), 'x', { env: {} }), { message: /password\.env: must be an environment variable name/ });
});
