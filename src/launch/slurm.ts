/**
 * `--executor slurm`: the pending runs of an experiment as one sbatch job array. The
 * submission folder (`<output>/slurm/<stamp>/`) holds the script, `runs.json` (array
 * index -> the run's exact id, folder, hash and resolved config) and one log per task.
 * Each task runs `xrun run-one runs.json --index $SLURM_ARRAY_TASK_ID`, which trains that
 * run under its lock; a time limit, preemption or scancel sends SIGTERM, the run
 * checkpoints and ends 'interrupted', and submitting again resumes it.
 *
 * Job state comes from squeue (sacct needs accounting, which many clusters and every
 * single-node test setup lack).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ExperimentPlan } from '../config/load.js';
import type { SlurmSpec } from '../config/schema.js';
import { UsageError, XrunError } from '../errors.js';
import type { SelectOptions } from '../runner/decide.js';
import type { LaunchedRun } from './job.js';
import type { Launcher, Say } from './launcher.js';
import { decidePending, launchedRun, reportInput, writeExperimentFiles } from './prepare.js';
import { appendLaunch, type LaunchRecord } from './records.js';
import { finishWaiting } from './wait.js';

export interface SubmissionFile {
  report: ReturnType<typeof reportInput>;
  runs: LaunchedRun[];
}

export interface SlurmLauncherOptions {
  wait: boolean;
  say: Say;
  /** How often --wait asks squeue (ms). */
  pollMs?: number;
}

export class SlurmLauncher implements Launcher {
  readonly executor = 'slurm' as const;
  constructor(private readonly options: SlurmLauncherOptions) {}

  async launch(plan: ExperimentPlan, selection: SelectOptions): Promise<number> {
    const { say } = this.options;
    if (!onPath('sbatch')) {
      throw new UsageError('--executor slurm needs sbatch, which is not on PATH', {
        hint: 'run xrun on a Slurm login node (or a machine with the Slurm client tools and its slurm.conf)',
      });
    }
    const decisions = await decidePending(plan, selection);
    const todo = decisions.filter((d) => d.action !== 'skip');
    const skipped = decisions.length - todo.length;
    say(`${plan.name}: ${decisions.length} run(s): ${todo.length} to submit, ${skipped} skipped (completed)`);
    if (todo.length === 0) {
      await writeExperimentFiles(plan);
      return finishWaiting(plan, decisions, say);
    }
    const created = firstMissing(plan.outputDir);
    const spec = (plan.experiment.runtime?.slurm ?? {}) as SlurmSpec;
    const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '');
    const folder = join(plan.outputDir, 'slurm', `${stamp}-${process.pid}`);
    await mkdir(folder, { recursive: true });
    const submission: SubmissionFile = { report: reportInput(plan), runs: todo.map((d) => launchedRun(plan, d)) };
    const runsFile = join(folder, 'runs.json');
    await writeFile(runsFile, JSON.stringify(submission, null, 2) + '\n');
    const script = join(folder, 'job.sbatch');
    await writeFile(script, sbatchScript(plan, spec, submission.runs.length, folder, runsFile), { mode: 0o755 });
    const r = spawnSync('sbatch', ['--parsable', script], { cwd: folder, encoding: 'utf8' });
    if (r.status !== 0) {
      // Nothing was submitted: leave nothing behind either.
      await rm(created ?? folder, { recursive: true, force: true });
      throw new XrunError(`sbatch failed: ${(r.stderr || r.stdout || String(r.error)).trim()}`, {
        hint: 'check runtime.slurm (partition, account, time) against `sinfo`; nothing was submitted',
      });
    }
    const jobId = r.stdout.trim().split(';')[0]!;
    await writeExperimentFiles(plan);
    const record: LaunchRecord = { executor: 'slurm', jobId, ids: submission.runs.map((x) => x.id), script, submittedAt: new Date().toISOString() };
    await appendLaunch(plan.outputDir, record);
    say(`submitted job array ${jobId} (${todo.length} task(s)): ${script}`);
    for (const [i, run] of submission.runs.entries()) say(`  ${jobId}_${i}  ${run.id}`);
    if (!this.options.wait) {
      say(`follow with: xrun status ${plan.file}   (logs: ${join(folder, `${jobId}_<index>.log`)})`);
      return 0;
    }
    say(`waiting for job ${jobId} to finish (Ctrl-C stops waiting, not the job)`);
    await waitForJob(jobId, this.options.pollMs ?? 2000);
    return finishWaiting(plan, decisions, say);
  }
}

/** The script of one array, every value quoted for the shell. */
export function sbatchScript(plan: ExperimentPlan, spec: SlurmSpec, count: number, folder: string, runsFile: string): string {
  const xrunBin = fileURLToPath(new URL('../../bin/xrun.js', import.meta.url));
  const array = `0-${count - 1}${spec.parallel ? `%${spec.parallel}` : ''}`;
  const lines = [
    '#!/bin/bash',
    `# ${count} run(s) of experiment '${plan.name}' (${plan.file}), written by xrun.`,
    `# Task i trains run i of runs.json; resubmit with: xrun run ${plan.file} --executor slurm`,
    `#SBATCH --job-name=${shellWord(`xrun-${plan.name}`)}`,
    `#SBATCH --array=${array}`,
    `#SBATCH --output=${shellWord(join(folder, '%A_%a.log'))}`,
    `#SBATCH --cpus-per-task=${spec.cpusPerRun ?? 1}`,
    ...(spec.gpusPerRun ? [`#SBATCH --gpus-per-task=${spec.gpusPerRun}`] : []),
    ...(spec.partition ? [`#SBATCH --partition=${shellWord(spec.partition)}`] : []),
    ...(spec.account ? [`#SBATCH --account=${shellWord(spec.account)}`] : []),
    ...(spec.time ? [`#SBATCH --time=${spec.time}`] : []),
    ...(spec.memory ? [`#SBATCH --mem=${spec.memory}`] : []),
    ...(spec.sbatch ?? []).map((l) => (l.trim().startsWith('#SBATCH') ? l.trim() : `#SBATCH ${l.trim()}`)),
    '',
    ...(spec.setup ?? []),
    '',
    // exec: the run's process is the task's own, so Slurm's SIGTERM reaches it directly.
    `exec "\${XRUN_NODE:-${process.execPath}}" ${shellWord(xrunBin)} run-one ${shellWord(runsFile)} --index "$SLURM_ARRAY_TASK_ID"`,
    '',
  ];
  return lines.join('\n');
}

function shellWord(s: string): string {
  return /^[A-Za-z0-9_./%=:@+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** The outermost folder of `dir` that does not exist yet (what creating `dir` would add). */
function firstMissing(dir: string): string | undefined {
  let missing: string | undefined;
  for (let d = dir; !existsSync(d); d = dirname(d)) missing = d;
  return missing;
}

function onPath(binary: string): boolean {
  return (process.env.PATH ?? '').split(delimiter).some((dir) => dir && existsSync(join(dir, binary)));
}

/** Tasks of these jobs that Slurm still holds, as array job id -> task index -> state. */
function squeue(jobIds: string[]): Map<string, Map<number, string>> {
  const r = spawnSync('squeue', ['-h', '-r', '-j', jobIds.join(','), '-o', '%F %K %T'], { encoding: 'utf8' });
  const jobs = new Map<string, Map<number, string>>();
  if (r.status !== 0) {
    // squeue refuses ids it has already purged from memory: those jobs are over.
    if (/Invalid job id/i.test(r.stderr)) return jobs;
    throw new Error((r.stderr || String(r.error)).trim());
  }
  for (const line of r.stdout.trim().split('\n')) {
    const [job, task, state] = line.trim().split(/\s+/);
    if (!job || !state || task === undefined) continue;
    const tasks = jobs.get(job) ?? new Map<number, string>();
    // A pending array that has not split yet shows its task range ('0-3%2') as one line.
    for (const index of expandRange(task)) tasks.set(index, state.toLowerCase());
    jobs.set(job, tasks);
  }
  return jobs;
}

function expandRange(task: string): number[] {
  const out: number[] = [];
  for (const part of task.replace(/%.*/, '').split(',')) {
    const [a, b] = part.split('-').map(Number);
    if (!Number.isInteger(a)) continue;
    for (let i = a!; i <= (Number.isInteger(b) ? b! : a!); i++) out.push(i);
  }
  return out;
}

export async function waitForJob(jobId: string, pollMs: number): Promise<void> {
  for (;;) {
    if ((squeue([jobId]).get(jobId)?.size ?? 0) === 0) return;
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

/** Run id -> Slurm state, for runs whose latest submission Slurm still holds. */
export async function slurmStates(launches: Extract<LaunchRecord, { executor: 'slurm' }>[]): Promise<Map<string, string>> {
  const jobs = squeue(launches.map((l) => l.jobId));
  const states = new Map<string, string>();
  for (const launch of launches) {
    const tasks = jobs.get(launch.jobId);
    if (!tasks) continue;
    for (const [index, state] of tasks) {
      const id = launch.ids[index];
      if (id !== undefined) states.set(id, `${state} (${launch.jobId}_${index})`);
    }
  }
  return states;
}
