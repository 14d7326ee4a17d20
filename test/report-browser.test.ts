/**
 * report.html and `xrun compare` on a real (tiny) sweep with two seeds per configuration,
 * and the page in headless Chromium: opened from disk with network requests refused, it
 * must draw everything without a console error, and sorting, filtering and picking runs
 * must change what it shows.
 */
import { cpSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browserMissing, launch, openFile, type OpenedPage } from './helpers/browser.js';
import { tempProject, tinyExperiment, xrun } from './helpers/cli.js';

let dir: string;
let out: string;
let run: ReturnType<typeof xrun>;

beforeAll(() => {
  dir = tempProject({ 'exp.yaml': tinyExperiment('seeds', 'sweep:\n  model: [cnn, lstm]\n  seed: [1, 2]\n') });
  run = xrun(['exp.yaml', '--set', 'training.epochs=2'], dir);
  out = join(dir, 'runs/seeds');
}, 300_000);

const finals = () =>
  Object.fromEntries(
    ['model=cnn,seed=1', 'model=cnn,seed=2', 'model=lstm,seed=1', 'model=lstm,seed=2'].map((id) => [
      id,
      JSON.parse(readFileSync(join(out, id, 'run.json'), 'utf8')).final.test_accuracy as number,
    ]),
  );

describe('the study report on disk', () => {
  it('xrun run writes report.html and names the --set overrides in summary.md', () => {
    expect(run.code, run.stderr).toBe(0);
    expect(statSync(join(out, 'report.html')).size).toBeGreaterThan(500_000);
    expect(readFileSync(join(out, 'summary.md'), 'utf8')).toContain('Overrides applied: `--set training.epochs=2`');
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    // Self-contained: no script, stylesheet or image is loaded from anywhere.
    expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+stylesheet|<img[^>]+src="http/);
  });

  it('xrun compare --over seed gives mean ± std over the two seeds of each model', () => {
    const f = finals();
    const json = JSON.parse(xrun(['compare', 'runs/seeds', '--over', 'seed', '--format', 'json'], dir).stdout);
    expect(json.map((g: { model: string; n: number }) => [g.model, g.n])).toEqual([
      ['cnn', 2],
      ['lstm', 2],
    ]);
    const [a, b] = [f['model=cnn,seed=1']!, f['model=cnn,seed=2']!];
    expect(json[0].test_accuracy_mean).toBeCloseTo((a + b) / 2, 12);
    expect(json[0].test_accuracy_std).toBeCloseTo(Math.abs(a - b) / Math.SQRT2, 12);
    const table = xrun(['compare', 'runs/seeds', '--by', 'model'], dir);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^model\s+n\s+test acc\s+test loss\s+best-val acc\s+mean time\n/);
    expect(table.stdout).toMatch(/\ncnn\s+2\s+0\.\d{4} ± 0\.\d{4}/);
    const perRun = xrun(['compare', 'runs/seeds/model=cnn,seed=1', 'runs/seeds/model=lstm,seed=2', '--format', 'csv'], dir).stdout.trim().split('\n');
    expect(perRun).toHaveLength(3);
    expect(perRun[1]).toMatch(/^"model=cnn,seed=1",cnn,1,completed,2\/2,/);
  });

  it('compare and report refuse folders without runs (exit 2) and accept the experiment file', () => {
    const bad = xrun(['compare', 'runs/nothing-here'], dir);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('runs/nothing-here: no such folder');
    const empty = xrun(['report', '.'], dir);
    expect(empty.code).toBe(2);
    expect(empty.stderr).toContain('holds no runs');
    const typo = xrun(['compare', 'runs/seeds', '--by', 'modle'], dir);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toContain("no run has a value at 'modle'");
    expect(typo.stderr).toContain('sweep axes here: model, seed');
    // The experiment file stands for its output folder.
    const byFile = xrun(['compare', 'exp.yaml', '--format', 'json'], dir);
    expect(JSON.parse(byFile.stdout)).toHaveLength(4);
  });
});

const missing = browserMissing();
if (missing) console.log(missing);

describe.skipIf(missing !== undefined)('report.html in headless Chromium', () => {
  let browser: BrowserContext;
  let opened: OpenedPage;
  let page: Page;

  const count = (selector: string) => page.locator(selector).count();
  const waitFor = (selector: string, n: number) =>
    page.waitForFunction(([s, k]) => document.querySelectorAll(s as string).length === k, [selector, n] as const, { timeout: 30_000 });
  const ids = () => page.locator('#runs tbody tr').evaluateAll((rows) => rows.map((r) => (r as HTMLElement).dataset.run));
  const accuracies = async () =>
    (await page.locator('#runs tbody tr').evaluateAll((rows) => rows.map((r) => (r.children[6] as HTMLElement).textContent))).map(Number);

  beforeAll(async () => {
    browser = await launch();
    opened = await openFile(browser, join(out, 'report.html'));
    page = opened.page;
    await page.waitForSelector('#confusion svg', { timeout: 60_000 });
  }, 120_000);
  afterAll(async () => {
    await opened?.close();
    await browser?.close();
  });

  it('draws one row per run, grouped mean ± std, and every plot, with no error and no network', async () => {
    expect(await count('#runs tbody tr')).toBe(4);
    // A seed axis: grouped by the other axes from the start, one row per model, n = 2.
    const groups = await page.locator('#groups tbody tr').allTextContents();
    expect(groups).toHaveLength(2);
    expect(groups[0]).toMatch(/^cnn2 ?0\.\d{4} ± 0\.\d{4}/);
    // 4 picked runs x (train, test) x (loss, accuracy) lines; 4 x 10 x 10 confusion cells.
    await waitFor('#curves .mark-line.role-mark path', 16);
    await waitFor('#confusion .mark-rect.role-mark path', 400);
    expect(await count('#scatter .mark-symbol.role-mark path')).toBe(4);
    expect(await count('#effects .mark-symbol.role-mark path')).toBe(8);
    expect(await page.locator('#machines tbody tr').count()).toBe(4);
    expect(await page.locator('#machines').textContent()).toContain('wasm');
    expect(await page.locator('#config-diff').textContent()).toContain('seed');
    expect(opened.consoleErrors).toEqual([]);
    expect(opened.network).toEqual([]);
    await page.screenshot({ path: join(dir, 'report.png'), fullPage: true });
    expect(statSync(join(dir, 'report.png')).size).toBeGreaterThan(20_000);
  });

  it('sorting by a column reorders the rows', async () => {
    const before = await ids();
    await page.click('#runs th[data-sort="test_accuracy"]');
    const up = await accuracies();
    const upIds = await ids();
    expect(up).toEqual([...up].sort((a, b) => a - b));
    await page.click('#runs th[data-sort="test_accuracy"]');
    const down = await accuracies();
    expect(down).toEqual([...up].sort((a, b) => b - a));
    if (new Set(up).size > 1) expect(await ids()).not.toEqual(upIds);
    // A third click goes back to the sweep's order.
    await page.click('#runs th[data-sort="test_accuracy"]');
    expect(await ids()).toEqual(before);
  });

  it('picking runs changes the curves and the confusion matrices; filters hide rows', async () => {
    await page.locator('#runs tr[data-run="seeds/model=lstm,seed=2"] input.pick').uncheck();
    await waitFor('#curves .mark-line.role-mark path', 12);
    await waitFor('#confusion .mark-rect.role-mark path', 300);
    await page.click('#pick-none');
    await waitFor('#curves .mark-line.role-mark path', 0);
    expect(await page.locator('#curves').textContent()).toContain('Pick runs');
    await page.locator('#runs tr[data-run="seeds/model=lstm,seed=1"] input.pick').check();
    await waitFor('#curves .mark-line.role-mark path', 4);
    await page.locator('#filters input.filter[value="lstm"]').uncheck();
    expect(await count('#runs tbody tr')).toBe(2);
    expect(await page.locator('#groups tbody tr').count()).toBe(1);
    await page.selectOption('#diff-a', 'seeds/model=cnn,seed=1');
    await page.selectOption('#diff-b', 'seeds/model=lstm,seed=1');
    expect(await page.locator('#config-diff').textContent()).toContain('model.type');
    expect(opened.consoleErrors).toEqual([]);
    expect(opened.network).toEqual([]);
  });

  it('xrun report puts several experiments on one page', async () => {
    const copy = join(dir, 'runs/seeds-again');
    cpSync(out, copy, { recursive: true });
    const yaml = join(copy, 'experiment.yaml');
    writeFileSync(yaml, readFileSync(yaml, 'utf8').replace(/^name: seeds$/m, 'name: seeds-again'));
    const r = xrun(['report', 'runs/seeds', 'runs/seeds-again', '--out', 'both.html'], dir);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('8 run(s) of seeds, seeds-again');
    expect(existsSync(join(dir, 'both.html'))).toBe(true);
    const both = await openFile(browser, join(dir, 'both.html'));
    try {
      await both.page.waitForSelector('#confusion svg', { timeout: 60_000 });
      expect(await both.page.locator('#runs tbody tr').count()).toBe(8);
      expect(await both.page.locator('#runs thead').textContent()).toContain('experiment');
      expect(both.consoleErrors).toEqual([]);
      expect(both.network).toEqual([]);
    } finally {
      await both.close();
    }
  });
});
