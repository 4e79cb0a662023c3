/**
 * The Numbers page in a real browser: yield per hour from the record, the drift watch's
 * histogram of recent passes against the boundary with its state, and the ROC of the last
 * `eval --json` report (produced here by the real eval command into the daemon's state).
 */
import t from 'tap';
import { join } from 'node:path';
import { evalCommand } from '../../src/cli/eval-command.js';
import { launch, noBrowser, openPage, screenshot } from './browser.js';
import { SIM_CAMERA, startConsoleDaemon, daemonTestdir } from '../support/console-daemon.js';
import { silentLogger } from '../support/logger.js';
import { simDataset } from '../support/sim-dataset.js';
import { until } from '../support/wait.js';

const skip = noBrowser();
if (skip) t.plan(0, skip);
else {
  const root = daemonTestdir(t);
  t.test('yield per hour, the drift watch, the ROC of the last eval', async (t) => {
    const d = await startConsoleDaemon(t, root, { cameras: [SIM_CAMERA('cam1', 11, { source: { kind: 'sim', width: 320, height: 240, defectRate: 0.2, seed: 11 }, trigger: { mode: 'free-run', fps: 0 } })] });
    const data = await simDataset(join(root, 'data'));
    t.equal(await evalCommand([data, '--shots', '1', '--draws', '2', '--json', join(d.stateDirectory, 'eval', 'latest.json'), '--threads', '1'], silentLogger()), 0, 'eval wrote the report');
    await until(() => (d.app.pipeline('cam1')?.counters.passed ?? 0) >= 32, 90_000, '32 passes', 100);
    const browser = await launch(t);
    const { page, errors, foreign } = await openPage(browser, d.base);
    await page.goto(`${d.base}/#/numbers`);
    const yieldPanel = page.getByRole('region', { name: 'yield per hour' });
    await yieldPanel.locator('rect.bar-pass').first().waitFor({ timeout: 15_000 });
    const figure = await yieldPanel.locator('.big-figure').first().textContent();
    t.match(figure, /^\d+\.\d %$/, `yield shown: ${figure}`);
    const drift = page.getByRole('region', { name: 'drift watch' });
    await drift.locator('svg.chart rect.bar-score').first().waitFor({ timeout: 15_000 });
    const chip = await drift.locator('.chip').first().textContent();
    t.match(chip, /^(ok|watch|drifting) · \d+ % of the margin left$/, `drift state: ${chip}`);
    t.equal(await drift.locator('line.boundary').count(), 1, 'the boundary line');
    t.equal(await drift.locator('line.ref-median').count(), 1, 'the references\' median');
    const roc = page.getByRole('region', { name: 'last evaluation' });
    await roc.locator('svg.chart path.curve').first().waitFor({ timeout: 15_000 });
    t.equal(await roc.locator('path.curve').count(), 2, 'one ROC curve per draw');
    t.match(await roc.textContent(), /sim-part.*1-shot × 2 draws.*image AUROC \d\.\d{3} ± \d\.\d{3}/);
    await screenshot(page, 'numbers-1280x800', true);
    t.same(foreign, []);
    t.same(errors.filter((e) => /Content Security Policy|uncaught/.test(e)), []);
  });
}
