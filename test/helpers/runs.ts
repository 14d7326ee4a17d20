import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const readRecord = (runDir: string): any => JSON.parse(readFileSync(join(runDir, 'run.json'), 'utf8'));

/** The epochs metrics.csv holds a row for, in file order. */
export function epochsOf(runDir: string): number[] {
  return readFileSync(join(runDir, 'metrics.csv'), 'utf8')
    .trimEnd()
    .split('\n')
    .slice(1)
    .map((l) => Number(l.split(',')[0]));
}

/** metrics.csv without the timing columns, which differ between any two runs. */
export function metricsWithoutTimes(runDir: string): string[][] {
  const lines = readFileSync(join(runDir, 'metrics.csv'), 'utf8').trim().split('\n').map((l) => l.split(','));
  const keep = lines[0]!.map((h, i) => (h.endsWith('_seconds') ? -1 : i)).filter((i) => i >= 0);
  return lines.map((cells) => keep.map((i) => cells[i]!));
}

/** Same metrics, bit for bit (the CSV holds every digit of each float). */
export function compareMetrics(a: string, b: string): void {
  const ma = metricsWithoutTimes(a);
  expect(ma.length).toBeGreaterThan(1);
  expect(ma, `${a} vs ${b}`).toEqual(metricsWithoutTimes(b));
}

export async function waitFor(what: string, check: () => boolean, timeoutMs: number, pollMs = 200): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (check()) return;
    } catch {
      // A file caught mid-replace or not there yet: look again.
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, pollMs));
  }
}
