import { join } from 'node:path';
import { writeFileAtomic } from '../../store/atomic.js';
import type { StudyExperiment } from '../study.js';
import { reportData } from './data.js';
import { reportHtml } from './page.js';

export const REPORT_FILE = 'report.html';

/** Writes one page for these experiments to `file` (atomically: a reader never sees half a page). */
export async function writeReportHtml(experiments: StudyExperiment[], file: string): Promise<string> {
  await writeFileAtomic(file, reportHtml(reportData(experiments)));
  return file;
}

export function defaultReportFile(experimentDir: string): string {
  return join(experimentDir, REPORT_FILE);
}
