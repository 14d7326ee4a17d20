/**
 * `confusion.csv` in a run folder: one row per true class, one column per predicted
 * class, counts on the test set with the final model. The first column is the true class.
 *
 *   true,0,1,2
 *   0,97,1,2
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from './atomic.js';

export const CONFUSION_FILE = 'confusion.csv';

export function formatConfusion(counts: readonly (readonly number[])[]): string {
  const header = ['true', ...counts.map((_, c) => String(c))].join(',');
  return [header, ...counts.map((row, r) => [String(r), ...row.map(String)].join(','))].join('\n') + '\n';
}

/** Null when the file is missing or not a square matrix of counts (a run that did not finish). */
export function parseConfusion(text: string): number[][] | null {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  const classes = (lines[0]?.split(',').length ?? 0) - 1;
  if (classes < 1 || lines.length - 1 !== classes) return null;
  const rows = lines.slice(1).map((l) => l.split(',').slice(1).map(Number));
  const square = rows.every((r) => r.length === classes && r.every((v) => Number.isInteger(v) && v >= 0));
  return square ? rows : null;
}

export async function writeConfusion(runDir: string, counts: readonly (readonly number[])[]): Promise<void> {
  await writeFileAtomic(join(runDir, CONFUSION_FILE), formatConfusion(counts));
}

export async function readConfusion(runDir: string): Promise<number[][] | null> {
  try {
    return parseConfusion(await readFile(join(runDir, CONFUSION_FILE), 'utf8'));
  } catch {
    return null;
  }
}
