/**
 * Switching a camera's recipe from the page (engineer; on loopback the local user is one):
 * the Status view's form → PUT /api/cameras/{id}/recipe → CameraControl.selectRecipe, the path
 * OPC UA SelectRecipe and MQTT cmd/recipe take. The live view follows; a recipe that does not
 * exist is refused with its reason on the page and the old one stays.
 */
import t from 'tap';
import { launch, noBrowser, openPage, screenshot } from './browser.js';
import { copyRecipe, SIM_CAMERA, startConsoleDaemon } from '../support/console-daemon.js';
import { until } from '../support/wait.js';

const skip = noBrowser();
if (skip) t.plan(0, skip);
else {
  const root = t.testdir({});
  t.test('switch recipe from the page; a missing recipe is refused and nothing changes', async (t) => {
    const d = await startConsoleDaemon(t, root, { cameras: [SIM_CAMERA('cam1', 11, { trigger: { mode: 'free-run', fps: 2 } }), SIM_CAMERA('cam2', 11, { trigger: { mode: 'free-run', fps: 1 } })] });
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
}
