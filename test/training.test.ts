/**
 * Training on real MNIST images, in-process on the wasm backend: accuracy rises,
 * checkpoints round-trip, and a run resumed from a checkpoint matches an unbroken one.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveModel, resolveRunConfig, type RunConfig } from '../src/config/resolve.js';
import { loadDataset, type LoadedDataset } from '../src/data/datasets.js';
import { buildModel } from '../src/model/build.js';
import { loadLayersModelFromFolder, readCheckpoint, serializeCheckpoint, writeCheckpoint } from '../src/store/checkpoint.js';
import type { MetricsRow } from '../src/store/metrics-row.js';
import { selectBackend } from '../src/train/backend.js';
import { createOptimizer } from '../src/train/optimizer.js';
import { evaluate, NonFiniteLossError, train } from '../src/train/trainer.js';

let data: LoadedDataset;

function config(model: Record<string, unknown>, training: Record<string, unknown> = {}): RunConfig {
  return resolveRunConfig(
    {
      name: 't',
      seed: 7,
      dataset: { name: 'mnist', subset: { train: 512, test: 256 } },
      models: { m: model as never },
      model: 'm',
      training: { epochs: 1, batchSize: 32, ...training },
    },
    '/',
  );
}

const numbers = (rows: MetricsRow[]) => rows.map(({ epoch_seconds, elapsed_seconds, ...rest }) => rest);

beforeAll(async () => {
  await selectBackend('wasm');
  data = await loadDataset({ name: 'mnist', normalise: { mean: 0.1307, std: 0.3081 }, subset: { train: 512, test: 256 } }, { seed: 7, baseDir: '/' });
});
afterAll(() => data.dispose());

describe('training on real MNIST (wasm)', () => {
  it('a small CNN goes from chance to well above it', async () => {
    const cfg = config({ type: 'cnn', filters: [8, 16], dense: 32, dropout: 0.25 }, { epochs: 3 });
    const model = buildModel(resolveModel(cfg.models.m!), data, cfg.seed);
    const before = await evaluate(model, data.test, 10);
    const rows = await train({ config: cfg, data, model, optimizer: createOptimizer(cfg.training) });
    expect(before.accuracy).toBeLessThan(0.25);
    expect(rows).toHaveLength(3);
    expect(rows[2]!.test_accuracy).toBeGreaterThan(0.7);
    expect(rows[2]!.test_accuracy).toBeGreaterThan(before.accuracy + 0.4);
    expect(rows[2]!.train_loss).toBeLessThan(rows[0]!.train_loss);
    model.dispose();
  });

  it('a bidirectional GRU reading columns learns too', async () => {
    const cfg = config({ type: 'gru', hidden: 16, layers: 1, bidirectional: true, sequence: 'columns' }, { epochs: 2, learningRate: 0.01 });
    const model = buildModel(resolveModel(cfg.models.m!), data, cfg.seed);
    const rows = await train({ config: cfg, data, model, optimizer: createOptimizer(cfg.training) });
    expect(rows[1]!.train_loss).toBeLessThan(rows[0]!.train_loss);
    expect(rows[1]!.test_accuracy).toBeGreaterThan(0.3);
    model.dispose();
  });

  it('does not leak tensors across an epoch', async () => {
    const cfg = config({ type: 'lstm', hidden: 8, layers: 1 });
    const model = buildModel(resolveModel(cfg.models.m!), data, cfg.seed);
    const optimizer = createOptimizer(cfg.training);
    await train({ config: cfg, data, model, optimizer });
    const after1 = tf.memory().numTensors;
    await train({ config: { ...cfg, training: { ...cfg.training, epochs: 2 } }, data, model, optimizer, startEpoch: 2 });
    expect(tf.memory().numTensors).toBe(after1);
    model.dispose();
  });

  it('same seed, same numbers: two fresh runs agree exactly (dropout included)', async () => {
    const cfg = config({ type: 'rnn', hidden: 16, layers: 2, dropout: 0.3 }, { epochs: 2 });
    const once = async () => {
      const model = buildModel(resolveModel(cfg.models.m!), data, cfg.seed);
      const rows = await train({ config: cfg, data, model, optimizer: createOptimizer(cfg.training) });
      model.dispose();
      return numbers(rows);
    };
    expect(await once()).toEqual(await once());
  });

  it('a run resumed from its epoch-1 checkpoint ends exactly where an unbroken run does', async () => {
    const cfg = config({ type: 'lstm', hidden: 12, layers: 1, dropout: 0.2 }, { epochs: 3 });
    const spec = resolveModel(cfg.models.m!);
    const unbroken = buildModel(spec, data, cfg.seed);
    const full = await train({ config: cfg, data, model: unbroken, optimizer: createOptimizer(cfg.training) });
    unbroken.dispose();

    const dir = join(mkdtempSync(join(tmpdir(), 'xrun-ckpt-')), 'last');
    const first = buildModel(spec, data, cfg.seed);
    const firstOptimizer = createOptimizer(cfg.training);
    const [row1] = await train({
      config: { ...cfg, training: { ...cfg.training, epochs: 1 } },
      data,
      model: first,
      optimizer: firstOptimizer,
    });
    await writeCheckpoint(
      dir,
      await serializeCheckpoint(first, firstOptimizer, { epoch: 1, elapsedSeconds: 1, hash: 'h', metrics: row1!}),
    );
    first.dispose();

    const loaded = (await readCheckpoint(dir))!;
    expect(loaded.state.epoch).toBe(1);
    const model = buildModel(spec, data, cfg.seed);
    loaded.restoreWeights(model);
    const optimizer = createOptimizer(cfg.training);
    await loaded.restoreOptimizer(optimizer);
    const rest = await train({ config: cfg, data, model, optimizer, startEpoch: 2 });
    expect(numbers([row1!, ...rest])).toEqual(numbers(full));
    model.dispose();
  });

  it('a checkpoint loads back as a layers model with identical predictions', async () => {
    const cfg = config({ type: 'cnn', filters: [4], dense: 8, dropout: 0.5 });
    const model = buildModel(resolveModel(cfg.models.m!), data, cfg.seed);
    const optimizer = createOptimizer(cfg.training);
    const [row] = await train({ config: cfg, data, model, optimizer });
    const dir = join(mkdtempSync(join(tmpdir(), 'xrun-ckpt-')), 'best');
    await writeCheckpoint(dir, await serializeCheckpoint(model, optimizer, { epoch: 1, elapsedSeconds: 1, hash: 'h', metrics: row!}));
    // Only standard layer classes in model.json: any tfjs can load it, not just xrun.
    const topology = readFileSync(join(dir, 'model.json'), 'utf8');
    expect(topology).not.toContain('Xrun');
    expect(topology).toContain('"class_name":"Dropout"');
    const loaded = await loadLayersModelFromFolder(dir);
    const x = data.test.x.slice([0, 0, 0, 0], [16, -1, -1, -1]);
    const a = (model.predict(x) as tf.Tensor).dataSync();
    const b = (loaded.predict(x) as tf.Tensor).dataSync();
    expect(Array.from(b)).toEqual(Array.from(a));
    expect((await evaluate(loaded, data.test, 10)).accuracy).toBe(row!.test_accuracy);
    model.dispose();
    loaded.dispose();
  });

  it('reading results a few batches at a time (as on a GPU) changes nothing: same rows, same NaN batch', async () => {
    const cfg = config({ type: 'cnn', filters: [4], dense: 8, dropout: 0.25 }, { epochs: 2 });
    const rows = async (readEvery: number) => {
      const model = buildModel(resolveModel(cfg.models.m!), data, cfg.seed);
      const seen: number[] = [];
      const out = await train({
        config: cfg,
        data,
        model,
        optimizer: createOptimizer(cfg.training),
        readEvery,
        hooks: { onBatchEnd: (p) => seen.push(p.batch) },
      });
      model.dispose();
      return { rows: numbers(out), seen };
    };
    const every1 = await rows(1);
    const every5 = await rows(5);
    expect(every5.rows).toEqual(every1.rows);
    // Progress arrives per read, each read a group behind the training (batches 11-16 come
    // in together at the end of the epoch).
    expect(every1.seen).toEqual([...Array.from({ length: 16 }, (_, i) => i + 1), ...Array.from({ length: 16 }, (_, i) => i + 1)]);
    expect(every5.seen).toEqual([5, 10, 16, 5, 10, 16]);

    const nan = config({ type: 'cnn', filters: [4], dense: 8 }, { learningRate: Number.MAX_VALUE, optimizer: 'sgd' });
    const nanBatch = async (readEvery: number) => {
      const model = buildModel(resolveModel(nan.models.m!), data, nan.seed);
      const before = tf.memory().numTensors;
      const err = await train({ config: nan, data, model, optimizer: createOptimizer(nan.training), readEvery }).catch((e: unknown) => e);
      // Nothing the reader held outlives the failed epoch.
      expect(tf.memory().numTensors).toBeLessThanOrEqual(before + 1);
      model.dispose();
      expect(err).toBeInstanceOf(NonFiniteLossError);
      return (err as NonFiniteLossError).batch;
    };
    const first = await nanBatch(1);
    expect(first).toBeGreaterThan(1);
    expect(await nanBatch(8)).toBe(first);
  });

  it('stops with a clear error when the loss becomes NaN', async () => {
    const cfg = config({ type: 'cnn', filters: [4], dense: 8 }, { learningRate: Number.MAX_VALUE, optimizer: 'sgd' });
    const model = buildModel(resolveModel(cfg.models.m!), data, cfg.seed);
    await expect(train({ config: cfg, data, model, optimizer: createOptimizer(cfg.training) })).rejects.toThrow(NonFiniteLossError);
    model.dispose();
  });
});

describe('damaged checkpoints', () => {
  it('a truncated weights.bin or a missing file is not resumed from', async () => {
    const { truncateSync, rmSync } = await import('node:fs');
    const cfg = config({ type: 'cnn', filters: [4], dense: 8 });
    const model = buildModel(resolveModel(cfg.models.m!), data, cfg.seed);
    const optimizer = createOptimizer(cfg.training);
    const [row] = await train({ config: cfg, data, model, optimizer });
    const dir = join(mkdtempSync(join(tmpdir(), 'xrun-ckpt-')), 'last');
    const artifacts = await serializeCheckpoint(model, optimizer, { epoch: 1, elapsedSeconds: 1, hash: 'h', metrics: row!});
    await writeCheckpoint(dir, artifacts);
    expect(await readCheckpoint(dir)).toBeDefined();
    truncateSync(join(dir, 'weights.bin'), 100);
    expect(await readCheckpoint(dir)).toBeUndefined();
    await writeCheckpoint(dir, artifacts);
    rmSync(join(dir, 'optimizer.bin'));
    expect(await readCheckpoint(dir)).toBeUndefined();
    model.dispose();
  });
});
