/**
 * The recipe from the page (issue 10 items 4 and 5). Teaching: a simulated false reject marked
 * "good part" on its inspection page gives the camera's recipe a new version at once and the
 * same frame passes when judged again; a second browser marking the same frame is told it was
 * first-come (409 E_REVIEW_CONFLICT); undo goes back. The Recipes page shows the references
 * and versions (screenshot kept), refuses a non-image upload with its reason and makes a
 * recipe from an uploaded image.
 *
 * Switching a camera's recipe from the page (engineer; on loopback the local user is one):
 * the Status view's form → PUT /api/cameras/{id}/recipe → CameraControl.selectRecipe, the path
 * OPC UA SelectRecipe and MQTT cmd/recipe take. The live view follows; a recipe that does not
 * exist is refused with its reason on the page and the old one stays.
 */
import t from 'tap';
import { launch, noBrowser, openPage, screenshot } from './browser.js';
import { copyRecipe, SIM_CAMERA, startConsoleDaemon, type ConsoleDaemon, daemonTestdir } from '../support/console-daemon.js';
import { until } from '../support/wait.js';

const skip = noBrowser();
if (skip) t.plan(0, skip);
else {
  const root = daemonTestdir(t);
  let d: ConsoleDaemon;
  t.before(async () => {
    d = await startConsoleDaemon(t, root, { cameras: [SIM_CAMERA('cam1', 11, { trigger: { mode: 'free-run', fps: 2 } }), SIM_CAMERA('cam2', 11, { trigger: { mode: 'free-run', fps: 1 } })] });
  });
  t.test('switch recipe from the page; a missing recipe is refused and nothing changes', async (t) => {
    copyRecipe(d.stateDirectory, 'sim-part', 'sim-part-b');
    const browser = await launch(t);
    const { page, errors, foreign } = await openPage(browser, d.base);
    await page.goto(`${d.base}/#/status`);
    const form = page.getByRole('form', { name: 'switch recipe' });
    await form.waitFor();
    await form.getByLabel('Camera').selectOption('cam2');

    await form.getByLabel('Recipe').fill('no-such-recipe');
    await form.getByRole('button', { name: 'Switch recipe' }).click();
    await page.getByText(/Recipe not switched on cam2: .*E_RECIPE_NOT_FOUND/).waitFor();
    t.equal(d.app.control.camera('cam2')!.snapshot().recipe.id, 'sim-part', 'refused: the old recipe stays');

    await form.getByLabel('Recipe').fill('sim-part-b');
    await form.getByRole('button', { name: 'Switch recipe' }).click();
    await page.getByText('Camera cam2 now inspects with recipe sim-part-b').waitFor();
    t.equal(d.app.control.camera('cam2')!.snapshot().recipe.id, 'sim-part-b', 'the daemon switched');
    await page.locator('tr[data-camera="cam2"]').filter({ hasText: 'sim-part-b' }).waitFor({ timeout: 5000 });
    t.equal(d.app.control.camera('cam1')!.snapshot().recipe.id, 'sim-part', 'the other camera is untouched');
    await screenshot(page, 'status-1280x800', true);

    // The live view shows the new recipe on cam2's card, and its verdicts carry it.
    await page.goto(`${d.base}/#/live`);
    await page.locator('section.cam[data-camera="cam2"] .cam-head').filter({ hasText: 'sim-part-b' }).waitFor({ timeout: 10_000 });
    const t0 = Date.now();
    await until(async () => {
      const p = (await (await fetch(`${d.base}/api/inspections?camera=cam2&limit=1`)).json()) as { items: { capturedAt: number; recipe: { id: string } }[] };
      return p.items[0]?.capturedAt > t0 && p.items[0].recipe.id === 'sim-part-b';
    }, 15_000, 'a cam2 verdict with sim-part-b', 200);
    t.pass('new verdicts are made with the new recipe');
    t.same(foreign, []);
    t.same(errors.filter((e) => /Content Security Policy|uncaught/.test(e)), []);
  });

  t.test('teach: a false reject marked good changes the recipe version and the frame passes; a second browser gets 409; undo; the Recipes page', async (t) => {
    await until(async () => ((await (await fetch(`${d.base}/api/inspections?camera=cam1&pass=false&recipe=sim-part&limit=1`)).json()) as { items: unknown[] }).items.length > 0, 30_000, 'a fail on cam1', 200);
    const fail = ((await (await fetch(`${d.base}/api/inspections?camera=cam1&pass=false&recipe=sim-part&limit=1`)).json()) as { items: { id: string }[] }).items[0];
    const v0 = d.app.control.camera('cam1')!.snapshot().recipe.version;
    const browser = await launch(t);
    const a = await openPage(browser, d.base);
    const b = await openPage(browser, d.base);
    for (const p of [a.page, b.page]) await p.goto(`${d.base}/#/inspection/${encodeURIComponent(fail.id)}`);
    const markA = a.page.getByRole('button', { name: 'Good part — false reject' });
    const markB = b.page.getByRole('button', { name: 'Good part — false reject' });
    await markA.waitFor();
    await markB.waitFor();

    const t0 = Date.now();
    await markA.click();
    const done = a.page.getByText(/Recipe sim-part is now version \w+ \(was \w+\)\. This frame judged again: PASS/);
    await done.waitFor({ timeout: 15_000 });
    t.comment(`click → new version shown on the page: ${Date.now() - t0} ms`);
    const v1 = d.app.control.camera('cam1')!.snapshot().recipe.version;
    t.not(v1, v0, 'the camera inspects with a new recipe version');
    t.match(await done.textContent(), new RegExp(`version ${v1.slice(0, 8)} \\(was ${v0.slice(0, 8)}\\)`), 'the page names the versions');

    // The second browser had the page open before the first one marked it.
    await markB.click();
    await b.page.getByText(/Not marked: .*already marked good by local.*E_REVIEW_CONFLICT/).waitFor();
    t.equal(d.app.control.camera('cam1')!.snapshot().recipe.version, v1, 'the second mark changed nothing');

    await a.page.getByRole('button', { name: 'Undo' }).click();
    await a.page.getByText(`Undone: recipe sim-part is back to version ${v0.slice(0, 8)}.`).waitFor();
    t.equal(d.app.control.camera('cam1')!.snapshot().recipe.version, v0, 'undo restored the version');

    // The Recipes page: the list, one recipe's references and kept versions.
    await a.page.goto(`${d.base}/#/recipes/sim-part`);
    await a.page.locator('tr[data-recipe="sim-part"]').filter({ hasText: 'cam1' }).waitFor();
    await a.page.getByText(`${v1.slice(0, 8)} ·`).first().waitFor();
    const thumbs = a.page.locator('figure.thumb img');
    await until(async () => (await thumbs.count()) >= 8 && (await thumbs.evaluateAll((imgs) => imgs.every((i) => (i as HTMLImageElement).complete && (i as HTMLImageElement).naturalWidth > 0))), 10_000, 'the reference images loaded', 100);
    t.ok((await thumbs.count()) >= 8, `${await thumbs.count()} reference images shown`);
    await screenshot(a.page, 'recipes-1280x800', true);

    // Relearn the boundary from the line's passes (their frames are kept: saveFrames all).
    const before = d.app.control.camera('cam1')!.snapshot().recipe.version;
    await a.page.getByRole('button', { name: 'Relearn the boundary from the last 20 passes' }).click();
    await a.page.getByText(/Boundary relearnt from \d+ passes: .* → .* \(version [0-9a-f]{8}\)\./).waitFor({ timeout: 20_000 });
    await until(() => d.app.control.camera('cam1')!.snapshot().recipe.version !== before, 5000, 'the camera inspects with the relearnt version', 50);
    t.pass('the boundary was relearnt from the page and the camera uses the new version');

    // Uploads: a text file is refused with its reason; a good image makes a recipe.
    const form = a.page.getByRole('form', { name: 'new recipe' });
    await form.getByLabel('Recipe id').fill('from-page');
    await form.getByLabel('Good images').setInputFiles({ name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('this is not an image') });
    await form.getByRole('button', { name: 'Create recipe' }).click();
    await a.page.getByText(/Recipe not made: .*not an image.*E_UNSUPPORTED_MEDIA_TYPE/).waitFor({ timeout: 5000 }).catch(async (e) => {
      t.comment(await a.page.locator('p.notice').allTextContents());
      throw e;
    });
    const jpeg = Buffer.from(await (await fetch(`${d.base}/api/inspections/${encodeURIComponent(fail.id)}/frame.jpg`)).arrayBuffer());
    await form.getByLabel('Good images').setInputFiles({ name: 'good.jpg', mimeType: 'image/jpeg', buffer: jpeg });
    await form.getByRole('button', { name: 'Create recipe' }).click();
    await a.page.locator('tr[data-recipe="from-page"]').waitFor({ timeout: 20_000 });
    await a.page.getByRole('region', { name: 'recipe from-page' }).waitFor();
    t.pass('a recipe made from an uploaded image is listed and shown');
    for (const p of [a, b]) {
      t.same(p.foreign, []);
      t.same(p.errors.filter((e) => /Content Security Policy|uncaught/.test(e)), []);
    }
  });
}
