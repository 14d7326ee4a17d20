import { resolve } from 'node:path';
import { UsageError } from '../errors.js';
import { defaultReportFile, writeReportHtml } from '../report/html/write.js';
import { readTargets } from '../report/study.js';
import { experimentFolders } from './targets.js';
import { parse } from './args.js';
import { REPORT_HELP } from './help.js';

export async function reportCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, { out: { type: 'string', short: 'o' } }, REPORT_HELP);
  if (values.help) {
    console.log(REPORT_HELP);
    return 0;
  }
  if (positionals.length === 0) throw new UsageError('report needs at least one experiment folder', { hint: REPORT_HELP });
  const experiments = await readTargets(experimentFolders(positionals));
  const runs = experiments.reduce((n, e) => n + e.runs.length, 0);
  // One experiment: its own folder. Several: one page in the current folder unless --out.
  const file = resolve(values.out ?? (experiments.length === 1 ? defaultReportFile(experiments[0]!.dir) : 'report.html'));
  await writeReportHtml(experiments, file);
  console.log(`${file}: ${runs} run(s) of ${experiments.map((e) => e.name).join(', ')}`);
  return 0;
}
