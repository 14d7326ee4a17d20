import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { RunEvent, RunJob } from './execute-run.js';
import type { ParentMessage } from './worker.js';

export interface WorkerHandle {
  child: ChildProcess;
  /** Resolves with the worker's exit code once it has exited. */
  exited: Promise<number | null>;
  stop(): void;
  kill(): void;
  /** The last few KB the worker wrote to stderr, for the message of a run it did not report on. */
  readonly stderr: string;
}

/** Forks a worker for one run. From source (tests, tsx) the worker runs through tsx too. */
export function spawnWorker(job: RunJob, onEvent: (e: RunEvent) => void, env: NodeJS.ProcessEnv = process.env): WorkerHandle {
  const fromSource = import.meta.url.endsWith('.ts');
  const entry = fileURLToPath(new URL(fromSource ? './worker.ts' : './worker.js', import.meta.url));
  const child = fork(entry, [], {
    execArgv: fromSource ? ['--import', 'tsx'] : [],
    env,
    stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    // Kept for the failure message; tfjs' own chatter is not shown.
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  child.on('message', (m: RunEvent) => onEvent(m));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  child.send({ type: 'run', job } satisfies ParentMessage);
  return {
    child,
    exited,
    stop: () => {
      if (child.connected) child.send({ type: 'stop' } satisfies ParentMessage);
    },
    kill: () => child.kill('SIGKILL'),
    get stderr() {
      return stderr;
    },
  };
}
