/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * Debian's Chromium driven by playwright-core (never a downloaded browser: STACK-NOTES), for
 * the console's browser tests. Each test file skips with a clear message when
 * /usr/bin/chromium is absent (scripts/setup.sh installs it). Screenshots go to
 * `.tap/screenshots/` (ignored by git, kept as CI artifacts; README "Tests").
 */
import type { Test } from 'tap';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, ConsoleMessage, Page } from 'playwright-core';
import { REPO_ROOT } from '../support/bundle.js';

export const CHROMIUM = '/usr/bin/chromium';
export const SCREENSHOTS = join(REPO_ROOT, '.tap', 'screenshots');

/** Why browser tests cannot run here, or undefined when they can. */
export function noBrowser(): string | undefined {
  return existsSync(CHROMIUM) ? undefined : `${CHROMIUM} is absent: install Debian's chromium (scripts/setup.sh does) to run the browser tests`;
}

export async function launch(t: Test): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync'],
  });
  t.teardown(() => browser.close());
  return browser;
}

export interface WatchedPage {
  readonly context: BrowserContext;
  readonly page: Page;
  /** Console errors and uncaught exceptions of the page (a CSP violation is one). */
  readonly errors: string[];
  /** Requests that left for another origin than `allowedOrigin`. */
  readonly foreign: string[];
}

/** A page at a panel PC's 1280×800 (or `viewport`), recording errors and foreign requests. */
export async function openPage(browser: Browser, allowedOrigin: string, viewport = { width: 1280, height: 800 }): Promise<WatchedPage> {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  const errors: string[] = [];
  const foreign: string[] = [];
  page.on('console', (m: ConsoleMessage) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(`uncaught: ${e.message}`));
  page.on('request', (r) => {
    const u = r.url();
    if (!u.startsWith(allowedOrigin) && !u.startsWith('data:') && !u.startsWith('blob:')) foreign.push(u);
  });
  return { context, page, errors, foreign };
}

export async function screenshot(page: Page, name: string, fullPage = false): Promise<string> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const path = join(SCREENSHOTS, `${name}.png`);
  // From the top: a full-page shot of a scrolled page paints the sticky bar mid-page.
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path, fullPage });
  return path;
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.floor((s.length - 1) / 2)];
}
