/**
 * `xrun run-one <runs.json> --index N` (not in the help: written into sbatch scripts):
 * trains run N of a submission under its lock, then rebuilds the experiment summary.
 * SIGTERM (Slurm's time limit, preemption, scancel) or Ctrl-C: checkpoint and exit 143/130.
 */
import { readFile } from 'node:fs/promises';
import { UsageError } from '../errors.js';
import { trainOne, Stopper } from '../launch/job.js';
import type { SubmissionFile } from '../launch/slurm.js';
import { PlainProgress } from '../runner/progress.js';
import { parse } from './args.js';
import { single } from './run.js';

const HELP = `Usage: xrun run-one <runs.json> --index <n>

Trains entry n of a submission file written by --executor slurm (Slurm array tasks run this).`;

export async function runOneCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, { index: { type: 'string' } }, HELP);
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const file = single(positionals, HELP);
  const submission = JSON.parse(await readFile(file, 'utf8')) as SubmissionFile;
  const index = Number(values.index);
  const run = submission.runs[index];
  if (!Number.isInteger(index) || !run) throw new UsageError(`--index must be 0..${submission.runs.length - 1}, got '${values.index}'`);
  const say = (line: string) => console.log(line);
  const progress = new PlainProgress(say);
  const stopper = new Stopper();
  let signal: NodeJS.Signals | undefined;
  const onSignal = (s: NodeJS.Signals) => {
    if (signal) {
      stopper.kill();
      process.exit(s === 'SIGINT' ? 130 : 143);
    }
    signal = s;
    say(`${s}: checkpointing ${run.id} after the current batch`);
    stopper.stop();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  say(`${run.experiment}: run ${run.id} -> ${run.dir}`);
  const outcome = await trainOne(run, { stopper, progress });
  progress.runEnded(run.id, outcome.status, outcome.message);
  if (outcome.status !== 'skipped' && outcome.status !== 'locked') {
    const { writeExperimentReport } = await import('../report/experiment-report.js');
    await writeExperimentReport(submission.report).catch((err: Error) => say(`warning: summary not rebuilt: ${err.message}`));
  }
  if (outcome.status === 'failed') return 1;
  if (outcome.status === 'interrupted') return signal === 'SIGINT' ? 130 : 143;
  return 0;
}
