/**
 * `--executor queue`: each pending run becomes a BullMQ job whose id is the run's config
 * hash, so a run is never queued twice; `xrun worker` processes on any machine that sees
 * the output folder (a shared filesystem: NFS, Lustre, a mounted bucket with POSIX
 * rename and hard links) pull and train them.
 */
import { Queue } from 'bullmq';
import type { ExperimentPlan } from '../config/load.js';
import { UsageError } from '../errors.js';
import type { SelectOptions } from '../runner/decide.js';
import type { LaunchedRun } from './job.js';
import type { Launcher, Say } from './launcher.js';
import { decidePending, launchedRun, reportInput, writeExperimentFiles } from './prepare.js';
import { appendLaunch, type LaunchRecord } from './records.js';
import { finishWaiting } from './wait.js';

export const DEFAULT_QUEUE = 'xrun';

export interface QueuedJob {
  run: LaunchedRun;
  report: ReturnType<typeof reportInput>;
}

/** Jobs still in the queue (waiting, delayed, active). */
const LIVE = new Set(['waiting', 'delayed', 'prioritized', 'active', 'waiting-children']);

export function connectionFor(url: string) {
  // No retry limit per command: a worker survives a Redis restart instead of crashing.
  return { url, maxRetriesPerRequest: null } as const;
}

export function openQueue(url: string, name: string): Queue<QueuedJob> {
  const queue = new Queue<QueuedJob>(name, { connection: connectionFor(url) });
  queue.on('error', () => {});
  return queue;
}

/** Resolves once Redis answers; rejects after `ms` (the client itself would retry forever). */
export async function reachable(queue: { waitUntilReady(): Promise<unknown> }, url: string, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      queue.waitUntilReady(),
      new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer from ${url} within ${ms / 1000} s`)), ms))),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

export function redisUrl(flag: string | undefined, plan: ExperimentPlan): string {
  const url = flag ?? plan.experiment.runtime?.queue?.redis ?? process.env.XRUN_REDIS;
  if (!url) throw new UsageError('--executor queue needs a Redis URL', { hint: 'pass --redis redis://HOST:PORT, or set runtime.queue.redis' });
  if (!/^rediss?:\/\//.test(url)) throw new UsageError(`--redis must be a redis:// URL, got '${url}'`);
  return url;
}

export interface QueueLauncherOptions {
  redis: string;
  queue: string;
  wait: boolean;
  say: Say;
  pollMs?: number;
}

export class QueueLauncher implements Launcher {
  readonly executor = 'queue' as const;
  constructor(private readonly options: QueueLauncherOptions) {}

  async launch(plan: ExperimentPlan, selection: SelectOptions): Promise<number> {
    const { say, redis } = this.options;
    const decisions = await decidePending(plan, selection);
    const todo = decisions.filter((d) => d.action !== 'skip');
    const queue = openQueue(redis, this.options.queue);
    try {
      await reachable(queue, redis, 10_000).catch((err: Error) => {
        throw new UsageError(`cannot reach Redis at ${redis}: ${err.message}`, { hint: 'is redis-server running there, and reachable from here?' });
      });
      await writeExperimentFiles(plan);
      const report = reportInput(plan);
      let added = 0;
      for (const d of todo) {
        const existing = await queue.getJob(d.run.hash);
        if (existing) {
          const state = await existing.getState();
          if (LIVE.has(state)) {
            say(`  ${d.run.id}: already queued (${state})`);
            continue;
          }
          await existing.remove().catch(() => {});
        }
        // The hash as job id: BullMQ ignores a second add of a live id, so two submitters
        // racing here still queue the run once.
        await queue.add(d.run.id, { run: launchedRun(plan, d), report }, { jobId: d.run.hash, removeOnComplete: true, removeOnFail: true });
        added++;
      }
      const record: LaunchRecord = {
        executor: 'queue',
        redis,
        queue: this.options.queue,
        runs: todo.map((d) => ({ id: d.run.id, hash: d.run.hash })),
        submittedAt: new Date().toISOString(),
      };
      await appendLaunch(plan.outputDir, record);
      say(`${plan.name}: ${decisions.length} run(s): ${added} queued on '${this.options.queue}' at ${redis}, ${todo.length - added} already queued, ${decisions.length - todo.length} skipped (completed)`);
      if (!this.options.wait) {
        say(`start workers with: xrun worker --redis ${redis}${this.options.queue === DEFAULT_QUEUE ? '' : ` --queue ${this.options.queue}`}`);
        return 0;
      }
      say('waiting for the queued runs to finish (Ctrl-C stops waiting, not the runs)');
      for (;;) {
        const states = await Promise.all(todo.map(async (d) => (await queue.getJob(d.run.hash))?.getState()));
        if (states.every((s) => s === undefined || !LIVE.has(s))) break;
        await new Promise((r) => setTimeout(r, this.options.pollMs ?? 2000));
      }
      return await finishWaiting(plan, decisions, say);
    } finally {
      await queue.close();
    }
  }
}

/** Run id -> 'queued' / 'active', for runs still in their queue. */
export async function queueStates(launches: Extract<LaunchRecord, { executor: 'queue' }>[]): Promise<Map<string, string>> {
  const states = new Map<string, string>();
  const byQueue = new Map<string, typeof launches>();
  for (const l of launches) byQueue.set(`${l.redis} ${l.queue}`, [...(byQueue.get(`${l.redis} ${l.queue}`) ?? []), l]);
  for (const group of byQueue.values()) {
    const queue = openQueue(group[0]!.redis, group[0]!.queue);
    try {
      // Fail fast: status should not hang on a Redis that is gone.
      await reachable(queue, group[0]!.redis, 3000);
      for (const { id, hash } of group.flatMap((l) => l.runs)) {
        const state = await (await queue.getJob(hash))?.getState();
        if (state === 'active') states.set(id, 'active');
        else if (state && LIVE.has(state)) states.set(id, 'queued');
      }
    } finally {
      await queue.close().catch(() => {});
    }
  }
  return states;
}
