/**
 * Trains one run named by its exact id, for a Slurm array task or a queue worker: takes
 * the run's lock, decides again against its folder (skip if completed, resume if
 * interrupted, start over if failed), trains it in a worker process, releases the lock.
 * The deciding happens under the lock, so two processes given the same run (a task
 * submitted twice, a job picked up again after its worker was killed) never both train it.
 */
import { basename } from 'node:path';
import type { AxisValue } from '../grid/expand.js';
import type { RunConfig } from '../config/resolve.js';
import type { PlannedRun } from '../config/load.js';
import { decideRuns } from '../runner/decide.js';
import { acquireRunLock, describeHolder, runLockFile, type LockHolder } from '../runner/lock.js';
import type { ProgressView } from '../runner/progress.js';
import { spawnWorker, type WorkerHandle } from '../runner/spawn-worker.js';
import { RunDir, type RunRecord } from '../store/run-dir.js';

export interface LaunchedRun {
  experiment: string;
  outputDir: string;
  id: string;
  dir: string;
  hash: string;
  config: RunConfig;
  values: AxisValue[];
}

export type TrainOutcome =
  | { status: 'completed' | 'failed' | 'interrupted'; message: string; record?: RunRecord }
  | { status: 'skipped'; message: string }
  | { status: 'locked'; message: string; holder: LockHolder };

/** Asks the runs in progress to stop after their current batch (or at once, on kill). */
export class Stopper {
  stopped = false;
  private readonly handles = new Set<WorkerHandle>();
  stop(): void {
    this.stopped = true;
    for (const h of this.handles) h.stop();
  }
  kill(): void {
    this.stopped = true;
    for (const h of this.handles) h.kill();
  }
  track(h: WorkerHandle): () => void {
    this.handles.add(h);
    if (this.stopped) h.stop();
    return () => this.handles.delete(h);
  }
}

export interface TrainOneOptions {
  stopper: Stopper;
  progress: ProgressView;
  env?: NodeJS.ProcessEnv;
  /** How long to wait for a live holder's lock before giving up ('locked'). */
  lockWaitMs?: number;
}

export async function trainOne(run: LaunchedRun, options: TrainOneOptions): Promise<TrainOutcome> {
  const { progress, stopper } = options;
  const attempt = await acquireRunLock(runLockFile(run.outputDir, run.id), { timeoutMs: options.lockWaitMs ?? 0 });
  if ('heldBy' in attempt) {
    return { status: 'locked', message: `being trained by ${describeHolder(attempt.heldBy)}`, holder: attempt.heldBy };
  }
  const { lock } = attempt;
  try {
    const planned: PlannedRun = { id: run.id, values: run.values, config: run.config, hash: run.hash };
    const [decision] = await decideRuns(run.outputDir, [planned], {});
    const { action, reason, dir, continueFrom } = decision!;
    if (action === 'skip') return { status: 'skipped', message: reason };
    if (action === 'conflict') return { status: 'failed', message: `its folder holds a different config: ${reason}` };
    // Usually the run's own folder; the decision may find the run elsewhere (by its hash).
    const store = new RunDir(dir);
    if (action === 'run') await store.clear();
    if (stopper.stopped) return { status: 'interrupted', message: 'stopped before it started' };
    progress.runStarted(run.id);
    // A worker process of its own for this one run (it draws the run's figure itself).
    const handle = spawnWorker(options.env);
    const running = handle.run(
      {
        experiment: run.experiment,
        // A run found under another folder keeps that folder's id and sweep values, as locally.
        id: basename(dir),
        dir,
        config: run.config,
        hash: run.hash,
        values: {
          ...(basename(dir) !== run.id ? decision!.record?.values : {}),
          ...Object.fromEntries(run.values.map((v) => [v.axis, v.value])),
        },
        resume: action === 'resume',
        ...(continueFrom ? { continueFrom } : {}),
      },
      (event) => progress.event(run.id, event),
    );
    const untrack = stopper.track(handle);
    lock.onLost(() => handle.kill());
    await lock.setWorker(handle.child.pid);
    const result = await running;
    untrack();
    await handle.close();
    if (lock.lost) {
      // Killed without writing anything more: the run's folder is the new holder's now.
      return { status: 'locked', message: 'lost its lock to another process (this one stalled past its lease)', holder: lock.holder };
    }
    let record = result.record;
    const code = result.exitCode;
    if (!record) {
      // The worker died without reporting (out of memory, killed): say why, keep its checkpoints.
      const stderr = handle.stderr.trim().split('\n').slice(-5).join('\n');
      const message = `worker process exited with code ${code}${stderr ? `: ${stderr}` : ''}`;
      const previous = await store.readRecord().catch(() => undefined);
      if (previous) {
        record = { ...previous, status: 'failed', endedAt: new Date().toISOString(), error: { message } };
        delete record.pid;
        await store.writeRecord(record);
      }
      return { status: 'failed', message, ...(record ? { record } : {}) };
    }
    const message =
      record.status === 'failed'
        ? (record.error?.message ?? 'failed')
        : record.final
          ? `epoch ${record.epochsCompleted}/${record.epochs}, test accuracy ${record.final.test_accuracy.toFixed(4)}`
          : `epoch ${record.epochsCompleted}/${record.epochs}`;
    return { status: record.status === 'completed' || record.status === 'failed' ? record.status : 'interrupted', message, record };
  } finally {
    await lock.release();
  }
}
