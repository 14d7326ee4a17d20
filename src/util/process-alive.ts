import { readFileSync } from 'node:fs';

/**
 * Whether a process with this pid exists and has not exited (EPERM: it exists but belongs
 * to someone else). A zombie counts as exited: the process is gone, only its exit status
 * waits to be collected, and where nothing collects it (a container whose first process
 * does not reap orphans) a killed worker would otherwise look alive until reboot.
 */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  return !isZombie(pid);
}

function isZombie(pid: number): boolean {
  // No /proc (not Linux, not mounted), or the process was collected between the two looks:
  // kill(0) has spoken.
  const state = procStat(pid)?.[0];
  return state === 'Z' || state === 'X';
}

/**
 * The fields of `/proc/<pid>/stat` after the command name, so field 3 of proc(5) (the state)
 * is `[0]`; undefined where there is no such file. The name is in parentheses and may itself
 * contain ') ', hence the split at the last one.
 */
export function procStat(pid: number | 'self'): string[] | undefined {
  if (process.platform !== 'linux') return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}
