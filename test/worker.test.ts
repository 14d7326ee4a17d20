/**
 * Long-lived workers: a worker trains run after run with its data cached, and each run
 * computes exactly what it would in a fresh process; a worker that dies fails only its
 * own run; the longest runs start first.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { configHash, resolveRunConfig, type RunConfig } from '../src/config/resolve.js';
import { DatasetCache, cacheKey } from '../src/data/cache.js';
import { executeRun, type RunEvent, type RunJob } from '../src/runner/execute-run.js';
import { estimateCost, forwardCost, longestFirst } from '../src/runner/schedule.js';
import { drawTrainingFigure, FigureQueue } from '../src/runner/figures.js';
import { spawnWorker } from '../src/runner/spawn-worker.js';
import { RunDir } from '../src/store/run-dir.js';
import { resolveModel } from '../src/config/resolve.js';
import { loadDataset, type DatasetConfig } from '../src/data/datasets.js';
import { buildModel } from '../src/model/build.js';
import { selectBackend } from '../src/train/backend.js';
import { confusionMatrix } from '../src/train/confusion.js';
import { createOptimizer } from '../src/train/optimizer.js';
import { train } from '../src/train/trainer.js';
import { tempProject, tinyExperiment, xrun, xrunUntil } from './helpers/cli.js';

function config(seed: number, model: Record<string, unknown> = { type: 'cnn', filters: [4], dense: 8, dropout: 0.2 }, train = 192): RunConfig {
  return resolveRunConfig(
    {
      name: 'w',
      seed,
      runtime: { backend: 'wasm' },
      dataset: { name: 'mnist', subset: { train, test: 96 } },
      models: { m: model as never },
      model: 'm',
      training: { epochs: 2, batchSize: 32, learningRate: 0.005 },
    },
    '/',
  );
}

function job(dir: string, id: string, cfg: RunConfig): RunJob {
  return { experiment: 'w', id, dir: join(dir, id), config: cfg, hash: configHash(cfg), values: {}, resume: false };
}

/** metrics.csv without its two wall-time columns. */
function numbers(runDir: string): string[] {
  return readFileSync(join(runDir, 'metrics.csv'), 'utf8')
    .trimEnd()
    .split('\n')
    .map((line) => line.split(',').slice(0, 5).join(','));
}

const quiet = { emit: () => {}, shouldStop: () => false };

describe('dataset cache', () => {
  it('shares a load between runs that read the same data, frees nothing a run still uses, and leaks no tensor', async () => {
    await selectBackend('wasm');
    const dir = mkdtempSync(join(tmpdir(), 'xrun-worker-'));
    const cache = new DatasetCache();
    // Seeds 1 and 2 draw different subsets: two entries; seed 1 again is a hit.
    await executeRun(job(dir, 'a', config(1)), { ...quiet, datasets: cache });
    const afterFirst = tf.memory().numTensors;
    await executeRun(job(dir, 'b', config(2)), { ...quiet, datasets: cache });
    await executeRun(job(dir, 'c', config(1)), { ...quiet, datasets: cache });
    expect([cache.misses, cache.hits, cache.size]).toEqual([2, 1, 2]);
    // The files were decoded once: the second subset was drawn from the kept raw splits.
    expect(cache.reads).toBe(1);
    // Only the second cached dataset's four tensors were added.
    expect(tf.memory().numTensors).toBe(afterFirst + 4);
    // The same run without the cache, in the same process: the same numbers.
    await executeRun(job(dir, 'fresh', config(1)), quiet);
    expect(numbers(join(dir, 'c'))).toEqual(numbers(join(dir, 'fresh')));
    expect(numbers(join(dir, 'a'))).toEqual(numbers(join(dir, 'fresh')));
    await executeRun(job(dir, 'fresh2', config(2)), quiet);
    expect(numbers(join(dir, 'b'))).toEqual(numbers(join(dir, 'fresh2')));
    // Stopped after its first epoch and resumed in the same process: no tensor left behind
    // by the checkpoint's optimiser state, and the numbers of an unbroken run.
    let epochs = 0;
    const stopped = await executeRun(job(dir, 'r', config(1)), {
      emit: (e) => void (e.type === 'epoch' && epochs++),
      shouldStop: () => epochs >= 1,
      datasets: cache,
    });
    expect(stopped.status).toBe('interrupted');
    const resumed = await executeRun({ ...job(dir, 'r', config(1)), resume: true }, { ...quiet, datasets: cache });
    expect(resumed.resumedAt).toEqual([1]);
    expect(numbers(join(dir, 'r'))).toEqual(numbers(join(dir, 'fresh')));
    expect(tf.memory().numTensors).toBe(afterFirst + 4);
    cache.clear();
    expect(tf.memory().numTensors).toBe(afterFirst - 4);
  }, 60_000);

  it('keys on the seed only when a subset is drawn', () => {
    const full = { name: 'mnist' as const, normalise: 'none' as const };
    expect(cacheKey(full, { seed: 1, baseDir: '/' })).toBe(cacheKey(full, { seed: 2, baseDir: '/' }));
    const sub = { ...full, subset: { train: 10 } };
    expect(cacheKey(sub, { seed: 1, baseDir: '/' })).not.toBe(cacheKey(sub, { seed: 2, baseDir: '/' }));
  });
});

describe('a long-lived worker process', () => {
  it('trains runs one after another in one process, each as a fresh process would; a killed worker ends its run without a record', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'xrun-worker-'));
    const worker = spawnWorker();
    const events: RunEvent['type'][] = [];
    const first = await worker.run(job(dir, 'a', config(1)), (e) => events.push(e.type));
    const second = await worker.run(job(dir, 'b', config(2)), () => {});
    expect(first.record?.status).toBe('completed');
    expect(second.record?.status).toBe('completed');
    expect(events.filter((t) => t === 'epoch')).toHaveLength(2);
    expect(worker.alive).toBe(true);
    // The second run on a used worker equals the same run on a new one.
    const fresh = spawnWorker();
    const again = await fresh.run(job(dir, 'b-fresh', config(2)), () => {});
    expect(again.record?.status).toBe('completed');
    expect(numbers(join(dir, 'b'))).toEqual(numbers(join(dir, 'b-fresh')));
    expect(await fresh.close()).toBe(0);

    // Killed in the middle of a run: the run settles with the exit, the worker is gone.
    const third = worker.run(job(dir, 'c', config(3, undefined, 3200)), (e) => {
      if (e.type === 'batch') worker.kill();
    });
    const result = await third;
    expect(result.record).toBeUndefined();
    expect(result.exitCode).toBeNull();
    expect(worker.alive).toBe(false);
    expect((await worker.run(job(dir, 'd', config(4)), () => {})).record).toBeUndefined();
  }, 120_000);
});

describe('a run that crashes its worker', () => {
  it('fails alone: the next run gets a new worker and completes; exit code 1', async () => {
    const dir = tempProject({
      'exp.yaml': tinyExperiment('crash', 'model: cnn\nsweep:\n  dataset.subset.train: [960, 192, 190]\n', {
        models: '\n  cnn: { type: cnn, filters: [4], dense: 8 }',
        training: 'batchSize: 32, epochs: 2, learningRate: 0.005',
      }),
    });
    const out = join(dir, 'runs/crash');
    const run = xrunUntil(['exp.yaml', '--jobs', '1'], dir, /\[train=960\] epoch 1\/2/);
    await run.matched;
    const workerPid = JSON.parse(readFileSync(join(out, 'train=960/run.json'), 'utf8')).pid as number;
    process.kill(workerPid, 'SIGKILL');
    expect(await run.exited).toBe(1);
    const record = (id: string) => JSON.parse(readFileSync(join(out, id, 'run.json'), 'utf8'));
    expect(record('train=960').status).toBe('failed');
    expect(record('train=960').error.message).toMatch(/worker process exited/);
    expect(record('train=192').status).toBe('completed');
    expect(record('train=190').status).toBe('completed');
    expect(run.output()).toMatch(/\[train=960\] failed/);
    // The next start retries the failed run only.
    const retry = xrun(['exp.yaml'], dir);
    expect(retry.code, retry.stderr).toBe(0);
    expect(retry.stdout).toContain('3 run(s): 1 to train, 2 skipped');
    expect(record('train=960').status).toBe('completed');
    for (const id of ['train=960', 'train=192', 'train=190']) expect(existsSync(join(out, id, 'plots/training.png')), id).toBe(true);

    // A figure lost to a kill before the parent drew it is drawn by the next start.
    rmSync(join(out, 'train=192/plots/training.png'));
    const again = xrun(['exp.yaml'], dir);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain('3 run(s): 0 to train, 3 skipped');
    expect(existsSync(join(out, 'train=192/plots/training.png'))).toBe(true);
  }, 120_000);
});

describe('longest runs first', () => {
  it('estimates cost from model size, data and epochs left', () => {
    const cnn = resolveModel({ type: 'cnn' });
    const lstm = resolveModel({ type: 'lstm' });
    const bilstm = resolveModel({ type: 'lstm', bidirectional: true });
    const rnn = resolveModel({ type: 'rnn' });
    // The study's CNN ~4.2M multiply-adds per image, LSTM 2x128 ~5.9M, BiLSTM ~2.6x the LSTM.
    expect(forwardCost(cnn) / 1e6).toBeCloseTo(4.23, 1);
    expect(forwardCost(lstm) / 1e6).toBeCloseTo(5.92, 1);
    expect(forwardCost(bilstm) / forwardCost(lstm)).toBeGreaterThan(2.5);
    expect(forwardCost(rnn)).toBeLessThan(forwardCost(lstm) / 3);
    const withEpochs = (epochs: number) => ({ ...config(1), training: { ...config(1).training, epochs } });
    expect(estimateCost(withEpochs(4))).toBe(2 * estimateCost(withEpochs(2)));
    expect(estimateCost(withEpochs(4), 2)).toBe(estimateCost(withEpochs(2)));
    expect(longestFirst(['a', 'bb', 'c', 'dd'], (s) => s.length)).toEqual(['bb', 'dd', 'a', 'c']);
  });

  it('with --jobs 1 the bidirectional LSTM listed last trains first', () => {
    const dir = tempProject({
      'exp.yaml': tinyExperiment('order', 'sweep:\n  model: [cnn, bilstm]\n', {
        models: '\n  cnn: { type: cnn, filters: [2], dense: 4 }\n  bilstm: { type: lstm, hidden: 16, layers: 1, bidirectional: true }',
        training: 'batchSize: 32, epochs: 1',
      }),
    });
    const r = xrun(['exp.yaml', '--jobs', '1'], dir);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.indexOf('[model=bilstm] started')).toBeLessThan(r.stdout.indexOf('[model=cnn] started'));
    // The summary keeps the file's order.
    const summary = readFileSync(join(dir, 'runs/order/summary.csv'), 'utf8');
    expect(summary.indexOf('model=cnn')).toBeLessThan(summary.indexOf('model=bilstm'));
  }, 60_000);
});

describe('training figures drawn by the parent', () => {
  it('draws a finished run from its metrics; a figure that cannot be drawn becomes a warning in run.json', async () => {
    const root = mkdtempSync(join(tmpdir(), 'xrun-figures-'));
    const rows = [1, 2].map((epoch) => ({ epoch, train_loss: 1 / epoch, train_accuracy: 0.5, test_loss: 1 / epoch, test_accuracy: 0.5, epoch_seconds: 1, elapsed_seconds: epoch }));
    const make = async (name: string) => {
      const store = new RunDir(join(root, name));
      await store.resetMetrics(rows);
      await store.writeRecord({ id: name, experiment: 'f', status: 'completed', hash: 'h', values: {}, seed: 1, epochs: 2, epochsCompleted: 2, createdAt: '', trainingSeconds: 2 });
      return store;
    };
    const good = await make('good');
    const bad = await make('bad');
    // A file where the plots folder should be: the figure cannot be written.
    writeFileSync(bad.plotsDir, '');
    const queue = new FigureQueue();
    queue.add(good.path, 'f / good');
    queue.add(bad.path, 'f / bad');
    await queue.drain();
    expect(readFileSync(join(good.plotsDir, 'training.png')).subarray(1, 4).toString()).toBe('PNG');
    expect(JSON.parse(readFileSync(join(good.plotsDir, 'training.vl.json'), 'utf8')).data.values.length).toBeGreaterThan(0);
    expect((await good.readRecord())!.warnings).toBeUndefined();
    expect((await bad.readRecord())!.warnings).toEqual([expect.stringMatching(/^plots\/training could not be rendered: /)]);
    // Drawing again does not repeat the warning.
    await drawTrainingFigure(bad.path, 'f / bad');
    expect((await bad.readRecord())!.warnings).toHaveLength(1);
    expect(existsSync(join(root, 'bad/plots/training.png'))).toBe(false);
  }, 60_000);
});

describe('confusion matrix from the last evaluation', () => {
  it('equals a separate pass of the final model over the test set, and sums to its size', async () => {
    await selectBackend('wasm');
    const cfg = config(5);
    const data = await loadDataset(cfg.dataset as DatasetConfig, { seed: cfg.seed, baseDir: '/' });
    const model = buildModel(cfg.models.m!, data, cfg.seed);
    let counted: number[][] | undefined;
    let calls = 0;
    const rows = await train({
      config: cfg,
      data,
      model,
      optimizer: createOptimizer(cfg.training),
      hooks: { onConfusion: (c) => ((counted = c), calls++) },
    });
    expect(calls).toBe(1);
    expect(counted).toEqual(await confusionMatrix(model, data.test, data.classes));
    expect(counted!.flat().reduce((a, b) => a + b, 0)).toBe(96);
    const diagonal = counted!.reduce((n, row, i) => n + row[i]!, 0);
    expect(diagonal / 96).toBeCloseTo(rows.at(-1)!.test_accuracy, 12);
    model.dispose();
    data.dispose();
  }, 60_000);
});
