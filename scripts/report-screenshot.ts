/**
 * Screenshot of a report.html for the README, taken in headless Chromium exactly as the
 * browser test opens it (from disk, network refused).
 *   npx tsx scripts/report-screenshot.ts runs/mnist-quick/report.html docs/report.png
 */
import { browserMissing, launch, openFile } from '../test/helpers/browser.js';

const [file, png = 'docs/report.png', height = '1500'] = process.argv.slice(2);
if (!file) throw new Error('usage: report-screenshot.ts <report.html> [out.png] [height]');
const missing = browserMissing();
if (missing) throw new Error(missing);
const browser = await launch({ width: 1280, height: Number(height) });
try {
  const opened = await openFile(browser, file);
  await opened.page.waitForSelector('#confusion svg', { timeout: 60_000 });
  await opened.page.screenshot({ path: png });
  if (opened.consoleErrors.length > 0 || opened.network.length > 0) {
    throw new Error(`console errors: ${opened.consoleErrors.join('; ')}; network: ${opened.network.join(', ')}`);
  }
  console.log(`${png}: ${file}`);
} finally {
  await browser.close();
}
