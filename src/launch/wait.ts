/** The end of `--wait`: every selected run has been tried; summarise them all. */
import type { ExperimentPlan } from '../config/load.js';
import type { Decision } from '../runner/decide.js';
import { RunDir } from '../store/run-dir.js';
import type { Say } from './launcher.js';

export async function finishWaiting(plan: ExperimentPlan, decisions: Decision[], say: Say): Promise<number> {
  // Imported here: the plotting libraries are only needed at the end.
  const { writeExperimentReport } = await import('../report/experiment-report.js');
  const report = await writeExperimentReport(plan);
  say(`\n${report.markdown.trim()}\n`);
  say(`summary: ${report.files.join(', ')}`);
  for (const w of report.warnings) say(`warning: ${w}`);
  const unfinished: string[] = [];
  for (const d of decisions) {
    const record = await new RunDir(d.dir).readRecord().catch(() => undefined);
    if (record?.status !== 'completed') unfinished.push(`${d.run.id} (${record?.status ?? 'not run'})`);
  }
  if (unfinished.length === 0) return 0;
  say(`${unfinished.length} run(s) did not complete: ${unfinished.join(', ')} (see run.json in each folder)`);
  return 1;
}
