import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DataError } from '../src/errors.js';
import { FASHION_MNIST_DIR, loadDataset, type DatasetConfig, type LoadedDataset } from '../src/data/datasets.js';
import { deriveSeed, shuffledIndices } from '../src/util/random.js';

const STUDY = { mean: 0.1307, std: 0.3081 };

async function withDataset<T>(
  cfg: DatasetConfig,
  seed: number,
  f: (ds: LoadedDataset) => T | Promise<T>,
  baseDir = process.cwd(),
): Promise<T> {
  const ds = await loadDataset(cfg, { seed, baseDir });
  try {
    return await f(ds);
  } finally {
    ds.dispose();
  }
}

async function rejection(p: Promise<unknown>): Promise<DataError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(DataError);
  expect((err as DataError).hint).toBeTruthy();
  return err as DataError;
}

describe('mnist', () => {
  const cfg = (normalise: DatasetConfig['normalise']): DatasetConfig => ({
    name: 'mnist',
    normalise,
    subset: { train: 500, test: 200 },
  });

  it('loads a subset with the right shapes and dtypes', async () => {
    const before = tf.memory().numTensors;
    await withDataset(cfg(STUDY), 1, (ds) => {
      expect(ds.name).toBe('mnist');
      expect([ds.height, ds.width, ds.classes]).toEqual([28, 28, 10]);
      expect(ds.train.x.shape).toEqual([500, 28, 28, 1]);
      expect(ds.train.x.dtype).toBe('float32');
      expect(ds.train.y.shape).toEqual([500]);
      expect(ds.train.y.dtype).toBe('int32');
      expect(ds.train.count).toBe(500);
      expect(ds.test.x.shape).toEqual([200, 28, 28, 1]);
      expect(ds.test.y.dtype).toBe('int32');
      expect(ds.test.count).toBe(200);
      expect(Object.keys(ds.files).sort()).toEqual(['test.images', 'test.labels', 'train.images', 'train.labels']);
      for (const f of Object.values(ds.files)) expect(path.isAbsolute(f) && existsSync(f)).toBe(true);
      const labels = ds.train.y.dataSync();
      expect(labels.every((v) => v >= 0 && v < 10)).toBe(true);
    });
    expect(tf.memory().numTensors).toBe(before);
  });

  it('picks the same subset for the same seed and another for another seed', async () => {
    const grab = (seed: number) =>
      withDataset(cfg('none'), seed, (ds) => ({
        y: Array.from(ds.train.y.dataSync()),
        x: ds.train.x.sum().arraySync(),
        ty: Array.from(ds.test.y.dataSync()),
      }));
    const a = await grab(7);
    const b = await grab(7);
    const c = await grab(8);
    expect(b).toEqual(a);
    expect(c.y).not.toEqual(a.y);
    expect(c.ty).not.toEqual(a.ty);
  });

  it('normalises with mean/std to roughly zero mean and unit std', async () => {
    await withDataset(cfg(STUDY), 3, (ds) => {
      const { mean, variance } = tf.moments(ds.train.x);
      expect(Math.abs(mean.arraySync() as number)).toBeLessThan(0.05);
      expect(Math.abs(Math.sqrt(variance.arraySync() as number) - 1)).toBeLessThan(0.05);
      tf.dispose([mean, variance]);
    });
  });

  it('minmax lands in [0, 1]; none keeps raw pixel values', async () => {
    await withDataset(cfg('minmax'), 3, (ds) => {
      for (const s of [ds.train, ds.test]) {
        expect(s.x.min().arraySync()).toBe(0);
        expect(s.x.max().arraySync()).toBe(1);
      }
    });
    await withDataset(cfg('none'), 3, (ds) => {
      const x = ds.train.x.dataSync();
      expect(x.every((v) => Number.isInteger(v) && v >= 0 && v <= 255)).toBe(true);
      expect(Math.max(...x.subarray(0, 28 * 28 * 20))).toBe(255);
    });
  });

  it('loads the full training set when no subset is given', async () => {
    await withDataset({ name: 'mnist', normalise: STUDY }, 1, (ds) => {
      expect(ds.train.count).toBe(60000);
      expect(ds.train.x.shape).toEqual([60000, 28, 28, 1]);
      expect(ds.test.count).toBe(10000);
      // A plain loop: tf.moments on the pure-JS CPU backend takes ~15 s here.
      const x = ds.train.x.dataSync();
      let sum = 0;
      let sumSq = 0;
      for (let i = 0; i < x.length; i++) {
        const v = x[i]!;
        sum += v;
        sumSq += v * v;
      }
      const mean = sum / x.length;
      // The study's constants are the full training set's statistics.
      expect(mean).toBeCloseTo(0, 2);
      expect(Math.sqrt(sumSq / x.length - mean * mean)).toBeCloseTo(1, 2);
    });
  });

  it('rejects a subset larger than the split', async () => {
    const err = await rejection(loadDataset({ name: 'mnist', normalise: 'none', subset: { test: 10001 } }, { seed: 1, baseDir: '.' }));
    expect(err.message).toMatch(/10001.*only 10000/);
  });
});

describe('idx', () => {
  let dir: string;
  const H = 4;
  const W = 3;

  function idx(dims: number[], data: ArrayLike<number>): Buffer {
    const header = Buffer.alloc(4 + 4 * dims.length);
    header[2] = 0x08;
    header[3] = dims.length;
    dims.forEach((d, i) => header.writeUInt32BE(d, 4 + 4 * i));
    return Buffer.concat([header, Buffer.from(Uint8Array.from(data))]);
  }
  /** Every pixel of image i holds the value i, so tensors reveal which examples were taken. */
  const images = (n: number) => idx([n, H, W], Array.from({ length: n * H * W }, (_, p) => Math.floor(p / (H * W))));
  const labelsFor = (n: number, classes: number) => idx([n], Array.from({ length: n }, (_, i) => i % classes));

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'xrun-ds-'));
    await mkdir(path.join(dir, 'data'));
    await writeFile(path.join(dir, 'data', 'train-x'), images(20));
    await writeFile(path.join(dir, 'data', 'train-y'), labelsFor(20, 3));
    await writeFile(path.join(dir, 'data', 'test-x'), images(6));
    await writeFile(path.join(dir, 'data', 'test-y'), labelsFor(6, 3));
    await writeFile(path.join(dir, 'data', 'test-y-short'), labelsFor(5, 3));
    await writeFile(path.join(dir, 'data', 'test-y-big'), idx([6], [0, 1, 2, 7, 1, 0]));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const base = (over: Partial<Extract<DatasetConfig, { name: 'idx' }>> = {}): DatasetConfig => ({
    name: 'idx',
    train: { images: 'data/train-x', labels: 'data/train-y' },
    test: { images: 'data/test-x', labels: 'data/test-y' },
    normalise: 'none',
    ...over,
  });

  it('resolves relative paths against baseDir and infers the class count', async () => {
    await withDataset(
      base(),
      1,
      (ds) => {
        expect(ds.files['train.images']).toBe(path.join(dir, 'data', 'train-x'));
        expect([ds.height, ds.width, ds.classes]).toEqual([H, W, 3]);
        expect(ds.train.x.shape).toEqual([20, H, W, 1]);
        expect(Array.from(ds.train.y.dataSync())).toEqual(Array.from({ length: 20 }, (_, i) => i % 3));
        expect(ds.train.x.dataSync()[19 * H * W]).toBe(19);
      },
      dir,
    );
  });

  it('takes the seeded subset in file order', async () => {
    await withDataset(
      base({ subset: { train: 5 } }),
      42,
      (ds) => {
        const expected = Array.from(shuffledIndices(20, deriveSeed(42, 'subset', 'train')).slice(0, 5)).sort((a, b) => a - b);
        const firstPixels = Array.from({ length: 5 }, (_, i) => ds.train.x.dataSync()[i * H * W]);
        expect(firstPixels).toEqual(expected);
        expect(Array.from(ds.train.y.dataSync())).toEqual(expected.map((i) => i % 3));
        expect(ds.test.count).toBe(6);
      },
      dir,
    );
  });

  it('uses the training range for minmax on both splits', async () => {
    await withDataset(
      base({ normalise: 'minmax', subset: { train: 20 } }),
      1,
      (ds) => {
        const x = ds.train.x.dataSync();
        expect(x[0]).toBe(0);
        expect(x[x.length - 1]).toBe(1);
        expect(ds.test.x.dataSync()[5 * H * W]).toBeCloseTo(5 / 19, 6);
      },
      dir,
    );
  });

  it('rejects a count mismatch between images and labels', async () => {
    const err = await rejection(loadDataset(base({ test: { images: 'data/test-x', labels: 'data/test-y-short' } }), { seed: 1, baseDir: dir }));
    expect(err.message).toMatch(/6 images.*5 labels/);
  });

  it('rejects labels not below an explicit class count', async () => {
    const err = await rejection(loadDataset(base({ test: { images: 'data/test-x', labels: 'data/test-y-big' }, classes: 3 }), { seed: 1, baseDir: dir }));
    expect(err.message).toMatch(/label 7 at index 3.*3/);
    expect(err.hint).toMatch(/dataset\.classes/);
    // without `classes` the count grows to fit
    await withDataset(base({ test: { images: 'data/test-x', labels: 'data/test-y-big' } }), 1, (ds) => expect(ds.classes).toBe(8), dir);
  });

  it('rejects swapped images and labels, naming the config field', async () => {
    const err = await rejection(loadDataset(base({ train: { images: 'data/train-y', labels: 'data/train-x' } }), { seed: 1, baseDir: dir }));
    expect(err.message).toContain(path.join(dir, 'data', 'train-y'));
    expect(err.hint).toMatch(/dataset\.train\.images/);
  });

  it('reports a missing file with the field to fix', async () => {
    const err = await rejection(loadDataset(base({ train: { images: 'data/nope', labels: 'data/train-y' } }), { seed: 1, baseDir: dir }));
    expect(err.message).toContain(path.join(dir, 'data', 'nope'));
    expect(err.hint).toMatch(/dataset\.train\.images/);
  });
});

describe('fashion-mnist', () => {
  const installed = existsSync(path.join(FASHION_MNIST_DIR, 'train-images-idx3-ubyte.gz'));

  it.skipIf(!installed)(
    `loads from ${FASHION_MNIST_DIR} (skipped when the Debian package dataset-fashion-mnist is not installed)`,
    async () => {
      await withDataset({ name: 'fashion-mnist', normalise: 'minmax', subset: { train: 300, test: 100 } }, 1, (ds) => {
        expect(ds.train.x.shape).toEqual([300, 28, 28, 1]);
        expect(ds.test.x.shape).toEqual([100, 28, 28, 1]);
        expect(ds.classes).toBe(10);
        expect(ds.files['train.images']).toBe(path.join(FASHION_MNIST_DIR, 'train-images-idx3-ubyte.gz'));
        expect(ds.train.y.dataSync().every((v) => v < 10)).toBe(true);
      });
    },
  );

  it('explains how to get the data when the folder is missing', async () => {
    const missing = path.join(os.tmpdir(), 'xrun-no-such-fashion-dir');
    const err = await rejection(loadDataset({ name: 'fashion-mnist', dir: missing, normalise: 'none' }, { seed: 1, baseDir: '/' }));
    expect(err.message).toContain(missing);
    expect(err.hint).toMatch(/apt-get install dataset-fashion-mnist/);
    expect(err.hint).toMatch(/dataset\.dir/);
  });
});
