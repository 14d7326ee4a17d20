import { relative } from 'node:path';
import { loadPlan } from '../config/load.js';
import { BACKENDS, EXECUTORS } from '../config/schema.js';
import type { ExperimentPlan } from '../config/load.js';
import type { SelectOptions } from '../runner/decide.js';
import { UsageError } from '../errors.js';
import { PlainProgress, TerminalProgress } from '../runner/progress.js';
import { runExperiment } from '../runner/run-experiment.js';
import { spawnWorker, type WorkerHandle } from '../runner/spawn-worker.js';
import { list, oneOf, parse, positiveInt, type Values } from './args.js';
import { RUN_HELP } from './help.js';

const RUN_OPTIONS = {
  set: { type: 'string', multiple: true },
  backend: { type: 'string' },
  jobs: { type: 'string', short: 'j' },
  gpus: { type: 'string' },
  only: { type: 'string', multiple: true },
  exclude: { type: 'string', multiple: true },
  failed: { type: 'boolean' },
  force: { type: 'boolean' },
  'lock-seconds': { type: 'string' },
  plain: { type: 'boolean' },
  executor: { type: 'string' },
  redis: { type: 'string' },
  queue: { type: 'string' },
  wait: { type: 'boolean' },
} as const;

type RunValues = Values<typeof RUN_OPTIONS>;

export async function runCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, RUN_OPTIONS, RUN_HELP);
  if (values.help) {
    console.log(RUN_HELP);
    return 0;
  }
  const file = single(positionals, RUN_HELP);
  // Nearly every local command trains something: the first worker starts loading tfjs now,
  // while the plan is read, validated and decided. A worker that trained has been closed by
  // the time runWith returns; one still alive then never got a run (a bad file, nothing to
  // train, another executor) and has nothing to save.
  const early = values.gpus === undefined && (values.executor ?? 'local') === 'local' ? spawnWorker(process.env) : undefined;
  try {
    return await runWith(file, values, argv, early);
  } finally {
    if (early?.alive) early.kill();
  }
}

async function runWith(file: string, values: RunValues, argv: string[], early: WorkerHandle | undefined): Promise<number> {
  const sets = [...(values.set ?? [])];
  if (values.backend !== undefined) sets.push(`runtime.backend=${oneOf(values.backend, '--backend', BACKENDS, 'auto')}`);
  const plan = loadPlan(file, { sets });
  // Each --only/--exclude is one pattern, never split at commas: run ids contain commas.
  const selection = {
    only: values.only ?? [],
    exclude: values.exclude ?? [],
    failedOnly: Boolean(values.failed),
    force: Boolean(values.force),
  };
  const executor = oneOf(values.executor, '--executor', EXECUTORS, plan.experiment.runtime?.executor ?? 'local');
  if (executor !== 'local') return launchElsewhere(executor, plan, selection, values);
  const jobs = positiveInt(values.jobs, '--jobs', plan.experiment.runtime?.jobs ?? 1);
  const tty = Boolean(process.stdout.isTTY) && !values.plain && !process.env.CI;
  const progress = tty ? new TerminalProgress() : new PlainProgress();
  progress.note(`${plan.name}: ${plan.runs.length} run(s) -> ${plan.outputDir}`);
  const result = await runExperiment(plan, {
    jobs,
    ...(early ? { prestarted: early } : {}),
    ...(values['lock-seconds'] !== undefined ? { lockSeconds: positiveInt(values['lock-seconds'], '--lock-seconds', 60) } : {}),
    overrides: sets,
    gpus: values.gpus !== undefined ? list(values.gpus) : (plan.experiment.runtime?.gpus ?? []).map(String),
    ...selection,
    progress,
  });
  if (result.report) {
    // Aligned for the terminal and fitted to its width; summary.md keeps the markdown.
    const { summaryTerminalTable } = await import('../report/summary-rows.js');
    const width = process.stdout.columns || 80;
    if (result.report.groups) {
      // Seeds repeated: one row per configuration; the runs are in summary-runs.csv.
      const { groupsTerminalTable } = await import('../report/seed-groups.js');
      console.log(`\nmean ± std over seeds:\n${groupsTerminalTable(result.report.groups, width)}\n`);
    } else {
      console.log(`\n${summaryTerminalTable(result.report.table, width)}\n`);
    }
    console.log(`summary: ${result.report.files.map((f) => relative(process.cwd(), f)).join(', ')}`);
    for (const w of result.report.warnings) console.error(`warning: ${w}`);
  }
  const stopped = result.outcomes.filter((o) => o.status === 'interrupted' || o.status === 'pending');
  if (stopped.length > 0 && result.exitCode !== 0) {
    console.log(`${stopped.length} run(s) not finished; run the same command again to resume them from their last completed epoch: xrun ${argv.map(shellQuote).join(' ')}`);
  }
  const failed = result.outcomes.filter((o) => o.status === 'failed');
  if (failed.length > 0) console.error(`${failed.length} run(s) failed: ${failed.map((o) => o.id).join(', ')} (see run.json in each folder)`);
  return result.exitCode;
}

async function launchElsewhere(
  executor: 'slurm' | 'queue',
  plan: ExperimentPlan,
  selection: SelectOptions,
  values: { redis?: string; queue?: string; wait?: boolean },
): Promise<number> {
  const say = (line: string) => console.log(line);
  const wait = Boolean(values.wait);
  if (executor === 'slurm') {
    const { SlurmLauncher } = await import('../launch/slurm.js');
    return new SlurmLauncher({ wait, say }).launch(plan, selection);
  }
  const { QueueLauncher, redisUrl, DEFAULT_QUEUE } = await import('../launch/queue.js');
  const queue = values.queue ?? plan.experiment.runtime?.queue?.name ?? DEFAULT_QUEUE;
  return new QueueLauncher({ redis: redisUrl(values.redis, plan), queue, wait, say }).launch(plan, selection);
}

export function single(positionals: string[], usage: string): string {
  if (positionals.length !== 1) {
    throw new UsageError(positionals.length === 0 ? 'missing the experiment file' : `expected one experiment file, got ${positionals.length}`, {
      hint: usage,
    });
  }
  return positionals[0]!;
}

/** An argument as it would be typed in a POSIX shell, for commands printed to copy. */
function shellQuote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}
