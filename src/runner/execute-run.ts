/**
 * Trains one run into its folder, start to finish or from its last checkpoint.
 * Runs inside a worker process (see worker.ts) but has no process-level concerns
 * itself, so tests can call it directly.
 */
import * as tf from '@tensorflow/tfjs';
import { configHashExceptEpochs, type RunConfig } from '../config/resolve.js';
import type { DatasetSource } from '../data/cache.js';
import { loadDataset, type DatasetConfig, type LoadedDataset } from '../data/datasets.js';
import { buildModel } from '../model/build.js';
import { trainingPlotSpec } from '../report/plots.js';
import { writePlot, writePlotSpec } from '../report/write-plot.js';
import { readCheckpoint, serializeCheckpoint, writeCheckpoint, type TrainingState } from '../store/checkpoint.js';
import { metricsColumns, type MetricsRow } from '../store/metrics-row.js';
import { RunDir, type RunRecord } from '../store/run-dir.js';
import { selectBackend, type BackendInfo } from '../train/backend.js';
import { assertFitsAdapter } from '../train/gpu-limits.js';
import { createOptimizer } from '../train/optimizer.js';
import { hasSchedule } from '../train/schedule.js';
import { NonFiniteLossError, StoppedError, train, type BatchProgress } from '../train/trainer.js';
import { confusionMatrix } from '../train/confusion.js';
import { writeConfusion } from '../store/confusion-csv.js';
import { machineInfo } from '../util/machine.js';

/** How often a long run's training figure is redrawn while it trains. */
const PLOT_REFRESH_MS = 60_000;

export interface RunJob {
  experiment: string;
  id: string;
  dir: string;
  config: RunConfig;
  hash: string;
  values: Record<string, unknown>;
  /** Continue from `checkpoints/last` when it belongs to this config. */
  resume: boolean;
  /** Hash of a shorter run of the same config whose checkpoint this run continues (training.epochs raised). */
  continueFrom?: string;
  /** The caller draws the final training figure (see runner/figures.ts); the run only keeps its spec current. */
  deferFigure?: boolean;
}

export type RunEvent =
  | { type: 'backend'; info: BackendInfo }
  | { type: 'resumed'; epoch: number }
  | { type: 'batch'; progress: BatchProgress }
  | { type: 'epoch'; row: MetricsRow; epochs: number }
  | { type: 'finished'; record: RunRecord };

export interface RunControl {
  emit(event: RunEvent): void;
  shouldStop(): boolean;
  /** Where the data comes from: a long-lived worker's cache, or a fresh load by default. */
  datasets?: DatasetSource;
}

export async function executeRun(job: RunJob, control: RunControl): Promise<RunRecord> {
  const store = new RunDir(job.dir);
  const { config } = job;
  const now = () => new Date().toISOString();
  const attemptStarted = performance.now();
  const previous = await store.readRecord().catch(() => undefined);
  const record: RunRecord = {
    id: job.id,
    experiment: job.experiment,
    status: 'running',
    hash: job.hash,
    values: job.values,
    seed: config.seed,
    epochs: config.training.epochs,
    epochsCompleted: 0,
    createdAt: previous?.createdAt ?? now(),
    startedAt: now(),
    trainingSeconds: 0,
    pid: process.pid,
  };
  let data: LoadedDataset | undefined;
  let plot = async () => {};
  let finalConfusion: number[][] | undefined;
  let model: tf.LayersModel | undefined;
  let optimizer: tf.Optimizer | undefined;
  try {
    const backend = await selectBackend(config.runtime.backend);
    control.emit({ type: 'backend', info: backend });
    record.backend = { requested: backend.requested, name: backend.name, notes: backend.notes };
    if (backend.adapter) {
      const { index, vendor, architecture, device, description, software } = backend.adapter;
      record.backend.adapter = { index, vendor, architecture, device, description, software };
    }
    record.versions = backend.versions;
    record.machine = machineInfo();
    const datasetOptions = { seed: config.seed, baseDir: '/' };
    data = await (control.datasets?.load(config.dataset as DatasetConfig, datasetOptions) ??
      loadDataset(config.dataset as DatasetConfig, datasetOptions));
    if (backend.adapter) assertFitsAdapter(data, backend.adapter);
    optimizer = createOptimizer(config.training);

    model = buildModel(config.models[config.model]!, data, config.seed);
    let resumed: TrainingState | undefined;
    if (job.resume) {
      try {
        resumed = await resumeFrom(store, job, model, optimizer);
      } catch {
        // Weights or optimiser state that do not fit this model: start over with fresh ones.
        model.dispose();
        optimizer.dispose();
        model = buildModel(config.models[config.model]!, data, config.seed);
        optimizer = createOptimizer(config.training);
      }
    }
    let startEpoch = 1;
    // The best epoch is chosen on validation accuracy; without a validation split nothing
    // is chosen (choosing on the test set would make its score optimistic).
    const selects = config.dataset.validation !== undefined;
    let best = -Infinity;
    if (resumed) {
      startEpoch = resumed.epoch + 1;
      best = resumed.bestValAccuracy ?? -Infinity;
      record.epochsCompleted = resumed.epoch;
      record.trainingSeconds = resumed.elapsedSeconds;
      record.final = resumed.metrics;
      record.best = previous?.best;
      record.startedAt = previous?.startedAt ?? record.startedAt;
      record.resumedAt = [...(previous?.resumedAt ?? []), resumed.epoch];
      // Continued with more epochs: the folder now holds the longer run, so its config says so.
      if (previous?.hash !== job.hash) await writeRunConfig(store, job);
      control.emit({ type: 'resumed', epoch: resumed.epoch });
    } else {
      await writeRunConfig(store, job);
      await store.resetMetrics([], metricsColumns({ validation: selects, lr: hasSchedule(config.training) }));
    }
    await store.writeRecord(record);

    const rows = await store.readMetrics();
    // Rendering a figure costs about as much as training a few hundred images, so a grid
    // of short runs would spend much of its time drawing: the figure is drawn when the
    // run ends, and refreshed during long runs at most once a minute; its Vega-Lite spec
    // (data inline) is rewritten every epoch.
    let plotted = rows.at(-1)?.epoch ?? 0;
    let lastPlotAt = performance.now();
    plot = async () => {
      if (rows.length === 0 || rows.at(-1)!.epoch === plotted) return;
      plotted = rows.at(-1)!.epoch;
      try {
        await writePlot(store.plotsDir, 'training', trainingPlotSpec(rows, `${job.experiment} / ${job.id}`));
      } catch (err) {
        // A figure is worth less than the run: note the problem, keep training.
        const warning = `plots/training could not be rendered: ${(err as Error).message}`;
        if (!record.warnings?.includes(warning)) {
          record.warnings = [...(record.warnings ?? []), warning];
          await store.writeRecord(record);
        }
      }
      lastPlotAt = performance.now();
    };
    await train({
      config,
      data,
      model,
      optimizer,
      startEpoch,
      elapsedBefore: record.trainingSeconds,
      history: [...rows],
      hooks: {
        onBatchEnd: (progress) => control.emit({ type: 'batch', progress }),
        shouldStop: () => control.shouldStop(),
        onConfusion: (counts) => (finalConfusion = counts),
        onEpochEnd: async (row) => {
          const isBest = selects && row.val_accuracy !== undefined && row.val_accuracy > best;
          if (isBest) best = row.val_accuracy!;
          const state: TrainingState = {
            epoch: row.epoch,
            elapsedSeconds: row.elapsed_seconds,
            hash: job.hash,
            hashExceptEpochs: configHashExceptEpochs(config),
            metrics: row,
            ...(selects ? { bestValAccuracy: best } : {}),
          };
          // Checkpoint first: a crash before the CSV row is repaired from state.json on resume.
          const artifacts = await serializeCheckpoint(model!, optimizer!, state);
          await writeCheckpoint(store.checkpoint('last'), artifacts);
          if (isBest) await writeCheckpoint(store.checkpoint('best'), artifacts);
          await store.appendMetrics(row);
          rows.push(row);
          record.epochsCompleted = row.epoch;
          record.trainingSeconds = row.elapsed_seconds;
          record.final = row;
          if (isBest) {
            record.best = { epoch: row.epoch, val_accuracy: row.val_accuracy!, test_accuracy: row.test_accuracy, test_loss: row.test_loss };
          }
          await store.writeRecord(record);
          if (performance.now() - lastPlotAt >= PLOT_REFRESH_MS) await plot();
          else await writePlotSpec(store.plotsDir, 'training', trainingPlotSpec(rows, `${job.experiment} / ${job.id}`));
          control.emit({ type: 'epoch', row, epochs: config.training.epochs });
        },
        onEarlyStop: async (stop) => {
          record.stoppedEarly = stop;
          await store.writeRecord(record);
        },
      },
    });
    // The report's confusion matrix: the final model on the test set, counted during the
    // last epoch's evaluation (a second pass would cost a tenth of a short run).
    await writeConfusion(job.dir, finalConfusion ?? (await confusionMatrix(model, data.test, data.classes)));
    if (!job.deferFigure) await plot();
    record.status = 'completed';
  } catch (err) {
    if (err instanceof StoppedError) {
      record.status = 'interrupted';
    } else {
      record.status = 'failed';
      const e = err instanceof Error ? err : new Error(String(err));
      record.error = { message: e.message, ...(err instanceof NonFiniteLossError ? {} : { stack: e.stack }) };
      // The epochs it did train, drawn (an interrupted run is drawn when it finishes).
      if (!job.deferFigure) await plot().catch(() => {});
    }
  } finally {
    model?.dispose();
    optimizer?.dispose();
    data?.dispose();
  }
  record.endedAt = now();
  record.durationSeconds = (performance.now() - attemptStarted) / 1000;
  delete record.pid;
  await store.writeRecord(record);
  control.emit({ type: 'finished', record });
  return record;
}

function writeRunConfig(store: RunDir, job: RunJob): Promise<void> {
  return store.writeConfig(job.config, `Resolved config of run '${job.id}' of experiment '${job.experiment}'.\nRun it on its own with: xrun ${store.configFile}`);
}

/**
 * Loads `checkpoints/last` if it belongs to this config and makes metrics.csv agree
 * with it: rows after the checkpoint (written by an epoch that did not finish
 * checkpointing) are dropped, and a row the crash kept from being appended is restored
 * from the checkpoint's state.
 */
async function resumeFrom(
  store: RunDir,
  job: RunJob,
  model: tf.LayersModel,
  optimizer: tf.Optimizer,
): Promise<TrainingState | undefined> {
  // The previous attempt may have been killed mid-write: clear what it left half done.
  await store.recover();
  const checkpoint = await readCheckpoint(store.checkpoint('last'));
  if (!checkpoint) return undefined;
  // The same config, or the same but for training.epochs (a run continued to more epochs;
  // the data order of each epoch depends only on (seed, epoch), so the longer run goes on exactly).
  const { state } = checkpoint;
  const sameRun =
    state.hash === job.hash ||
    (job.continueFrom !== undefined && state.hash === job.continueFrom) ||
    (state.hashExceptEpochs !== undefined && state.hashExceptEpochs === configHashExceptEpochs(job.config));
  if (!sameRun || state.epoch > job.config.training.epochs) return undefined;
  const epoch = checkpoint.state.epoch;
  const rows = (await store.readMetrics().catch(() => [])).filter((r) => r.epoch < epoch);
  const contiguous = rows.every((r, i) => r.epoch === i + 1) && rows.length === epoch - 1;
  if (!contiguous) return undefined;
  checkpoint.restoreWeights(model);
  await checkpoint.restoreOptimizer(optimizer);
  await store.resetMetrics([...rows, checkpoint.state.metrics]);
  return checkpoint.state;
}
