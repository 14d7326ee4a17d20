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
  if (process.platform !== 'linux') return false;
  try {
    // The state follows the command name in parentheses, which may itself contain ') '.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state === 'Z' || state === 'X';
  } catch {
    // /proc not mounted, or the process was collected between the two looks: kill(0) has spoken.
    return false;
  }
}
