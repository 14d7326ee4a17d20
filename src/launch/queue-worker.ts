/**
 * `xrun worker`: pulls runs from the queue and trains each in its own process. BullMQ
 * keeps a job's lock alive from this process's event loop, which training never blocks
 * (it runs in the child). Ctrl-C or SIGTERM: the runs in progress checkpoint after their
 * batch and go back to the queue for any worker to resume; a second signal quits at once.
 * A worker killed with kill -9 stops renewing: after `lockSeconds` its job counts as
 * stalled, another worker takes it, and the run resumes from its last checkpoint (the
 * orphaned training process stops on its own when it loses its parent).
 */
import { DelayedError, Worker, type Job } from 'bullmq';
import { hostname } from 'node:os';
import { DEFAULT_LEASE_SECONDS } from '../runner/lock.js';
import { PlainProgress } from '../runner/progress.js';
import { workerEnv } from '../runner/run-experiment.js';
import { trainOne, Stopper } from './job.js';
import type { Say } from './launcher.js';
import { connectionFor, reachable, type QueuedJob } from './queue.js';

export interface QueueWorkerOptions {
  redis: string;
  queue: string;
  jobs: number;
  gpus?: string[];
  /** BullMQ's job lock: how soon a killed worker's run is handed to another. */
  lockSeconds: number;
  say: Say;
}

export async function runQueueWorker(options: QueueWorkerOptions): Promise<number> {
  const { say } = options;
  const stopper = new Stopper();
  const progress = new PlainProgress(say);
  const freeLanes = Array.from({ length: options.jobs }, (_, i) => i);
  const processor = async (job: Job<QueuedJob>, token?: string) => {
    const lane = freeLanes.shift() ?? 0;
    try {
      const { run, report } = job.data;
      // A killed worker's training process may need a batch to notice and checkpoint:
      // wait for it (its lock shows it alive) rather than bounce the job around.
      const outcome = await trainOne(run, { stopper, progress, env: workerEnv(lane, options.gpus, process.env), lockWaitMs: DEFAULT_LEASE_SECONDS * 2000 });
      progress.runEnded(run.id, outcome.status, outcome.message);
      if (outcome.status !== 'locked' && outcome.status !== 'skipped') {
        const { writeExperimentReport } = await import('../report/experiment-report.js');
        await writeExperimentReport(report).catch((err: Error) => say(`warning: summary not rebuilt: ${err.message}`));
      }
      if (outcome.status === 'failed') throw new Error(outcome.message);
      if (outcome.status === 'interrupted' || outcome.status === 'locked') {
        // Hand the run back: due at once (or shortly, if someone else holds its lock).
        await job.moveToDelayed(Date.now() + (outcome.status === 'locked' ? 10_000 : 0), token);
        throw new DelayedError();
      }
      return { status: outcome.status, message: outcome.message, host: hostname(), pid: process.pid };
    } finally {
      freeLanes.push(lane);
    }
  };
  const worker = new Worker<QueuedJob>(options.queue, processor, {
    connection: connectionFor(options.redis),
    concurrency: options.jobs,
    lockDuration: options.lockSeconds * 1000,
    stalledInterval: Math.max(1000, (options.lockSeconds * 1000) / 2),
    // A run whose worker was killed more than this many times is failed rather than retried forever.
    maxStalledCount: 5,
    autorun: false,
  });
  worker.on('error', (err) => say(`worker: ${err.message}`));
  await reachable(worker, options.redis, 10_000);
  let stopping: Promise<void> | undefined;
  const done = new Promise<number>((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping) {
        stopper.kill();
        process.exit(signal === 'SIGINT' ? 130 : 143);
      }
      say(`${signal}: handing the runs in progress back to the queue after their current batch (again to quit at once)`);
      stopper.stop();
      stopping = worker.close().then(() => {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        resolve(0);
      });
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
  say(`worker ${hostname()} pid ${process.pid}: serving queue '${options.queue}' at ${options.redis}, ${options.jobs} run(s) at a time`);
  void worker.run();
  return done;
}
