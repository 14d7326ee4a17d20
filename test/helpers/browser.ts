/**
 * Headless Chromium from the system (Debian's `chromium` package) driven by playwright-core,
 * with no browser download and no network: every request that is not file: or data: is
 * recorded, as is every console error and uncaught page error.
 */
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = process.env.XRUN_CHROMIUM ?? '/usr/bin/chromium';

/** Why browser tests cannot run here, or undefined when they can. */
export function browserMissing(): string | undefined {
  return existsSync(CHROMIUM) ? undefined : `${CHROMIUM} not found (Debian: apt-get install chromium); browser tests skipped`;
}

export interface OpenedPage {
  page: Page;
  consoleErrors: string[];
  /** Requests for anything but file: and data: URLs. */
  network: string[];
  close(): Promise<void>;
}

/** A fresh profile each time, so no state or cache carries over between test runs. */
export async function launch(viewport = { width: 1280, height: 900 }, deviceScaleFactor = 1): Promise<BrowserContext> {
  const context = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), 'xrun-chromium-')), {
    executablePath: CHROMIUM,
    headless: true,
    viewport,
    deviceScaleFactor,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
  // Anything that tries to leave the machine is refused, not merely noted.
  await context.route(/^(?!file:|data:)/, (route) => route.abort());
  return context;
}

export async function openFile(context: BrowserContext, file: string): Promise<OpenedPage> {
  const page = await context.newPage();
  const consoleErrors: string[] = [];
  const network: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push(m.text());
  });
  page.on('pageerror', (e) => consoleErrors.push(`uncaught: ${e.message}`));
  page.on('request', (r) => {
    if (!/^(file|data):/.test(r.url())) network.push(r.url());
  });
  await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
  return { page, consoleErrors, network, close: () => page.close() };
}
