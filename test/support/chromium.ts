/**
 * Headless Debian Chromium for checking the HTML reports, with the flags that keep it off the
 * network (no background networking, component updates or sync: CONTRACTS.md section 7), a fresh
 * profile per run, and every console error, page error or non-local request collected as a problem.
 */
import { existsSync } from 'node:fs';
import type { BrowserContext, Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
export const haveChromium = existsSync(CHROMIUM);

const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export async function openPage(
  profileDir: string,
  viewport: { width: number; height: number },
): Promise<{ browser: BrowserContext; page: Page; problems: string[] }> {
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launchPersistentContext(profileDir, {
    executablePath: CHROMIUM,
    viewport,
    args: FLAGS,
  });
  const page = await browser.newPage();
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(m.text());
  });
  page.on('pageerror', (e) => problems.push(e.message));
  page.on('request', (r) => {
    if (!r.url().startsWith('file:') && !r.url().startsWith('data:')) problems.push(`request ${r.url()}`);
  });
  return { browser, page, problems };
}
