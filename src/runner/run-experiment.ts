/**
 * Runs an experiment's plan: decides what each run needs, trains the rest in worker
 * processes (`jobs` at a time, longest first), and rebuilds the experiment report. Each
 * pool slot keeps one long-lived worker that trains run after run; a worker that dies
 * fails only the run it was training and is replaced for the next.
 *
 * Ctrl-C / SIGTERM: the first asks every worker to stop after its current batch and
 * mark its run 'interrupted' (resumable); the second kills the workers at once. Either
 * way finished files stay intact: everything is written atomically.
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { stringify as yamlStringify } from 'yaml';
import { withDerivedClasses, type ExperimentPlan, type PlannedRun } from '../config/load.js';
import { DataError, UsageError } from '../errors.js';
import { formatDuration } from '../report/summary.js';
import type { ExperimentReport } from '../report/experiment-report.js';
import { OVERRIDES_PREFIX } from '../report/study.js';
import { removeStaleTemps, writeFileAtomic } from '../store/atomic.js';
import { modelShapeProblem } from '../config/semantics.js';
import { checkDatasets } from '../data/check.js';
import type { DatasetConfig } from '../data/datasets.js';
import { assertBackendInstalled, assertGpusUsable, GPU_ENV } from '../train/backend-check.js';
import { RunDir, type RunRecord, type RunStatus } from '../store/run-dir.js';
import { basename, dirname, join } from 'node:path';
import { assertNoConflicts, decideRuns, selectRuns, type Decision, type SelectOptions } from './decide.js';
import { describeHolder, runLockFile, tryAcquireRunLock, type RunLock } from './lock.js';
import { runPool } from './pool.js';
import type { ProgressView } from './progress.js';
import { FigureQueue } from './figures.js';
import { estimateCost, longestFirst } from './schedule.js';
import { spawnWorker, type WorkerHandle } from './spawn-worker.js';

export interface RunExperimentOptions extends SelectOptions {
  jobs: number;
  /** GPUs the worker slots use, round robin: adapter indexes (webgpu) or CUDA ids (tfjs-node-gpu). */
  gpus?: string[];
  progress: ProgressView;
  /** `--set` overrides of this invocation, recorded in experiment.yaml and summary.md. */
  overrides?: string[];
  /** Lease of each run's lock (default 60 s): how long another host waits on a holder that stopped renewing. */
  lockSeconds?: number;
  /**
   * A worker the caller started early (plain environment), so that its start-up (about half
   * a second of loading tfjs) overlaps the loading of the plan: pool slot 0 uses it when slot
   * 0 needs no GPU of its own. The caller closes it afterwards, used or not.
   */
  prestarted?: WorkerHandle;
}

export interface RunOutcome {
  id: string;
  status: RunStatus | 'skipped';
  record?: RunRecord;
}

export interface ExperimentResult {
  outcomes: RunOutcome[];
  /** 0 all good; 1 a run failed; 130/143 stopped by SIGINT/SIGTERM. */
  exitCode: number;
  report?: ExperimentReport;
}

export async function runExperiment(plan: ExperimentPlan, options: RunExperimentOptions): Promise<ExperimentResult> {
  const selected = selectRuns(plan.runs, options);
  if (selected.length === 0) {
    throw new UsageError(`no run of ${plan.name} matches the --only/--exclude patterns`, {
      hint: `run ids are listed by: xrun plan ${plan.file}`,
    });
  }
  // Bad input found before anything is written: an uninstalled backend, a missing data file.
  for (const backend of new Set(selected.map((r) => r.config.runtime.backend))) {
    assertBackendInstalled(backend);
    await assertGpusUsable(backend, options.gpus ?? []);
  }
  await checkPlanData(plan, selected);
  const decisions = await decideRuns(plan.outputDir, selected, options);
  assertNoConflicts(decisions);
  await mkdir(plan.outputDir, { recursive: true });
  // Each run is locked when it starts (runLocked), not the whole folder: array tasks, queue
  // workers and other xrun processes may train this experiment's other runs meanwhile.
  const locks = new Set<RunLock>();
  // Temporaries of the experiment-level files (summary, plots) that a hard kill left behind.
  await removeStaleTemps(plan.outputDir);
  await removeStaleTemps(join(plan.outputDir, 'plots'));
  const { progress } = options;
  const workers = new Set<WorkerHandle>();
  let stopSignal: NodeJS.Signals | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopSignal) {
      for (const w of workers) w.kill();
      for (const l of locks) l.releaseSync();
      process.exit(signal === 'SIGINT' ? 130 : 143);
    }
    stopSignal = signal;
    progress.note(`\n${signal}: stopping after the current batch (again to quit at once; finished files are safe)`);
    for (const w of workers) w.stop();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const outcomes = new Map<string, RunOutcome>();
  try {
    // Only the full experiment file describes the study; a run's own config.yaml (or a
    // copy of it) is one run of it and must not replace the study's description.
    if (!plan.isRunConfig) {
      await writeFileAtomic(
        join(plan.outputDir, 'experiment.yaml'),
        `# The experiment as last run (after --set overrides), from ${plan.file}\n` +
          (options.overrides?.length ? `${OVERRIDES_PREFIX}${JSON.stringify(options.overrides)}\n` : '') +
          yamlStringify(plan.experiment),
      );
    }
    progress.start(decisions.map((d) => ({ id: d.run.id, action: d.action as 'run' | 'resume' | 'skip', reason: d.reason })));
    for (const d of decisions) if (d.action === 'skip') outcomes.set(d.run.id, { id: d.run.id, status: 'skipped' });
    const figures = new FigureQueue();
    // A finished run whose figure was still waiting when the last command was killed.
    for (const d of decisions) {
      if (d.action === 'skip' && d.record?.status === 'completed' && !existsSync(join(d.dir, 'plots', 'training.png'))) {
        figures.add(d.dir, `${plan.name} / ${d.run.id}`);
      }
    }
    const todo = longestFirst(
      decisions.filter((d) => d.action !== 'skip'),
      (d) => estimateCost(d.run.config, d.action === 'resume' ? d.record?.epochsCompleted : 0),
    );
    // One worker per pool slot, started on its slot's first run and replaced if it dies.
    const lanes: WorkerHandle[] = [];
    const adopt = (lane: number, handle: WorkerHandle): WorkerHandle => {
      lanes[lane] = handle;
      workers.add(handle);
      void handle.exited.then(() => workers.delete(handle));
      return handle;
    };
    // The early worker has the plain environment: right for slot 0 unless workers get GPUs.
    if (options.prestarted && !options.gpus?.length) adopt(0, options.prestarted);
    const workerFor = (lane: number): WorkerHandle => {
      const existing = lanes[lane];
      if (existing?.alive) return existing;
      return adopt(lane, spawnWorker(workerEnv(lane, options.gpus, process.env)));
    };
    try {
      await runPool(
        todo,
        options.jobs,
        async (decision, lane) => {
          const outcome = await runLocked(plan, decision, () => workerFor(lane), options, locks, () => stopSignal !== undefined);
          if (outcome) outcomes.set(decision.run.id, outcome);
          if (outcome?.status === 'completed' || outcome?.status === 'failed') figures.add(decision.dir, `${plan.name} / ${decision.run.id}`);
        },
        () => stopSignal !== undefined,
      );
    } finally {
      await Promise.all(lanes.map((w) => w.close()));
      await figures.drain();
    }
    // Imported here: the plotting libraries are only needed once the runs are done.
    const { studyOrder, writeExperimentReport } = await import('../report/experiment-report.js');
    const planned = decisions.map((d) => basename(d.dir));
    const folders = plan.isRunConfig ? [...(await studyOrder(plan.outputDir)), ...planned] : planned;
    const report = await writeExperimentReport(plan, { overrides: options.overrides ?? [], folders });
    const list = decisions.map((d) => outcomes.get(d.run.id) ?? { id: d.run.id, status: 'pending' as const });
    const failed = list.some((o) => o.status === 'failed');
    const exitCode = stopSignal ? (stopSignal === 'SIGINT' ? 130 : 143) : failed ? 1 : 0;
    return { outcomes: list, exitCode, report };
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await progress.close();
  }
}

/**
 * Opens and checks every dataset file of the runs (exit 2 before anything is written when
 * one is bad) and fills in what only the data can say: the class count of idx runs.
 */
export async function checkPlanData(plan: ExperimentPlan, runs: PlannedRun[]): Promise<void> {
  const keyOf = (r: PlannedRun) => JSON.stringify(r.config.dataset);
  const datasets = new Map(runs.map((r) => [keyOf(r), r.config.dataset as DatasetConfig]));
  const shapes = await checkDatasets([...datasets.values()], dirname(plan.file));
  const shapeOf = new Map([...datasets.keys()].map((key, i) => [key, shapes[i]!]));
  for (const run of runs) {
    // Looked up before withDerivedClasses changes the dataset the key is made of.
    const shape = shapeOf.get(keyOf(run))!;
    withDerivedClasses(run, shape.classes);
    // Layer shapes of built-in datasets are checked with the file; idx image sizes are known now.
    const problem = modelShapeProblem(run.config, shape);
    if (problem) throw new DataError(`run ${run.id}: ${problem}`, { hint: 'change the model so each layer can take the shape it receives' });
  }
}

/**
 * The environment of the worker in pool slot `lane`: with `--gpus`, slot i uses GPU
 * gpus[i mod n], so `--gpus 0,1 --jobs 8` puts four workers on each. tfjs-node-gpu sees
 * only that GPU (CUDA_VISIBLE_DEVICES: TensorFlow takes every visible GPU); webgpu opens
 * that adapter index (XRUN_GPU).
 */
export function workerEnv(lane: number, gpus: string[] | undefined, env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  if (!gpus?.length) return env;
  const gpu = gpus[lane % gpus.length];
  return { ...env, CUDA_VISIBLE_DEVICES: gpu, [GPU_ENV]: gpu };
}

/**
 * Takes the run's lock, then decides again: between the plan and now another process
 * (an array task, a queue worker) may have finished the run, or be training it.
 */
async function runLocked(
  plan: ExperimentPlan,
  planned: Decision,
  worker: () => WorkerHandle,
  options: RunExperimentOptions,
  locks: Set<RunLock>,
  stopping: () => boolean,
): Promise<RunOutcome | undefined> {
  const { id } = planned.run;
  const attempt = await tryAcquireRunLock(runLockFile(plan.outputDir, id), options.lockSeconds ? { leaseSeconds: options.lockSeconds } : {});
  if ('heldBy' in attempt) {
    options.progress.runEnded(id, 'skipped', `being trained by ${describeHolder(attempt.heldBy)}`);
    return { id, status: 'skipped' };
  }
  const { lock } = attempt;
  locks.add(lock);
  try {
    const [decision] = await decideRuns(plan.outputDir, [planned.run], options);
    if (decision!.action === 'skip' || decision!.action === 'conflict') {
      options.progress.runEnded(id, 'skipped', decision!.reason);
      return { id, status: 'skipped' };
    }
    return await runOne(plan, decision!, worker, options, stopping, lock);
  } finally {
    locks.delete(lock);
    await lock.release();
  }
}

async function runOne(
  plan: ExperimentPlan,
  decision: Decision,
  worker: () => WorkerHandle,
  options: RunExperimentOptions,
  stopping: () => boolean,
  lock?: RunLock,
): Promise<RunOutcome | undefined> {
  const { run, dir } = decision;
  const store = new RunDir(dir);
  // A failed or forced run starts from an empty folder; a resumed one keeps its files.
  if (decision.action === 'run') await store.clear();
  // A signal that came in while the folder was cleared: this run never starts.
  if (stopping()) return undefined;
  options.progress.runStarted(run.id);
  // No await between the check above and the send, so a later signal's stop reaches this run.
  const handle = worker();
  const running = handle.run(
    {
      experiment: plan.name,
      // A run found under another folder keeps that folder's id, and the sweep values it
      // had (a run's own config.yaml has none), with this plan's added.
      id: basename(dir),
      dir,
      config: run.config,
      hash: run.hash,
      values: {
        ...(basename(dir) !== run.id ? decision.record?.values : {}),
        ...Object.fromEntries(run.values.map((v) => [v.axis, v.value])),
      },
      resume: decision.action === 'resume',
      ...(decision.continueFrom ? { continueFrom: decision.continueFrom } : {}),
      deferFigure: true,
    },
    (event) => options.progress.event(run.id, event),
  );
  // Another process took the run over (this one stalled past the lease): stop writing at once.
  lock?.onLost(() => handle.kill());
  await lock?.setWorker(handle.child.pid);
  const result = await running;
  if (lock?.lost) {
    options.progress.runEnded(run.id, 'skipped', 'lost its lock to another process (this one stalled past its lease)');
    return { id: run.id, status: 'skipped' };
  }
  let record = result.record;
  const code = result.exitCode;
  if (!record) {
    // The worker died without reporting (out of memory, killed): record why, keep its checkpoints.
    const stderr = handle.stderr.trim().split('\n').slice(-5).join('\n');
    const previous = await store.readRecord().catch(() => undefined);
    if (previous) {
      record = {
        ...previous,
        status: 'failed',
        endedAt: new Date().toISOString(),
        error: { message: `worker process exited with code ${code}${stderr ? `: ${stderr}` : ''}` },
      };
      delete record.pid;
      await store.writeRecord(record);
    }
    options.progress.runEnded(run.id, 'failed', record?.error?.message ?? `worker exited with code ${code}`);
    return { id: run.id, status: 'failed', ...(record ? { record } : {}) };
  }
  const message =
    record.status === 'failed'
      ? record.error?.message
      : record.status === 'completed' && record.final
        ? `test accuracy ${record.final.test_accuracy.toFixed(4)}, time ${formatDuration(record.trainingSeconds)}`
        : undefined;
  options.progress.runEnded(run.id, record.status, message);
  return { id: run.id, status: record.status, record };
}
