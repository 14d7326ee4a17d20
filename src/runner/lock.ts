/**
 * One xrun at a time per output folder: two would train and write the same runs.
 * The lock file holds the owner's pid; a lock whose process is gone (crash, kill -9)
 * is taken over.
 */
import { readFileSync, rmSync } from 'node:fs';
import { open, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { RunStoreError } from '../errors.js';
import { processAlive } from '../util/process-alive.js';

export interface Lock {
  release(): Promise<void>;
  releaseSync(): void;
}

export async function acquireLock(dir: string): Promise<Lock> {
  const file = join(dir, '.xrun.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fh = await open(file, 'wx');
      await fh.writeFile(String(process.pid));
      await fh.close();
      const mine = () => {
        try {
          return readFileSync(file, 'utf8').trim() === String(process.pid);
        } catch {
          return false;
        }
      };
      return {
        release: async () => {
          if (mine()) await rm(file, { force: true });
        },
        releaseSync: () => {
          if (mine()) rmSync(file, { force: true });
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const pid = Number((await readFile(file, 'utf8').catch(() => '')).trim());
      if (pid > 0 && pid !== process.pid && processAlive(pid)) {
        throw new RunStoreError(`another xrun (pid ${pid}) is running this experiment in ${dir}`, {
          hint: `wait for it to finish, or stop it; if no xrun is running, delete ${file}`,
        });
      }
      await rm(file, { force: true });
    }
  }
  throw new RunStoreError(`could not take the lock ${file}`);
}
