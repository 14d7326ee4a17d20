/**
 * Worker process: trains exactly one run, sent by the parent over IPC. One tfjs
 * instance per process keeps runs independent (memory, backend state) and lets
 * `--jobs N` use N cores. Signals are the parent's business: it asks for a stop
 * over IPC, so a terminal Ctrl-C reaching the whole process group counts once.
 */
import * as tf from '@tensorflow/tfjs';
import { executeRun, type RunEvent, type RunJob } from './execute-run.js';

export type ParentMessage = { type: 'run'; job: RunJob } | { type: 'stop' };

let stopping = false;
let finished = false;
tf.enableProdMode();

for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => (stopping = true));

// The parent died (crash, kill -9): stop at once. Files are written atomically, and the
// next start sees a 'running' run whose process is gone and resumes it.
process.on('disconnect', () => {
  if (!finished) process.exit(1);
});

const send = (event: RunEvent) => {
  if (process.connected) process.send!(event);
};

let lastBatchSent = 0;
process.on('message', (message: ParentMessage) => {
  if (message.type === 'stop') {
    stopping = true;
    return;
  }
  void executeRun(message.job, {
    shouldStop: () => stopping,
    emit(event) {
      // Batch progress is only for display: a few updates a second are plenty.
      if (event.type === 'batch') {
        const now = performance.now();
        const last = event.progress.batch === event.progress.batches;
        if (!last && now - lastBatchSent < 200) return;
        lastBatchSent = now;
      }
      send(event);
    },
  }).then(
    () => {
      finished = true;
      process.disconnect();
    },
    (err: unknown) => {
      finished = true;
      console.error(err);
      process.exitCode = 1;
      process.disconnect();
    },
  );
});
