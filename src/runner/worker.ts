/**
 * Worker process: trains exactly one run, sent by the parent over IPC. One tfjs
 * instance per process keeps runs independent (memory, backend state) and lets
 * `--jobs N` use N cores. Signals are the parent's business: it asks for a stop,
 * so a terminal Ctrl-C reaching the whole process group counts once. The trainer
 * yields to the event loop every few batches, so the stop message, a signal or the
 * parent's death is seen within a batch or two.
 */
import * as tf from '@tensorflow/tfjs';
import { releaseBackend } from '../train/backend.js';
import { executeRun, type RunEvent, type RunJob } from './execute-run.js';

export type ParentMessage = { type: 'run'; job: RunJob } | { type: 'stop' };

let stopping = false;
let running = false;
let finished = false;
tf.enableProdMode();

for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => (stopping = true));

// The parent died (crash, kill -9). Mid-run, stop like an interrupt: after the current
// batch, with run.json saying 'interrupted', rather than exiting in the middle of writing
// a checkpoint and leaving temporaries behind. Before or after a run there is nothing to save.
process.on('disconnect', () => {
  if (finished) return;
  if (!running) process.exit(1);
  stopping = true;
  // If training never reaches another batch (stuck loading data), do not linger as an orphan.
  setTimeout(() => process.exit(1), 30_000).unref();
});

const send = (event: RunEvent) => {
  // With a callback, a failed send (the parent just died) is reported here instead of
  // as an 'error' event, which would crash the worker mid-write.
  if (process.connected) process.send!(event, (err: Error | null) => {
    if (err) stopping = true;
  });
};

let lastBatchSent = 0;
process.on('message', (message: ParentMessage) => {
  if (message.type === 'stop') {
    stopping = true;
    return;
  }
  running = true;
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
  })
    // A GPU device left open keeps the process alive after its run.
    .finally(() => releaseBackend())
    .then(
      () => {
        finished = true;
        if (process.connected) process.disconnect();
      },
      (err: unknown) => {
        finished = true;
        console.error(err);
        process.exitCode = 1;
        if (process.connected) process.disconnect();
      },
    );
});
