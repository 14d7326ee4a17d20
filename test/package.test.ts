/**
 * The library as its README shows it: imported by the package name (package.json
 * `exports`, resolved from dist/ like any installed package), and a checkpoint loaded
 * without any setup such as `tf.ready()`.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { buildModel } from '../src/model/build.js';
import { resolveModel } from '../src/config/resolve.js';
import { serializeCheckpoint, writeCheckpoint } from '../src/store/checkpoint.js';
import { selectBackend } from '../src/train/backend.js';
import { createOptimizer } from '../src/train/optimizer.js';

describe("import ... from 'xrun'", () => {
  it('resolves to the built library, and loadLayersModelFromFolder loads a checkpoint with no setup', async () => {
    await selectBackend('cpu');
    const model = buildModel(resolveModel({ type: 'gru', hidden: 4, layers: 1 }), { height: 6, width: 5, classes: 3 }, 1);
    const dir = join(mkdtempSync(join(tmpdir(), 'xrun-pkg-')), 'last');
    const expected = Array.from((model.predict(tf.ones([2, 6, 5, 1])) as tf.Tensor).dataSync());
    const state = {
      epoch: 1,
      elapsedSeconds: 0,
      hash: 'x',
      bestTestAccuracy: 0,
      metrics: { epoch: 1, train_loss: 0, train_accuracy: 0, test_loss: 0, test_accuracy: 0, epoch_seconds: 0, elapsed_seconds: 0 },
    };
    await writeCheckpoint(dir, await serializeCheckpoint(model, createOptimizer({ optimizer: 'adam', learningRate: 0.001, batchSize: 1, epochs: 1 }), state));
    model.dispose();
    // A script as a user writes it: no tf.ready(), no backend choice, just the import and the call.
    const script = `
      import { loadLayersModelFromFolder, loadPlan } from 'xrun';
      import * as tf from '@tensorflow/tfjs';
      const model = await loadLayersModelFromFolder(${JSON.stringify(dir)});
      console.log(JSON.stringify({ plan: typeof loadPlan, out: Array.from(model.predict(tf.ones([2, 6, 5, 1])).dataSync()) }));
    `;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: resolve('.'), encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const printed = JSON.parse(r.stdout.trim().split('\n').pop()!);
    expect(printed.plan).toBe('function');
    expect(printed.out).toHaveLength(6);
    printed.out.forEach((v: number, i: number) => expect(v).toBeCloseTo(expected[i]!, 5));
  });
});
