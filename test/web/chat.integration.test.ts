/**
 * Asking about an inspection in a real browser: with the default install (no language model:
 * the grounded answerer — the page says so, and the figures in the answer are the record's),
 * and with the tiny AnomalyGPT bundle loaded (tools/fixtures/anomalygpt/build-tiny-bundle.ts:
 * random weights, so the words are noise — what is checked is the plumbing). Each answer
 * streams token by token, and three questions are three turns of one conversation.
 */
import t from 'tap';
import { join } from 'node:path';
import { buildTinyBundle } from '../../tools/fixtures/anomalygpt/build-tiny-bundle.js';
import { launch, noBrowser, openPage, screenshot } from './browser.js';
import { SIM_CAMERA, startConsoleDaemon, daemonTestdir } from '../support/console-daemon.js';
import { until } from '../support/wait.js';

const skip = noBrowser();
if (skip) t.plan(0, skip);
else {
  const root = daemonTestdir(t);
  const tiny = join(root, 'tiny');
  t.before(() => buildTinyBundle(tiny, { seed: 3 }));

  t.test('the default install: a grounded, multi-turn conversation that says no language model is loaded', async (t) => {
    const d = await startConsoleDaemon(t, root, { cameras: [SIM_CAMERA('cam1', 11, { trigger: { mode: 'free-run', fps: 2 } })] });
    await until(() => (d.app.pipeline('cam1')?.counters.failed ?? 0) >= 1, 40_000, 'a fail to ask about', 50);
    const { items } = (await (await fetch(`${d.base}/api/inspections?pass=false&limit=1`)).json()) as { items: { id: string; score: number; threshold: number }[] };
    const fail = items[0];
    const browser = await launch(t);
    const { page, errors, foreign } = await openPage(browser, d.base);
    await page.goto(`${d.base}/#/inspection/${encodeURIComponent(fail.id)}`);
    const note = page.locator('.chat-mode');
    await note.filter({ hasText: /language model/i }).waitFor({ timeout: 15_000 });
    t.match(await note.textContent(), /no language model is loaded/i, 'the page says plainly that no language model is loaded');
    const questions = ['Why did it fail?', 'Where is the defect?', 'How many failed today?'];
    for (const [i, q] of questions.entries()) {
      await page.getByLabel('question').fill(q);
      await page.getByRole('button', { name: 'Ask' }).click();
      await page.locator('.msg.a .meta').nth(i).waitFor({ timeout: 30_000 });
    }
    const answers = (await page.locator('.msg.a').allTextContents()).map((a) => a.replace(/\s+/g, ' '));
    t.equal(answers.length, 3, 'three answers in one conversation');
    t.equal(await page.locator('.msg.err').count(), 0, 'no errors');
    // The first answer is made of the record's own figures: its score and boundary as shown.
    const record = (await (await fetch(`${d.base}/api/inspections/${encodeURIComponent(fail.id)}`)).json()) as { verdict: { score: number; threshold: number } };
    t.ok(answers[0].includes(record.verdict.score.toFixed(3)) || answers[0].includes(record.verdict.score.toPrecision(3)), `the why-answer quotes the recorded score (${record.verdict.score}): "${answers[0].slice(0, 160)}…"`);
    t.match(answers[1], /top|bottom|left|right|center/, 'the where-answer names a 3×3 place');
    t.match(answers[2], /today/i, 'the counts answer says the range it used');
    const dialogue = (d.app.status().assistant as { mode: string; dialogue: { opened: number; answers: number } });
    t.equal(dialogue.mode, 'grounded');
    t.same([dialogue.dialogue.opened, dialogue.dialogue.answers], [1, 3], 'one conversation, three turns');
    await screenshot(page, 'inspection-chat-grounded-1280x800', true);
    t.same(foreign, [], 'nothing fetched from another origin');
    t.same(errors.filter((e) => /Content Security Policy|uncaught/.test(e)), [], 'no CSP violation, no uncaught error');
  });

  t.test('a multi-turn conversation streamed into the inspection page (tiny AnomalyGPT bundle)', async (t) => {
    const d = await startConsoleDaemon(t, root, {
      cameras: [SIM_CAMERA('cam1', 11, { trigger: { mode: 'free-run', fps: 1 } })],
      assistant: { enabled: true, bundle: tiny, part: 'bottle', mode: 'on-request', dialogue: { maxAnswerTokens: 24 } },
    });
    await until(() => (d.app.pipeline('cam1')?.counters.failed ?? 0) >= 1, 40_000, 'a fail to ask about', 50);
    const id = (await (await fetch(`${d.base}/api/inspections?pass=false&limit=1`)).json() as { items: { id: string }[] }).items[0].id;
    const browser = await launch(t);
    const { page, errors, foreign } = await openPage(browser, d.base);
    await page.goto(`${d.base}/#/inspection/${encodeURIComponent(id)}`);
    const note = page.locator('.chat-mode');
    await note.filter({ hasText: /language model|no language model/i }).waitFor({ timeout: 15_000 });
    const mode = await note.textContent();
    t.match(mode, /AnomalyGPT language model \(anomalygpt-tiny-random/, `the panel says where answers come from: "${mode}"`);

    // Record every length the streaming answer passes through.
    await page.evaluate(() => {
      const w = window as unknown as { __lens: number[][] };
      w.__lens = [];
      new MutationObserver(() => {
        const answers = [...document.querySelectorAll('.msg.a')];
        answers.forEach((a, i) => {
          (w.__lens[i] ??= []).push((a.firstChild?.textContent ?? '').length);
        });
      }).observe(document.querySelector('.chat-log')!, { childList: true, subtree: true, characterData: true });
    });
    const questions = ['Why did it fail?', 'Where is the defect?', 'How confident is it?'];
    const metas: string[] = [];
    for (const [i, q] of questions.entries()) {
      if (i === 0) await page.getByRole('button', { name: q }).click();
      else {
        await page.getByLabel('question').fill(q);
        await page.getByRole('button', { name: 'Ask' }).click();
      }
      await page.locator('.msg.a .meta').nth(i).waitFor({ timeout: 60_000 });
      metas.push((await page.locator('.msg.a .meta').nth(i).textContent())!);
    }
    const lens = await page.evaluate(() => (window as unknown as { __lens: number[][] }).__lens);
    for (const [i, l] of lens.entries()) {
      const distinct = new Set(l.filter((n) => n > 0)).size;
      t.ok(distinct >= 3, `answer ${i + 1} grew through ${distinct} lengths while streaming`);
    }
    t.same(await page.locator('.msg.q').allTextContents(), questions, 'three questions shown');
    t.equal(await page.locator('.msg.a').count(), 3, 'three answers');
    t.equal(await page.locator('.msg.err').count(), 0, 'no errors');
    const dialogue = (d.app.status().assistant as { dialogue: { opened: number; answers: number } }).dialogue;
    t.same([dialogue.opened, dialogue.answers], [1, 3], 'one conversation, three turns');
    for (const m of metas) t.match(m, /^\d+ tokens · first after \d+ ms · \d+ ms$/);
    t.comment(`tiny bundle in the page: ${metas.join(' | ')}`);
    await screenshot(page, 'inspection-chat-1280x800', true);
    t.same(foreign, [], 'nothing fetched from another origin');
    t.same(errors.filter((e) => /Content Security Policy|uncaught/.test(e)), [], 'no CSP violation, no uncaught error');
  });
}
