/**
 * The training recipe: learning-rate schedules, early stopping, the validation split, and
 * a run with all of them (batch norm included) resumed exactly from a checkpoint.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveRunConfig, resolveTraining, type RunConfig } from '../src/config/resolve.js';
import type { TrainingSpec } from '../src/config/schema.js';
import { loadDataset, type LoadedDataset } from '../src/data/datasets.js';
import { buildModel } from '../src/model/build.js';
import { readCheckpoint, serializeCheckpoint, writeCheckpoint } from '../src/store/checkpoint.js';
import type { MetricsRow } from '../src/store/metrics-row.js';
import { selectBackend } from '../src/train/backend.js';
import { earlyStopAfter, type EarlyStop } from '../src/train/early-stopping.js';
import { createOptimizer } from '../src/train/optimizer.js';
import { hasSchedule, learningRateAt } from '../src/train/schedule.js';
import { train } from '../src/train/trainer.js';

const rates = (spec: TrainingSpec) => {
  const t = resolveTraining({ learningRate: 1, ...spec });
  return Array.from({ length: t.epochs }, (_, i) => Number(learningRateAt(t, i + 1).toFixed(6)));
};

describe('learning-rate schedules', () => {
  it('step, exponential and cosine, with and without warm-up', () => {
    expect(rates({ epochs: 3 })).toEqual([1, 1, 1]);
    expect(rates({ epochs: 5, schedule: { type: 'step', every: 2, factor: 0.5 } })).toEqual([1, 1, 0.5, 0.5, 0.25]);
    expect(rates({ epochs: 4, schedule: { type: 'exponential', factor: 0.1 } })).toEqual([1, 0.1, 0.01, 0.001]);
    expect(rates({ epochs: 4, schedule: { type: 'cosine' } })).toEqual([1, 0.853553, 0.5, 0.146447]);
    expect(rates({ epochs: 5, warmup: 2, schedule: { type: 'cosine', minRate: 0.1 } })).toEqual([0.333333, 0.666667, 1, 0.775, 0.325]);
    expect(hasSchedule(resolveTraining({}))).toBe(false);
    expect(hasSchedule(resolveTraining({ warmup: 1 }))).toBe(true);
  });
});

const row = (epoch: number, val_loss: number, val_accuracy = 0): MetricsRow => ({
  epoch, train_loss: 1, train_accuracy: 0, val_loss, val_accuracy, test_loss: 1, test_accuracy: 0, epoch_seconds: 1, elapsed_seconds: epoch,
});

describe('early stopping', () => {
  const spec = { metric: 'val_loss' as const, patience: 2, minDelta: 0.01 };
  it('stops after `patience` epochs without an improvement larger than minDelta', () => {
    const history = [row(1, 1.0), row(2, 0.8), row(3, 0.795), row(4, 0.9)];
    expect(earlyStopAfter(history.slice(0, 3), spec)).toBeUndefined();
    expect(earlyStopAfter(history, spec)).toMatchObject({ epoch: 4, bestEpoch: 2 });
    expect(earlyStopAfter(history, spec)!.reason).toContain('val_loss did not improve by more than 0.01 for 2 epoch(s) (best 0.8000 at epoch 2)');
  });
  it('accuracy metrics improve upwards', () => {
    const s = { metric: 'val_accuracy' as const, patience: 1, minDelta: 0 };
    expect(earlyStopAfter([row(1, 0, 0.5), row(2, 0, 0.6)], s)).toBeUndefined();
    expect(earlyStopAfter([row(1, 0, 0.5), row(2, 0, 0.6), row(3, 0, 0.6)], s)?.epoch).toBe(3);
  });
});

let data: LoadedDataset;
const DATASET = { name: 'mnist' as const, normalise: { mean: 0.1307, std: 0.3081 }, subset: { train: 480, test: 160 }, validation: 0.25 };

beforeAll(async () => {
  await selectBackend('wasm');
  data = await loadDataset(DATASET, { seed: 9, baseDir: '/' });
});
afterAll(() => data.dispose());

describe('validation split', () => {
  it('is carved from the training subset by the seed: disjoint, sized, repeatable', async () => {
    expect(data.train.count).toBe(360);
    expect(data.validation!.count).toBe(120);
    const pixels = async (d: LoadedDataset, split: 'train' | 'validation') => {
      const x = (await d[split]!.x.reshape([d[split]!.count, -1]).array()) as number[][];
      return x.map((r) => r.join(','));
    };
    const train = new Set(await pixels(data, 'train'));
    const held = await pixels(data, 'validation');
    expect(held.filter((p) => train.has(p)).length).toBeLessThan(3); // identical digits are possible, not likely
    const again = await loadDataset(DATASET, { seed: 9, baseDir: '/' });
    expect(await pixels(again, 'validation')).toEqual(held);
    again.dispose();
    const other = await loadDataset({ ...DATASET, validation: 50 }, { seed: 10, baseDir: '/' });
    expect(other.validation!.count).toBe(50);
    expect(other.train.count).toBe(430);
    other.dispose();
  });
});

describe('a full recipe with batch norm', () => {
  const config: RunConfig = resolveRunConfig(
    {
      name: 't',
      seed: 9,
      dataset: DATASET,
      models: {
        m: {
          type: 'stack',
          layers: [
            { type: 'conv2d', filters: 4, activation: 'linear' },
            { type: 'batchNorm', momentum: 0.8 },
            { type: 'activation', activation: 'relu' },
            { type: 'maxPool2d', poolSize: 4 },
            { type: 'flatten' },
            { type: 'dropout', rate: 0.2 },
          ],
        },
      },
      model: 'm',
      training: {
        epochs: 5,
        batchSize: 40,
        learningRate: 0.01,
        warmup: 1,
        schedule: { type: 'step', every: 1, factor: 0.7 },
        weightDecay: 0.01,
        clipNorm: 0.5,
        labelSmoothing: 0.1,
        // Nothing improves by 100: the run ends `patience` epochs after its first.
        earlyStopping: { metric: 'val_loss', patience: 2, minDelta: 100 },
      },
    },
    '/',
  );
  const spec = config.models.m!;
  const numbers = (rows: MetricsRow[]) => rows.map(({ epoch_seconds, elapsed_seconds, ...rest }) => rest);

  async function run(epochs: number, from?: { dir: string; history: MetricsRow[] }) {
    const model = buildModel(spec, data, config.seed);
    const optimizer = createOptimizer(config.training);
    let startEpoch = 1;
    if (from) {
      const checkpoint = (await readCheckpoint(from.dir))!;
      checkpoint.restoreWeights(model);
      await checkpoint.restoreOptimizer(optimizer);
      startEpoch = checkpoint.state.epoch + 1;
    }
    let stop: EarlyStop | undefined;
    const dir = join(mkdtempSync(join(tmpdir(), 'xrun-recipe-')), 'last');
    const rows = await train({
      config: { ...config, training: { ...config.training, epochs } },
      data,
      model,
      optimizer,
      startEpoch,
      history: from?.history ?? [],
      hooks: {
        onEarlyStop: (s) => {
          stop = s;
        },
        onEpochEnd: async (r) => {
          await writeCheckpoint(dir, await serializeCheckpoint(model, optimizer, { epoch: r.epoch, elapsedSeconds: 0, hash: 'h', metrics: r }));
        },
      },
    });
    model.dispose();
    optimizer.dispose();
    return { rows, stop, dir };
  }

  it('ends early, logs validation and rate, and a resumed run matches the unbroken one exactly', async () => {
    const full = await run(5);
    expect(full.rows.map((r) => r.epoch)).toEqual([1, 2, 3]);
    expect(full.stop).toMatchObject({ epoch: 3, bestEpoch: 1 });
    expect(full.rows.map((r) => Number(r.lr!.toFixed(9)))).toEqual([0.005, 0.01, 0.007]);
    expect(full.rows.every((r) => r.val_loss! > 0 && r.val_accuracy! >= 0)).toBe(true);
    expect(full.rows[2]!.train_accuracy).toBeGreaterThan(0.3);

    // Stopped after epoch 1, resumed with the history metrics.csv would hold.
    const first = await run(1);
    const rest = await run(5, { dir: first.dir, history: first.rows });
    expect(numbers([...first.rows, ...rest.rows])).toEqual(numbers(full.rows));
    expect(rest.stop).toEqual(full.stop);

    // Killed after the stopping epoch's checkpoint, before the run was marked completed:
    // resuming trains nothing more and reports the same stop.
    const again = await run(5, { dir: full.dir, history: full.rows });
    expect(again.rows).toEqual([]);
    expect(again.stop).toEqual(full.stop);
  }, 120_000);
});
