/**
 * The page beyond loopback in a real browser: the daemon bound to this machine's own
 * non-loopback address (or 0.0.0.0 reached through 127.0.0.1 when there is none; the policy
 * follows the bound host either way), sign-in with the OPC UA users. Checked: the API refuses
 * a browser without a session; the page asks to sign in; roles hold; a state change without the
 * CSRF token fails; a page of another origin can neither sign in nor ride the session (its form
 * post is refused, its cross-site requests carry no cookie).
 */
import t from 'tap';
import { createServer } from 'node:http';
import { networkInterfaces } from 'node:os';
import { launch, noBrowser, openPage, screenshot } from './browser.js';
import { SIM_CAMERA, startConsoleDaemon, daemonTestdir } from '../support/console-daemon.js';

function ownAddress(): string | undefined {
  for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  return undefined;
}

const skip = noBrowser();
if (skip) t.plan(0, skip);
else {
  const root = daemonTestdir(t);
  t.test('sign-in beyond loopback; unauthenticated and cross-site requests refused; CSRF token required', async (t) => {
    const own = ownAddress();
    t.comment(own ? `daemon bound to ${own}` : 'no non-loopback address here: bound 0.0.0.0, reached through 127.0.0.1');
    const env = { OP_PW: 'op-secret', ENG_PW: 'eng-secret' };
    const d = await startConsoleDaemon(t, root, {
      cameras: [SIM_CAMERA('cam1', 11, { trigger: { mode: 'free-run', fps: 1 } })],
      http: { host: own ?? '0.0.0.0' },
      opcua: { enabled: false, users: [{ username: 'op', password: { env: 'OP_PW' }, role: 'operator' }, { username: 'eng', password: { env: 'ENG_PW' }, role: 'engineer' }] },
      env,
    });
    const base = d.base;
    t.ok(!/127\.0\.0\.1/.test(base) || !own, `reached at ${base}`);

    // Without a browser: the API refuses, the page shell and /healthz do not.
    t.equal((await fetch(`${base}/api/cameras`)).status, 401, 'GET /api/cameras without a session → 401');
    t.equal((await fetch(`${base}/status`)).status, 401, 'GET /status → 401');
    t.equal((await fetch(`${base}/api/cameras/cam1/recipe`, { method: 'PUT', body: '{"recipe":"x"}', headers: { 'content-type': 'application/json' } })).status, 401);
    t.equal((await fetch(`${base}/healthz`)).status, 200);
    t.equal((await fetch(`${base}/`)).status, 200, 'the page itself loads (to show the sign-in form)');

    const browser = await launch(t);
    const { page, context, errors, foreign } = await openPage(browser, base);
    await page.goto(`${base}/#/live`);
    await page.waitForURL(/#\/signin$/);
    const status = await page.evaluate(async () => (await fetch('/api/cameras')).status);
    t.equal(status, 401, 'the browser without a session gets 401 from the API');
    await screenshot(page, 'signin-1280x800');
    await page.getByLabel('User').fill('op');
    await page.getByLabel('Password').fill('wrong');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('Unknown user or wrong password.').waitFor();
    await page.getByLabel('User').fill('op');
    await page.getByLabel('Password').fill('op-secret');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(/#\/live$/);
    await page.locator('section.cam canvas').waitFor({ timeout: 20_000 });
    t.equal(await page.locator('#who').textContent(), 'op · operator');
    const cookies = await context.cookies();
    t.match(cookies.find((c) => c.name === 'agpt_session'), { httpOnly: true, sameSite: 'Strict', secure: false }, 'HttpOnly, SameSite=Strict (no TLS here, so not Secure)');

    // Roles and CSRF from the console's own origin.
    const tried = await page.evaluate(async () => {
      const s = await (await fetch('/api/session')).json();
      const put = (headers: Record<string, string>) =>
        fetch('/api/cameras/cam1/recipe', { method: 'PUT', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ recipe: 'sim-part' }) }).then(async (r) => ({ status: r.status, code: (await r.json()).error?.code }));
      return { noToken: await put({}), operator: await put({ 'x-csrf-token': s.csrfToken }) };
    });
    t.same(tried.noToken, { status: 403, code: 'E_FORBIDDEN' }, 'a state change without X-CSRF-Token fails');
    t.same(tried.operator, { status: 403, code: 'E_FORBIDDEN' }, 'an operator may not switch recipes');
    await page.goto(`${base}/#/status`);
    await page.locator('tr[data-camera="cam1"]').waitFor();
    t.equal(await page.getByRole('form', { name: 'switch recipe' }).isVisible(), false, 'the recipe switch is not offered to an operator');

    // Another origin (another site: a page on 127.0.0.2) tries to use the signed-in browser.
    const evil = createServer((req, res) => {
      res.setHeader('content-type', 'text/html');
      res.end(`<!doctype html><body>
        <form id="f" method="POST" action="${base}/api/session" enctype="text/plain"><input name='{"username":"eng","password":"eng-secret","x":"' value='"}'></form>
        <script>
          fetch('${base}/api/cameras', { credentials: 'include', mode: 'no-cors' }).catch(() => undefined).finally(() => document.getElementById('f').submit());
        </script></body>`);
    });
    await new Promise<void>((resolve) => evil.listen(0, '127.0.0.2', resolve));
    t.teardown(() => evil.close());
    const evilUrl = `http://127.0.0.2:${(evil.address() as { port: number }).port}/`;
    const statuses: Record<string, number> = {};
    const sent: Record<string, Promise<Record<string, string>>> = {};
    page.on('request', (r) => {
      if (r.url().startsWith(base)) sent[`${r.method()} ${new URL(r.url()).pathname}`] = r.allHeaders();
    });
    page.on('response', (r) => {
      if (r.url().startsWith(base)) statuses[`${r.request().method()} ${new URL(r.url()).pathname}`] = r.status();
    });
    const errorsBefore = errors.length;
    await page.goto(evilUrl);
    await page.waitForURL(`${base}/api/session`);
    const body = JSON.parse((await page.locator('body').textContent()) ?? '{}');
    t.equal(body.error?.code, 'E_FORBIDDEN', 'the cross-origin form post (login CSRF) is refused');
    t.match(body.error?.message, /cross-origin POST refused/);
    const riding = await sent['GET /api/cameras'];
    t.ok(riding, 'the attacker page did send its cross-site request');
    t.notOk(riding?.cookie, 'but without the session cookie (SameSite=Strict): the daemon sees no session');
    t.equal(statuses['POST /api/session'], 403);
    // Whatever the attacker page logged is its own business, not the console's.
    errors.splice(errorsBefore);
    // The session is still the operator's: nothing was changed by the attack.
    await page.goto(`${base}/#/live`);
    await page.locator('section.cam').waitFor();
    t.equal(await page.locator('#who').textContent(), 'op · operator');
    t.same(foreign, [evilUrl], 'only the test\'s attacker page came from elsewhere');
    t.same(errors.filter((e) => /Content Security Policy|uncaught/.test(e)), []);
  });
}
