/**
 * Loads an experiment's dataset into four tensors, once. Everything per-example
 * (subset choice, normalisation, float conversion) happens here in a single pass,
 * so the trainer only gathers batches from ready tensors.
 */
import * as tf from '@tensorflow/tfjs';
import { DataError } from '../errors.js';
import { deriveSeed, shuffledIndices } from '../util/random.js';
import { locateDataset, type Source } from './locate.js';
import { readSplits, type RawSplit } from './raw-split.js';

export { FASHION_MNIST_DIR, checkDatasetFiles } from './locate.js';

export type Normalise = { mean: number; std: number } | 'minmax' | 'none';
export interface Subset {
  train?: number;
  test?: number;
}
export type DatasetConfig = (
  | { name: 'mnist'; normalise: Normalise; subset?: Subset }
  | { name: 'fashion-mnist'; dir?: string; normalise: Normalise; subset?: Subset }
  | {
      name: 'idx';
      train: { images: string; labels: string };
      test: { images: string; labels: string };
      classes?: number;
      normalise: Normalise;
      subset?: Subset;
    }
) & {
  /** Held out of the training split: a count (>= 1) or a fraction (< 1). */
  validation?: number;
};

export interface Split {
  /** [N, H, W, 1] float32, normalised. */
  x: tf.Tensor4D;
  /** [N] int32 class labels. */
  y: tf.Tensor1D;
  count: number;
}

export interface LoadedDataset {
  name: string;
  train: Split;
  /** Carved from the training split by the seed, when the config asks for it. */
  validation?: Split;
  test: Split;
  height: number;
  width: number;
  classes: number;
  /** Absolute paths actually read, keyed `train.images`, `train.labels`, `test.images`, `test.labels`. */
  files: Record<string, string>;
  dispose(): void;
}

/** Reads a located dataset's files; a long-lived worker passes one that keeps them (cache.ts). */
export type SplitReader = (source: Source) => Promise<{ train: RawSplit; test: RawSplit }>;

export async function loadDataset(
  cfg: DatasetConfig,
  opts: { seed: number; baseDir: string; read?: SplitReader },
): Promise<LoadedDataset> {
  const source = await locateDataset(cfg, opts.baseDir);
  const { train, test } = await (opts.read ?? readSplits)(source);

  const classes = resolveClasses(cfg, source, train, test);
  const chosenIdx = selectSubset(cfg.subset?.train, train.count, opts.seed, 'train');
  const testIdx = selectSubset(cfg.subset?.test, test.count, opts.seed, 'test');
  const { trainIdx, validationIdx } = holdOut(cfg.validation, chosenIdx, train.count, opts.seed);

  // The affine map is fixed from the training selection and reused for test,
  // so both splits go through the same transformation (for minmax, test pixels
  // outside the training range land slightly outside [0, 1], as they should).
  const { scale, offset } = affineFor(cfg.normalise, train.images.data, train.height * train.width, trainIdx, train.count);

  const trainSplit = buildSplit(train, trainIdx, scale, offset);
  let testSplit: Split;
  let validationSplit: Split | undefined;
  try {
    if (validationIdx) validationSplit = buildSplit(train, validationIdx, scale, offset);
    testSplit = buildSplit(test, testIdx, scale, offset);
  } catch (err) {
    tf.dispose([trainSplit.x, trainSplit.y, ...(validationSplit ? [validationSplit.x, validationSplit.y] : [])]);
    throw err;
  }

  return {
    name: cfg.name,
    train: trainSplit,
    ...(validationSplit ? { validation: validationSplit } : {}),
    test: testSplit,
    height: train.height,
    width: train.width,
    classes,
    files: { ...source.files },
    dispose() {
      trainSplit.x.dispose();
      trainSplit.y.dispose();
      testSplit.x.dispose();
      testSplit.y.dispose();
      validationSplit?.x.dispose();
      validationSplit?.y.dispose();
    },
  };
}

function resolveClasses(cfg: DatasetConfig, source: Source, train: RawSplit, test: RawSplit): number {
  // Derived from the full files, not the subset, so shrinking the subset can
  // never change the model's output layer.
  const classes = source.classes ?? Math.max(2, train.maxLabel + 1, test.maxLabel + 1);
  if (!Number.isInteger(classes) || classes < 2) {
    throw new DataError(`dataset.classes must be an integer >= 2, got ${classes}`, {
      hint: 'set dataset.classes to the number of classes, or leave it out to use the largest label + 1',
    });
  }
  for (const [split, raw] of [['train', train], ['test', test]] as const) {
    if (raw.maxLabel < classes) continue;
    const at = raw.labels.data.findIndex((v) => v >= classes);
    throw new DataError(
      `${source.files[`${split}.labels`]}: label ${raw.labels.data[at]} at index ${at} is not below the class count ${classes}`,
      {
        hint:
          cfg.name === 'idx' && cfg.classes !== undefined
            ? 'raise dataset.classes, or leave it out to use the largest label + 1'
            : source.hintFor(`${split}.labels`),
      },
    );
  }
  return classes;
}

/** Indices of the chosen examples in ascending file order, or null for "all of them". */
function selectSubset(k: number | undefined, n: number, seed: number, split: 'train' | 'test'): Int32Array | null {
  if (k === undefined) return null;
  if (!Number.isInteger(k) || k < 1) {
    throw new DataError(`dataset.subset.${split} must be a positive integer, got ${k}`, {
      hint: `set dataset.subset.${split} to a number of examples between 1 and ${n}, or remove it`,
    });
  }
  if (k > n) {
    throw new DataError(`dataset.subset.${split} asks for ${k} examples but the ${split} split has only ${n}`, {
      hint: `lower dataset.subset.${split} to at most ${n}, or remove it to use the whole split`,
    });
  }
  if (k === n) return null;
  // Sorting back into file order makes the subset a set: the order examples are
  // seen in is the trainer's shuffle's business, not the subset's.
  return shuffledIndices(n, deriveSeed(seed, 'subset', split)).slice(0, k).sort();
}

/**
 * Splits the chosen training examples (all when `chosen` is null) into training and
 * validation by the seed; both keep file order. Normalisation is then fitted on the
 * training part only, so nothing about the validation images leaks into training.
 */
function holdOut(
  validation: number | undefined,
  chosen: Int32Array | null,
  total: number,
  seed: number,
): { trainIdx: Int32Array | null; validationIdx: Int32Array | null } {
  if (validation === undefined) return { trainIdx: chosen, validationIdx: null };
  const pool = chosen ?? Int32Array.from({ length: total }, (_, i) => i);
  const n = pool.length;
  const count = validation >= 1 ? validation : Math.round(validation * n);
  if (!Number.isInteger(count) || count < 1 || count >= n) {
    throw new DataError(`dataset.validation ${validation} gives ${count} of the ${n} training examples`, {
      hint: `use a count from 1 to ${n - 1} or a fraction that leaves both parts non-empty`,
    });
  }
  const order = shuffledIndices(n, deriveSeed(seed, 'validation'));
  const pick = (from: number, to: number) => Int32Array.from(order.subarray(from, to), (i) => pool[i]!).sort();
  return { trainIdx: pick(count, n), validationIdx: pick(0, count) };
}

/** value = pixel * scale + offset, the single formula all three modes reduce to. */
function affineFor(
  norm: Normalise,
  pixels: Uint8Array,
  perImage: number,
  idx: Int32Array | null,
  count: number,
): { scale: number; offset: number } {
  if (norm === 'none') return { scale: 1, offset: 0 };
  if (norm === 'minmax') {
    let lo = 255;
    let hi = 0;
    const n = idx === null ? count : idx.length;
    for (let i = 0; i < n; i++) {
      const start = (idx === null ? i : idx[i]!) * perImage;
      for (let p = start, end = start + perImage; p < end; p++) {
        const v = pixels[p]!;
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
    }
    // A constant image set has no range to stretch; map it to 0 rather than NaN.
    if (hi === lo) return { scale: 0, offset: 0 };
    return { scale: 1 / (hi - lo), offset: -lo / (hi - lo) };
  }
  const { mean, std } = norm;
  if (!Number.isFinite(mean) || !Number.isFinite(std) || std <= 0) {
    throw new DataError(`dataset.normalise needs a finite mean and a positive std, got mean ${mean}, std ${std}`, {
      hint: 'for MNIST use { mean: 0.1307, std: 0.3081 }, or normalise: minmax',
    });
  }
  return { scale: 1 / (255 * std), offset: -mean / std };
}

function buildSplit(raw: RawSplit, idx: Int32Array | null, scale: number, offset: number): Split {
  const perImage = raw.height * raw.width;
  const n = idx === null ? raw.count : idx.length;
  const pixels = raw.images.data;
  const x = new Float32Array(n * perImage);
  const y = new Int32Array(n);
  let o = 0;
  for (let i = 0; i < n; i++) {
    const src = idx === null ? i : idx[i]!;
    y[i] = raw.labels.data[src]!;
    for (let p = src * perImage, end = p + perImage; p < end; p++) x[o++] = pixels[p]! * scale + offset;
  }
  const xs = tf.tensor4d(x, [n, raw.height, raw.width, 1], 'float32');
  let ys: tf.Tensor1D;
  try {
    ys = tf.tensor1d(y, 'int32');
  } catch (err) {
    xs.dispose();
    throw err;
  }
  return { x: xs, y: ys, count: n };
}
