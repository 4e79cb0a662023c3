/**
 * History and one inspection in a real browser: a record holding 12 000 inspections (written
 * before the daemon starts, as after weeks on a line) is paged and filtered without loading it
 * all; an inspection recorded by the running daemon opens with its frame, overlay, figures,
 * record JSON and downloads.
 */
import t from 'tap';
import { join } from 'node:path';
import { InspectionRecord } from '../../src/archive/inspection-record.js';
import { validateConfig } from '../../src/config/index.js';
import type { Verdict } from '../../src/judge/verdict.js';
import { launch, noBrowser, openPage, screenshot } from './browser.js';
import { SIM_CAMERA, startConsoleDaemon, daemonTestdir } from '../support/console-daemon.js';
import { silentLogger } from '../support/logger.js';
import { until } from '../support/wait.js';

const OLD = 12_000;

/** An old inspection of camera `old` (figures only: its frame was not saved). */
function oldVerdict(i: number, start: number): Verdict {
  const pass = i % 5 !== 0;
  const capturedAt = start + i * 60_000;
  return {
    id: `old-${capturedAt}-${i}`, cameraId: 'old', seq: i, capturedAt, decidedAt: capturedAt + 40, pass,
    confidence: 0.9, score: pass ? 0.05 : 0.2, threshold: 0.1,
    locations: pass ? [] : [{ box: { x: 10, y: 10, width: 20, height: 20 }, centroid: { x: 20, y: 20 }, grid: 'top left', area: 400, peak: 0.2 }],
    recipe: { id: 'sim-part', version: 'old' }, model: { id: 'm', version: '1' },
    timings: { preprocessMs: 1, encoderMs: 10, mapMs: 5, judgeMs: 1, totalMs: 17 },
    frame: { width: 320, height: 240, origin: 'test' },
  };
}

const skip = noBrowser();
if (skip) t.plan(0, skip);
else {
  const root = daemonTestdir(t);
  t.test(`history over ${OLD} + live inspections; an inspection with overlay, record and downloads`, async (t) => {
    // Weeks of history first, in the record the daemon will open.
    const pre = validateConfig({ stateDirectory: join(root, 'state'), inference: { bundle: '.' }, cameras: [SIM_CAMERA('cam1', 11)], archive: { maxRecords: 50_000, fsync: false } }, 'test', { baseDir: root, env: {} });
    const record = new InspectionRecord(pre.archive, silentLogger());
    await record.start();
    const start = Date.now() - (OLD + 10) * 60_000;
    const writes: Promise<number>[] = [];
    for (let i = 1; i <= OLD; i++) writes.push(record.append(oldVerdict(i, start)));
    await Promise.all(writes);
    await record.stop();

    const d = await startConsoleDaemon(t, root, { archive: { maxRecords: 50_000 } });
    await until(() => (d.app.pipeline('cam1')?.counters.failed ?? 0) >= 1, 30_000, 'a live fail', 50);
    const browser = await launch(t);
    const { page, errors, foreign } = await openPage(browser, d.base);
    await page.goto(`${d.base}/#/history`);
    const count = page.locator('.pager .count');
    await count.filter({ hasText: /of 12,0\d\d inspections/ }).waitFor({ timeout: 20_000 });
    const total = Number((await count.textContent())!.match(/of ([\d,]+)/)![1].replace(/,/g, ''));
    t.ok(total > OLD, `${total} inspections in the record`);
    t.equal(await page.locator('table.data tbody tr').count(), 50, 'one page of 50 rows');

    // Page back through the old ones: each page is older than the last.
    const firstTime = async () => page.locator('table.data tbody tr td').first().textContent();
    const seen = new Set<string>();
    for (let i = 0; i < 5; i++) {
      seen.add((await firstTime())!);
      await page.getByRole('button', { name: 'Older ▶' }).click();
      await count.filter({ hasText: new RegExp(`^${(i + 1) * 50 + 1}–`) }).waitFor();
    }
    t.equal(seen.size, 5, 'five different pages');
    await page.getByRole('button', { name: '◀ Newer' }).click();
    await count.filter({ hasText: /^201–250/ }).waitFor();
    t.pass('and back one page');

    // Filters: FAIL only, recipe sim-part → every 5th old inspection and the live fails.
    await page.getByLabel('Result').selectOption('false');
    await page.getByLabel('Recipe').fill('sim-part');
    await page.getByLabel('Recipe').press('Enter');
    await count.filter({ hasText: /^1–50 of / }).waitFor();
    const fails = Number((await count.textContent())!.match(/of ([\d,]+)/)![1].replace(/,/g, ''));
    t.ok(fails >= OLD / 5 && fails < total, `FAIL only: ${fails} of ${total}`);
    const badges = await page.locator('table.data tbody .badge').allTextContents();
    t.ok(badges.length === 50 && badges.every((b) => b === 'FAIL'), 'only fails listed');
    await screenshot(page, 'history-1280x800');

    // Open the newest live fail: frame, overlay, figures, record JSON, downloads.
    await page.getByLabel('Recipe').fill('');
    await page.getByLabel('Camera').selectOption('cam1');
    await count.filter({ hasText: /^1–\d+ of \d+ inspections/ }).waitFor();
    await page.locator('table.data tbody tr').first().click();
    await page.waitForURL(/#\/inspection\/cam1-/);
    await page.locator('.inspection canvas').waitFor({ timeout: 15_000 });
    await page.waitForFunction(() => (document.querySelector('.inspection canvas') as HTMLCanvasElement).width === 320);
    const facts = await page.locator('dl.kv').textContent();
    t.match(facts, /score \/ boundary.*of the boundary/);
    t.match(facts, /where.*box \d+×\d+ at/);
    t.equal(await page.locator('.verdict-banner').textContent(), 'FAIL');
    const downloads = await page.locator('.downloads a').allTextContents();
    t.same(downloads, ['Frame (JPEG)', 'Anomaly map (PNG)', 'Mask (PNG)', 'Record (JSON)']);
    const [dl] = await Promise.all([page.waitForEvent('download'), page.getByText('Record (JSON)').click()]);
    t.match(dl.suggestedFilename(), /^cam1-.*\.json$/, 'the record downloads');
    await page.locator('details summary').click();
    t.match(await page.locator('pre.json').textContent(), /"cameraId": "cam1"/);
    // The overlay is drawn over the frame: heat on vs off changes the pixels.
    const sum = () => page.$eval('.inspection canvas', (c) => {
      const cv = c as HTMLCanvasElement;
      const px = cv.getContext('2d')!.getImageData(0, 0, cv.width, cv.height).data;
      let s = 0;
      for (let i = 0; i < px.length; i += 4) s += px[i] - px[i + 2];
      return s;
    });
    const withHeat = await sum();
    await page.getByLabel('heat map').uncheck();
    await page.getByLabel('mask').uncheck();
    const without = await sum();
    t.ok(withHeat > without, `the heat and mask layers redden the frame (${withHeat} > ${without})`);
    await page.getByLabel('heat map').check();
    await page.getByLabel('mask').check();
    await screenshot(page, 'inspection-1280x800', true);

    // An old inspection without a saved frame says so; an unknown one too.
    await page.goto(`${d.base}/#/inspection/${encodeURIComponent(oldVerdict(5, start).id)}`);
    await page.getByText('was not saved').waitFor();
    await page.goto(`${d.base}/#/inspection/nope-1-1`);
    await page.getByText('is not in the record').waitFor();
    t.pass('missing frames and unknown ids are said plainly');
    t.same(foreign, [], 'nothing fetched from another origin');
    t.same(errors.filter((e) => /Content Security Policy|uncaught/.test(e)), [], 'no CSP violation, no uncaught error');
  });
}
