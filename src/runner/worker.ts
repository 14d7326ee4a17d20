/**
 * Worker process: trains run after run, each sent by the parent over IPC, one at a
 * time. The backend is initialised once and datasets stay loaded between runs (by
 * dataset config), so a grid of short runs pays for process start and data decoding
 * once per worker rather than once per run. Runs stay independent: each builds its own
 * model and optimiser from seeds and frees them when it ends.
 *
 * Signals are the parent's business: it asks for a stop, so a terminal Ctrl-C reaching
 * the whole process group counts once. The trainer yields to the event loop every few
 * batches, so the stop message, a signal or the parent's death is seen within a batch
 * or two. A run that crashes the process fails alone: the parent records it and starts
 * a fresh worker for the next run.
 */
import * as tf from '@tensorflow/tfjs';
import { DatasetCache } from '../data/cache.js';
import { releaseBackend } from '../train/backend.js';
import { executeRun, type RunEvent, type RunJob } from './execute-run.js';

export type ParentMessage = { type: 'run'; job: RunJob } | { type: 'stop' };

let stopping = false;
let running = false;
const datasets = new DatasetCache();
tf.enableProdMode();

for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => (stopping = true));

// The parent closed the channel (done, or it died: crash, kill -9). Idle, there is nothing
// to save. Mid-run, stop like an interrupt: after the current batch, with run.json saying
// 'interrupted', rather than exiting in the middle of writing a checkpoint.
process.on('disconnect', () => {
  if (!running) exit(0);
  stopping = true;
  // If training never reaches another batch (stuck loading data), do not linger as an orphan.
  setTimeout(() => process.exit(1), 30_000).unref();
});

/** The backend stays set up from run to run; a GPU device is handed back only on the way out. */
function exit(code: number): never {
  try {
    releaseBackend();
  } finally {
    process.exit(code);
  }
}

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
    // Only a run in progress has anything to stop; the parent sends no run after a stop.
    if (running) stopping = true;
    return;
  }
  if (running) {
    console.error(`worker: run ${message.job.id} received while another run is in progress`);
    process.exit(1);
  }
  running = true;
  stopping = false;
  void executeRun(message.job, {
    shouldStop: () => stopping,
    datasets,
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
      running = false;
      // The parent went away during the run: this run is saved, no other will come.
      if (!process.connected) exit(0);
    },
    (err: unknown) => {
      // Could not even record the run's state (disk full, folder removed): let the
      // parent see a dead worker, which fails this run alone.
      console.error(err);
      process.exit(1);
    },
  );
});
