import { UsageError } from '../errors.js';
import { compareGroups, compareRuns } from '../report/compare.js';
import { groupingOver, sweepAxes, valueAt } from '../report/axis-groups.js';
import { ROWS_FORMATS, renderRows } from '../report/rows.js';
import { readTargets } from '../report/study.js';
import { experimentFolders } from './targets.js';
import { list, oneOf, parse } from './args.js';
import { COMPARE_HELP } from './help.js';

export async function compareCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse(
    argv,
    { by: { type: 'string', multiple: true }, over: { type: 'string', multiple: true }, format: { type: 'string' } },
    COMPARE_HELP,
  );
  if (values.help) {
    console.log(COMPARE_HELP);
    return 0;
  }
  if (positionals.length === 0) throw new UsageError('compare needs at least one experiment or run folder', { hint: COMPARE_HELP });
  const format = oneOf(values.format, '--format', ROWS_FORMATS, 'table');
  const by = list(values.by);
  const over = list(values.over);
  if (by.length > 0 && over.length > 0) throw new UsageError('use either --by or --over, not both', { hint: COMPARE_HELP });
  const runs = (await readTargets(experimentFolders(positionals))).flatMap((e) => e.runs);
  if (runs.length === 0) throw new UsageError(`no runs found in ${positionals.join(', ')}`);
  // A misspelt path would put every run in one group under a blank key: say so instead.
  const unknown = [...by, ...over].filter((p) => p !== 'experiment' && runs.every((r) => valueAt(r, p) === undefined));
  if (unknown.length > 0) {
    throw new UsageError(`no run has a value at ${unknown.map((p) => `'${p}'`).join(', ')}`, {
      hint: `sweep axes here: ${sweepAxes(runs).join(', ') || '(none)'}; config paths look like training.learningRate or model.hidden`,
    });
  }
  const grouping = over.length > 0 ? groupingOver(runs, over) : by;
  const table = over.length > 0 || by.length > 0 ? compareGroups(runs, grouping) : compareRuns(runs);
  console.log(renderRows(table, format));
  return 0;
}
