/**
 * Screenshot of a whole report.html for the README, taken in headless Chromium exactly as
 * the browser test opens it (from disk, network refused), scaled down to keep it small.
 *   npx tsx scripts/report-screenshot.ts runs/mnist-quick/report.html docs/report.jpg 0.6
 */
import { browserMissing, launch, openFile } from '../test/helpers/browser.js';

const [file, out = 'docs/report.jpg', scale = '0.6'] = process.argv.slice(2);
if (!file) throw new Error('usage: report-screenshot.ts <report.html> [out.jpg|out.png] [scale]');
const missing = browserMissing();
if (missing) throw new Error(missing);
const browser = await launch({ width: 1280, height: 900 }, Number(scale));
try {
  const opened = await openFile(browser, file);
  await opened.page.waitForSelector('#confusion svg', { timeout: 60_000 });
  const jpeg = /\.jpe?g$/i.test(out);
  await opened.page.screenshot({ path: out, fullPage: true, ...(jpeg ? { type: 'jpeg', quality: 82 } : {}) });
  if (opened.consoleErrors.length > 0 || opened.network.length > 0) {
    throw new Error(`console errors: ${opened.consoleErrors.join('; ')}; network: ${opened.network.join(', ')}`);
  }
  console.log(`${out}: ${file}`);
} finally {
  await browser.close();
}
