/**
 * The training loop: one epoch at a time over tensors that already hold the whole
 * normalised dataset. A batch is a `gather` by shuffled indices on the backend, so no
 * pixel passes through JS after loading. Everything random is derived from
 * (seed, epoch, batch), which is what makes a resumed run identical to an unbroken one.
 */
import * as tf from '@tensorflow/tfjs';
import type { RunConfig } from '../config/resolve.js';
import type { LoadedDataset, Split } from '../data/datasets.js';
import { seededDropoutLayers } from '../model/seeded-dropout.js';
import type { MetricsRow } from '../store/metrics-row.js';
import { deriveSeed, shuffledIndices } from '../util/random.js';
import { BatchStatsReader, readPairs, type BatchStat } from './batch-stats.js';
import { throwIfDeviceFailed } from './device-errors.js';
import { earlyStopAfter, type EarlyStop } from './early-stopping.js';
import { hasSchedule, learningRateAt, setLearningRate } from './schedule.js';

export interface BatchProgress {
  epoch: number;
  epochs: number;
  batch: number;
  batches: number;
  /** Running means over this epoch so far. */
  loss: number;
  accuracy: number;
  /** Seconds since this epoch started. */
  seconds: number;
}

/** Hooks in the order they fire; all optional (reporters implement what they need). */
export interface TrainHooks {
  onBatchEnd?(progress: BatchProgress): void;
  /** Awaited before the next epoch starts: checkpoints and the CSV row are written here. */
  onEpochEnd?(row: MetricsRow): Promise<void> | void;
  /** Polled after every batch; true abandons the epoch in progress. */
  shouldStop?(): boolean;
  /** Early stopping ended training after `stop.epoch` (fires instead of the next epoch). */
  onEarlyStop?(stop: EarlyStop): Promise<void> | void;
  /**
   * The last epoch's test-set confusion matrix (counts[true][predicted]), from the same
   * forward pass as its test metrics; fired before that epoch's onEpochEnd.
   */
  onConfusion?(counts: number[][]): void;
}

export class NonFiniteLossError extends Error {
  constructor(readonly epoch: number, readonly batch: number) {
    super(`loss became NaN or infinite at epoch ${epoch}, batch ${batch}; try a lower training.learningRate`);
  }
}

export class StoppedError extends Error {
  constructor() {
    super('training stopped on request');
  }
}

export interface TrainOptions {
  config: RunConfig;
  data: LoadedDataset;
  model: tf.LayersModel;
  optimizer: tf.Optimizer;
  /** First epoch to run (1-based); > 1 when resuming. */
  startEpoch?: number;
  /** Training seconds already spent before a resume. */
  elapsedBefore?: number;
  hooks?: TrainHooks;
  /** Batch size for evaluation (memory only; does not change results). */
  evalBatchSize?: number;
  /** Batches between reads of the loss and accuracy (timing only; does not change results). */
  readEvery?: number;
  /** Metrics of the epochs before `startEpoch`, for early stopping across a resume. */
  history?: MetricsRow[];
}

/** The per-step parts of the training recipe. */
export interface StepRecipe {
  labelSmoothing: number;
  clipNorm: number;
  /** Decoupled weight decay already multiplied by the epoch's rate. */
  decay: number;
}

/**
 * On a GPU a read waits for the queue to empty, so results are read a few batches at a
 * time; on wasm and cpu a read is free, and reading every batch keeps progress exact.
 */
function defaultReadEvery(): number {
  return tf.getBackend() === 'webgpu' ? 4 : 1;
}

export async function train(options: TrainOptions): Promise<MetricsRow[]> {
  const { config, data, model, optimizer, hooks = {} } = options;
  const { epochs, batchSize } = config.training;
  const classes = data.classes;
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const dropouts = seededDropoutLayers(model);
  const rows: MetricsRow[] = [];
  let elapsed = options.elapsedBefore ?? 0;
  const training = config.training;
  const history = [...(options.history ?? [])];
  const early = training.earlyStopping;
  // A run stopped early, then resumed (killed before it was marked completed), stays stopped.
  const stoppedBefore = early && history.length > 0 ? earlyStopAfter(history, early) : undefined;
  if (stoppedBefore) {
    await hooks.onEarlyStop?.(stoppedBefore);
    return rows;
  }
  const scheduled = hasSchedule(training);

  for (let epoch = options.startEpoch ?? 1; epoch <= epochs; epoch++) {
    const started = performance.now();
    const rate = learningRateAt(training, epoch);
    if (scheduled) setLearningRate(optimizer, rate);
    const recipe: StepRecipe = {
      labelSmoothing: training.labelSmoothing ?? 0,
      clipNorm: training.clipNorm ?? 0,
      decay: rate * (training.weightDecay ?? 0),
    };
    const order = shuffledIndices(data.train.count, deriveSeed(config.seed, 'shuffle', epoch));
    const batches = Math.ceil(data.train.count / batchSize);
    let lossSum = 0;
    let correct = 0;
    let seen = 0;
    let lastYield = performance.now();
    // Batches are read back in groups (see batch-stats.ts); sums and NaN checks follow the
    // batch order exactly, so only when they happen changes, not what they compute.
    const reader = new BatchStatsReader(options.readEvery ?? defaultReadEvery());
    const account = (stats: BatchStat[]) => {
      for (const s of stats) {
        if (!Number.isFinite(s.loss)) {
          reader.dispose();
          throw new NonFiniteLossError(epoch, s.batch);
        }
        lossSum += s.loss * s.size;
        correct += s.hits;
        seen += s.size;
      }
      const last = stats[stats.length - 1];
      if (!last) return;
      hooks.onBatchEnd?.({
        epoch,
        epochs,
        batch: last.batch,
        batches,
        loss: lossSum / seen,
        accuracy: correct / seen,
        seconds: (performance.now() - started) / 1000,
      });
    };
    for (let b = 0; b < batches; b++) {
      const idx = order.subarray(b * batchSize, Math.min((b + 1) * batchSize, data.train.count));
      for (const d of dropouts) d.setStepSeed(deriveSeed(config.seed, 'dropout', d.name, epoch, b));
      reader.add(trainStep(model, optimizer, vars, data.train, idx, classes, recipe), b + 1, idx.length);
      if (reader.due) account(await reader.rotate());
      // Without a turn of the event loop now and then, a stop request, a signal or the
      // parent's death would only be noticed between epochs (wasm and cpu never wait).
      if (performance.now() - lastYield > 50) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        lastYield = performance.now();
      }
      if (hooks.shouldStop?.()) {
        reader.dispose();
        throw new StoppedError();
      }
    }
    account(await reader.drain());
    const val = data.validation ? await evaluate(model, data.validation, classes, options.evalBatchSize ?? 500) : undefined;
    const confusion = hooks.onConfusion && epoch === epochs ? emptyConfusion(classes) : undefined;
    const test = await evaluate(model, data.test, classes, options.evalBatchSize ?? 500, confusion);
    const seconds = (performance.now() - started) / 1000;
    elapsed += seconds;
    const row: MetricsRow = {
      epoch,
      train_loss: lossSum / seen,
      train_accuracy: correct / seen,
      ...(val ? { val_loss: val.loss, val_accuracy: val.accuracy } : {}),
      test_loss: test.loss,
      test_accuracy: test.accuracy,
      ...(scheduled ? { lr: rate } : {}),
      epoch_seconds: seconds,
      elapsed_seconds: elapsed,
    };
    rows.push(row);
    history.push(row);
    if (confusion) hooks.onConfusion!(confusion);
    await hooks.onEpochEnd?.(row);
    const stop = early ? earlyStopAfter(history, early) : undefined;
    if (stop?.epoch === epoch && epoch < epochs) {
      await hooks.onEarlyStop?.(stop);
      break;
    }
  }
  return rows;
}

/** One optimiser step; returns [mean loss, correct count] as a tensor the caller disposes (also used by bench/gpu.ts). */
export function trainStep(
  model: tf.LayersModel,
  optimizer: tf.Optimizer,
  vars: tf.Variable[],
  split: Split,
  idx: Int32Array,
  classes: number,
  recipe: StepRecipe = { labelSmoothing: 0, clipNorm: 0, decay: 0 },
): tf.Tensor1D {
  return tf.tidy(() => {
    const indices = tf.tensor1d(idx, 'int32');
    const x = tf.gather(split.x, indices);
    const labels = tf.gather(split.y, indices);
    const onehot = tf.oneHot(labels, classes);
    let hits: tf.Scalar | undefined;
    const lossFn = () => {
      const logits = model.apply(x, { training: true }) as tf.Tensor2D;
      hits = tf.keep(tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), labels), 'float32'))) as tf.Scalar;
      return tf.losses.softmaxCrossEntropy(onehot, logits, undefined, recipe.labelSmoothing) as tf.Scalar;
    };
    let loss: tf.Scalar;
    if (recipe.clipNorm > 0) {
      const { value, grads } = optimizer.computeGradients(lossFn, vars);
      optimizer.applyGradients(clipByGlobalNorm(grads, recipe.clipNorm));
      loss = value;
    } else {
      loss = optimizer.minimize(lossFn, true, vars)!;
    }
    // Decoupled weight decay (Loshchilov & Hutter's AdamW): kernels only, not biases or
    // normalisation scales, shrunk after the optimiser's own update.
    if (recipe.decay > 0) {
      for (const v of vars) if (v.rank >= 2) v.assign(tf.mul(v, 1 - recipe.decay));
    }
    const stats = tf.stack([loss, hits!]) as tf.Tensor1D;
    // tf.keep lifted `hits` out of minimize's scope; this tidy would not free it.
    hits!.dispose();
    return stats;
  });
}

/** Scales all gradients together so their global L2 norm is at most `maxNorm`. */
function clipByGlobalNorm(grads: tf.NamedTensorMap, maxNorm: number): tf.NamedTensorMap {
  const list = Object.values(grads);
  const norm = tf.sqrt(tf.addN(list.map((g) => tf.sum(tf.square(g)))));
  const scale = tf.div(maxNorm, tf.maximum(norm, maxNorm));
  return Object.fromEntries(Object.entries(grads).map(([name, g]) => [name, tf.mul(g, scale)]));
}

function emptyConfusion(classes: number): number[][] {
  return Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
}

/** Test loss and accuracy; with `confusion`, also counts [true][predicted] into it from the same pass. */
export async function evaluate(
  model: tf.LayersModel,
  split: Split,
  classes: number,
  batchSize = 500,
  confusion?: number[][],
): Promise<{ loss: number; accuracy: number }> {
  const pairs: tf.Tensor[] = [];
  const predictions: tf.Tensor[] = [];
  for (let start = 0; start < split.count; start += batchSize) {
    const size = Math.min(batchSize, split.count - start);
    pairs.push(
      tf.tidy(() => {
        const x = tf.slice(split.x, [start, 0, 0, 0], [size, -1, -1, -1]);
        const labels = tf.slice(split.y, [start], [size]);
        const logits = model.apply(x, { training: false }) as tf.Tensor2D;
        const loss = tf.losses.softmaxCrossEntropy(tf.oneHot(labels, classes), logits, undefined, undefined, tf.Reduction.SUM) as tf.Scalar;
        const predicted = tf.argMax(logits, 1);
        const hits = tf.sum(tf.cast(tf.equal(predicted, labels), 'float32'));
        if (confusion) predictions.push(tf.keep(tf.stack([tf.cast(labels, 'int32'), tf.cast(predicted, 'int32')])));
        return tf.stack([loss, hits]);
      }),
    );
  }
  // One asynchronous transfer for all batches (a synchronous read cannot reach a GPU in Node).
  const values = await readPairs(pairs);
  throwIfDeviceFailed();
  if (confusion && predictions.length > 0) await countConfusion(predictions, confusion, classes);
  let lossSum = 0;
  let correct = 0;
  for (let i = 0; i < pairs.length; i++) {
    lossSum += values[2 * i]!;
    correct += values[2 * i + 1]!;
  }
  return { loss: lossSum / split.count, accuracy: correct / split.count };
}

/** Adds each [label; prediction] column of the batches to counts[label][prediction], in one read. */
async function countConfusion(batches: tf.Tensor[], counts: number[][], classes: number): Promise<void> {
  const joined = batches.length === 1 ? batches[0]! : tf.concat(batches, 1);
  try {
    const values = await joined.data();
    const n = joined.shape[1]!;
    for (let i = 0; i < n; i++) {
      const row = counts[values[i]!];
      const guess = values[n + i]!;
      if (row && guess < classes) row[guess]! += 1;
    }
  } finally {
    if (joined !== batches[0]) joined.dispose();
    for (const b of batches) b.dispose();
  }
}
