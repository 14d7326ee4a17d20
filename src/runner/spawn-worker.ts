import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { RunRecord } from '../store/run-dir.js';
import type { RunEvent, RunJob } from './execute-run.js';
import type { ParentMessage } from './worker.js';

/** How one run on a worker ended: its record, or the exit code of a worker that died without one. */
export interface WorkerRunResult {
  record?: RunRecord;
  /** Set when the worker exited during the run. */
  exitCode?: number | null;
}

export interface WorkerHandle {
  child: ChildProcess;
  /** Resolves with the worker's exit code once it has exited. */
  exited: Promise<number | null>;
  /** False once the process has exited (crashed, killed or closed). */
  readonly alive: boolean;
  /** Trains one run on this worker; one at a time. */
  run(job: RunJob, onEvent: (e: RunEvent) => void): Promise<WorkerRunResult>;
  /** Asks the run in progress to stop after its current batch. */
  stop(): void;
  /** Ends the process at once. */
  kill(): void;
  /** Lets an idle worker exit; resolves once it has. */
  close(): Promise<number | null>;
  /** The last few KB the worker wrote to stderr, for the message of a run it did not report on. */
  readonly stderr: string;
}

/**
 * Forks a long-lived worker that trains the runs given to `run()`, one after another.
 * From source (tests, tsx) the worker runs through tsx too.
 */
export function spawnWorker(env: NodeJS.ProcessEnv = process.env): WorkerHandle {
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
  let alive = true;
  let current: { onEvent: (e: RunEvent) => void; settle: (r: WorkerRunResult) => void } | undefined;
  child.on('message', (m: RunEvent) => {
    if (!current) return;
    current.onEvent(m);
    if (m.type === 'finished') {
      const { settle } = current;
      current = undefined;
      settle({ record: m.record });
    }
  });
  const exited = new Promise<number | null>((resolve) =>
    child.on('exit', (code) => {
      alive = false;
      // A run in progress when the process died never reported its end.
      if (current) {
        const { settle } = current;
        current = undefined;
        settle({ exitCode: code });
      }
      resolve(code);
    }),
  );
  // A send to a worker that just died surfaces as 'exit' above; do not crash the parent.
  child.on('error', () => {});
  return {
    child,
    exited,
    get alive() {
      return alive;
    },
    run(job, onEvent) {
      if (current) throw new Error(`worker ${child.pid} is already training a run`);
      if (!alive) return Promise.resolve({ exitCode: child.exitCode });
      return new Promise<WorkerRunResult>((settle) => {
        current = { onEvent, settle };
        child.send({ type: 'run', job } satisfies ParentMessage);
      });
    },
    stop: () => {
      if (child.connected) child.send({ type: 'stop' } satisfies ParentMessage);
    },
    kill: () => child.kill('SIGKILL'),
    close: () => {
      if (child.connected) child.disconnect();
      return exited;
    },
    get stderr() {
      return stderr;
    },
  };
}
