/**
 * What was submitted where, kept in the experiment folder (`.xrun-launches.json`) so
 * that `xrun status` can ask Slurm or the queue about runs that have not finished.
 * Several submitters may append at once: the file is rewritten atomically, and at worst
 * a lost entry only means status shows less (the runs themselves are unaffected).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../store/atomic.js';

export type LaunchRecord =
  | { executor: 'slurm'; jobId: string; ids: string[]; script: string; submittedAt: string }
  | { executor: 'queue'; redis: string; queue: string; runs: { id: string; hash: string }[]; submittedAt: string };

const FILE = '.xrun-launches.json';
/** Older submissions than this many are forgotten: their runs have long finished or been resubmitted. */
const KEEP = 20;

export async function readLaunches(outputDir: string): Promise<LaunchRecord[]> {
  try {
    const list = JSON.parse(await readFile(join(outputDir, FILE), 'utf8')) as unknown;
    return Array.isArray(list) ? (list as LaunchRecord[]) : [];
  } catch {
    return [];
  }
}

export async function appendLaunch(outputDir: string, record: LaunchRecord): Promise<void> {
  const list = [...(await readLaunches(outputDir)), record].slice(-KEEP);
  await writeFileAtomic(join(outputDir, FILE), JSON.stringify(list, null, 2) + '\n');
}

/**
 * Each run's state in the scheduler that last took it ('slurm: pending', 'queue:
 * active'), for runs the scheduler still holds. Schedulers that cannot be reached are
 * reported once, under the key ''.
 */
export async function schedulerStates(outputDir: string): Promise<Map<string, string>> {
  const launches = await readLaunches(outputDir);
  const states = new Map<string, string>();
  const slurm = launches.filter((l) => l.executor === 'slurm');
  const queue = launches.filter((l) => l.executor === 'queue');
  if (slurm.length > 0) {
    const { slurmStates } = await import('./slurm.js');
    try {
      for (const [id, state] of await slurmStates(slurm)) states.set(id, `slurm: ${state}`);
    } catch (err) {
      states.set('', `slurm not reachable: ${(err as Error).message}`);
    }
  }
  if (queue.length > 0) {
    const { queueStates } = await import('./queue.js');
    try {
      for (const [id, state] of await queueStates(queue)) states.set(id, `queue: ${state}`);
    } catch (err) {
      states.set('', `queue not reachable: ${(err as Error).message}`);
    }
  }
  return states;
}
