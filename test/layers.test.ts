/**
 * Layer stacks: shapes and parameter counts from the config alone agree with the built
 * tfjs model, presets are the stacks they always were (same run hashes), and a stack that
 * cannot work is one positioned error before anything runs.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { inferShapes, nameLayers, presetLayers, resolveLayer } from '../src/config/layers.js';
import { loadPlan } from '../src/config/load.js';
import { configHash, resolveModel, resolveRunConfig } from '../src/config/resolve.js';
import type { LayerSpec, ModelSpec } from '../src/config/schema.js';
import { ConfigError, type Diagnostic } from '../src/errors.js';
import { BroadcastBatchNorm } from '../src/model/batch-norm.js';
import { buildModel, parameterCount } from '../src/model/build.js';
import { selectBackend } from '../src/train/backend.js';
import { loadLayersModelFromFolder, serializeCheckpoint, writeCheckpoint } from '../src/store/checkpoint.js';

const MNIST = { height: 28, width: 28, classes: 10 };

function problems(yaml: string): Diagnostic[] {
  const dir = mkdtempSync(join(tmpdir(), 'xrun-layers-'));
  writeFileSync(join(dir, 'exp.yaml'), yaml);
  try {
    loadPlan(join(dir, 'exp.yaml'), { cwd: dir });
  } catch (err) {
    if (err instanceof ConfigError) return err.diagnostics;
    throw err;
  }
  return [];
}

const CONV_BN: LayerSpec[] = [
  { type: 'conv2d', filters: 8, activation: 'linear' },
  { type: 'batchNorm' },
  { type: 'activation', activation: 'relu' },
  { type: 'maxPool2d' },
  { type: 'conv2d', filters: 16, kernelSize: 5, padding: 'valid' },
  { type: 'batchNorm' },
  { type: 'avgPool2d', poolSize: 2 },
  { type: 'conv2d', filters: 16, strides: 2 },
  { type: 'globalAveragePool' },
  { type: 'dropout', rate: 0.2 },
  { type: 'dense', units: 12, activation: 'tanh' },
];
const BILSTM_GRU: LayerSpec[] = [
  { type: 'sequence', by: 'columns' },
  { type: 'lstm', units: 6, bidirectional: true, returnSequences: true },
  { type: 'gru', units: 5, returnSequences: true },
  { type: 'attentionPool', units: 4 },
];
const CONV_THEN_RAU: LayerSpec[] = [
  { type: 'conv2d', filters: 4 },
  { type: 'maxPool2d', poolSize: 4 },
  { type: 'sequence' },
  { type: 'rau', units: 3, bidirectional: true },
];

describe('shapes from the config', () => {
  it('follows conv, pooling, sequence and recurrent layers', () => {
    const layers = CONV_BN.map(resolveLayer);
    const { shapes, problem } = inferShapes(layers, [28, 28, 1], 10);
    expect(problem).toBeUndefined();
    expect(shapes.slice(0, 9)).toEqual([
      [28, 28, 8], [28, 28, 8], [28, 28, 8], [14, 14, 8], [10, 10, 16], [10, 10, 16], [5, 5, 16], [3, 3, 16], [16],
    ]);
    expect(inferShapes(BILSTM_GRU.map(resolveLayer), [28, 28, 1], 10).shapes).toEqual([[28, 28], [28, 12], [28, 5], [5]]);
    expect(inferShapes(CONV_THEN_RAU.map(resolveLayer), [28, 28, 1], 10).shapes).toEqual([[28, 28, 4], [7, 7, 4], [7, 28], [6]]);
  });

  it('says which layer receives which shape', () => {
    const bad = inferShapes([{ type: 'conv2d', filters: 4 }, { type: 'lstm', units: 8 }].map((l) => resolveLayer(l as LayerSpec)), [28, 28, 1], 10);
    expect(bad.problem).toEqual({ index: 1, message: expect.stringContaining('lstm receives [28, 28, 4]: needs [steps, features]') });
    expect(bad.problem!.message).toContain('{ type: sequence }');
    const open = inferShapes([resolveLayer({ type: 'conv2d', filters: 4 })], [28, 28, 1], 10);
    expect(open.problem?.index).toBe(1);
    expect(open.problem?.message).toContain('the last layer outputs [28, 28, 4]');
  });

  it('presets are the stacks they were always built as', () => {
    const cnn = presetLayers(resolveModel({ type: 'cnn', dropout: 0.25 }) as never);
    expect(cnn.map((l) => l.name)).toEqual(['conv1', 'pool1', 'conv2', 'pool2', 'flatten', 'dense', 'dropout']);
    const gru = presetLayers(resolveModel({ type: 'gru', layers: 3, sequence: 'columns' }) as never);
    expect(gru.map((l) => [l.name, 'returnSequences' in l ? l.returnSequences : '-'])).toEqual([
      ['sequence', '-'], ['gru1', true], ['gru2', true], ['gru3', false],
    ]);
    expect(nameLayers([{ type: 'flatten' }, { type: 'dense', units: 3, activation: 'relu' }, { type: 'dense', units: 2, activation: 'relu' }]).map((l) => l.name)).toEqual([
      'flatten_1', 'dense_1', 'dense_2',
    ]);
  });
});

describe('built models', () => {
  beforeAll(async () => {
    await selectBackend('cpu');
  });

  const models: [string, ModelSpec][] = [
    ['cnn preset', { type: 'cnn', filters: [4, 8], dense: 16, dropout: 0.3 }],
    ['bigru preset', { type: 'gru', hidden: 6, bidirectional: true }],
    ['rau preset', { type: 'rau', hidden: 5, layers: 2 }],
    ['conv + batch norm stack', { type: 'stack', layers: CONV_BN }],
    ['bilstm into gru with attention pooling', { type: 'stack', layers: BILSTM_GRU }],
    ['conv into bidirectional rau', { type: 'stack', layers: CONV_THEN_RAU }],
  ];

  it.each(models)('%s: parameter count from the config equals the tfjs model', (_name, spec) => {
    const resolved = resolveModel(spec);
    const model = buildModel(resolved, MNIST, 1);
    expect(parameterCount(resolved, MNIST)).toBe(model.countParams());
    const out = model.predict(tf.zeros([2, 28, 28, 1])) as tf.Tensor;
    expect(out.shape).toEqual([2, 10]);
    model.dispose();
  });
});

describe('checkpoints of stacks', () => {
  beforeAll(async () => {
    await selectBackend('cpu');
  });

  it('batch norm in training mode matches tfjs BatchNormalization: output, gradients and moving statistics', () => {
    const x = tf.randomUniform([6, 5, 5, 3], -2, 3, 'float32', 8);
    const ours = new BroadcastBatchNorm({ momentum: 0.7, epsilon: 0.001 });
    const theirs = tf.layers.batchNormalization({ momentum: 0.7, epsilon: 0.001 });
    const outputs = [ours, theirs].map((layer) => {
      layer.build(x.shape);
      layer.setWeights([tf.tensor1d([1.5, 0.5, 2]), tf.tensor1d([0.1, -0.2, 0.3]), tf.zeros([3]), tf.ones([3])]);
      const weights = layer.trainableWeights.map((w) => w.read() as tf.Variable);
      const { value, grads } = tf.variableGrads(() => tf.sum(tf.square(layer.apply(x, { training: true }) as tf.Tensor)) as tf.Scalar, weights);
      return { value: value.dataSync()[0]!, grads: weights.map((w) => Array.from(grads[w.name]!.dataSync())), stats: layer.getWeights().slice(2).map((w) => Array.from(w.dataSync())) };
    });
    expect(outputs[0]!.value).toBeCloseTo(outputs[1]!.value, 3);
    outputs[0]!.grads.flat().forEach((g, i) => expect(g).toBeCloseTo(outputs[1]!.grads.flat()[i]!, 3));
    // One training pass each: both moved their statistics, the same way.
    expect(outputs[0]!.stats[0]!.every((v) => v !== 0)).toBe(true);
    outputs[0]!.stats.flat().forEach((v, i) => expect(v).toBeCloseTo(outputs[1]!.stats.flat()[i]!, 5));
  });

  it('batch norm is written as a standard BatchNormalization layer and loads back with the same predictions', async () => {
    const model = buildModel(resolveModel({ type: 'stack', layers: CONV_BN }), MNIST, 2);
    const x = tf.randomUniform([4, 28, 28, 1], -1, 1, 'float32', 5);
    // One training pass moves the batch-norm statistics away from their initial values.
    model.apply(x, { training: true });
    const optimizer = tf.train.adam(0.01);
    const dir = join(mkdtempSync(join(tmpdir(), 'xrun-layers-')), 'last');
    const row = { epoch: 1, train_loss: 1, train_accuracy: 0, test_loss: 1, test_accuracy: 0, epoch_seconds: 0, elapsed_seconds: 0 };
    await writeCheckpoint(dir, await serializeCheckpoint(model, optimizer, { epoch: 1, elapsedSeconds: 0, hash: 'h', metrics: row }));
    const json = JSON.parse((await import('node:fs')).readFileSync(join(dir, 'model.json'), 'utf8'));
    const classes = json.modelTopology.config.layers.map((l: { class_name: string }) => l.class_name);
    expect(classes.filter((c: string) => c === 'BatchNormalization')).toHaveLength(2);
    expect(classes.filter((c: string) => c.startsWith('Xrun'))).toEqual([]);
    const loaded = await loadLayersModelFromFolder(dir);
    const a = (model.predict(x) as tf.Tensor).dataSync();
    const b = (loaded.predict(x) as tf.Tensor).dataSync();
    a.forEach((v, i) => expect(b[i]).toBeCloseTo(v, 4));
    model.dispose();
    loaded.dispose();
  });
});

describe('run identity of presets', () => {
  // Hashes of these runs as recorded before presets became stacks: resolved presets are
  // unchanged, and recipe keys left at their no-op values stay out of the identity.
  const base = {
    name: 'presets',
    seed: 5,
    runtime: { backend: 'wasm' as const },
    dataset: { name: 'mnist' as const, subset: { train: 256, test: 128 } },
    training: { batchSize: 32, epochs: 2, learningRate: 0.005 },
  };
  const hashOf = (model: ModelSpec, training: Record<string, unknown> = {}) =>
    configHash(resolveRunConfig({ ...base, training: { ...base.training, ...training }, models: { m: model }, model: 'm' }, '/'));

  it('keeps the hashes recorded before the change', () => {
    expect(hashOf({ type: 'cnn', filters: [4, 8], dense: 16, dropout: 0.25 })).toBe('eae23d2ab0673500');
    expect(hashOf({ type: 'lstm', hidden: 8, layers: 2 })).toBe('39255f4a6a5340ba');
    expect(hashOf({ type: 'gru', hidden: 6, layers: 2, bidirectional: true, sequence: 'columns' })).toBe('9ac62f18809d69b7');
  });

  it('recipe keys count only when they change the numbers', () => {
    const gru = { type: 'gru', hidden: 8, layers: 2 } as const;
    const plain = hashOf(gru);
    expect(plain).toBe('3fa677ee26fb5787');
    expect(hashOf(gru, { schedule: { type: 'constant' }, warmup: 0, weightDecay: 0, clipNorm: 0, labelSmoothing: 0 })).toBe(plain);
    expect(hashOf(gru, { weightDecay: 0.001 })).not.toBe(plain);
    expect(hashOf(gru, { schedule: { type: 'step', every: 2, factor: 0.5 } })).not.toBe(plain);
  });
});

describe('sweeps into a stack', () => {
  it('an axis can address a layer by its index', () => {
    const dir = mkdtempSync(join(tmpdir(), 'xrun-layers-'));
    writeFileSync(
      join(dir, 'exp.yaml'),
      `name: t
dataset: { name: mnist }
models:
  s: { type: stack, layers: [{ type: conv2d, filters: 4 }, { type: flatten }] }
sweep:
  models.s.layers.0.filters: [4, 8]
`,
    );
    const plan = loadPlan(join(dir, 'exp.yaml'), { cwd: dir });
    const layers = plan.runs.map((r) => r.config.models.s);
    expect(layers).toEqual([4, 8].map((filters) => ({ type: 'stack', layers: [resolveLayer({ type: 'conv2d', filters }), { type: 'flatten' }] })));
  });
});

describe('stack errors in the experiment file', () => {
  it('an rnn right after a conv is one error at that layer, naming the shape it receives', () => {
    const ds = problems(`name: t
dataset: { name: mnist }
models:
  bad:
    type: stack
    layers:
      - { type: conv2d, filters: 8 }
      - { type: lstm, units: 16 }
`);
    expect(ds).toHaveLength(1);
    expect([ds[0]!.line, ds[0]!.col]).toEqual([8, 9]);
    expect(ds[0]!.message).toContain('models.bad.layers.1: lstm receives [28, 28, 8]: needs [steps, features]');
  });

  it('a cnn preset with more pooling blocks than the image allows points at filters', () => {
    const ds = problems(`name: t
dataset: { name: mnist }
models:
  deep: { type: cnn, filters: [8, 8, 8, 8, 8] }
`);
    expect(ds).toHaveLength(1);
    expect(ds[0]!.line).toBe(4);
    expect(ds[0]!.message).toContain('maxPool2d receives [1, 1, 8]');
  });

  it('early stopping on a validation metric needs a validation split', () => {
    const ds = problems(`name: t
dataset: { name: mnist }
models: { m: { type: cnn } }
training:
  earlyStopping: { patience: 1 }
`);
    expect(ds).toHaveLength(1);
    expect(ds[0]!.message).toContain('needs a validation split: set dataset.validation');
  });

  it('an unknown layer type suggests the right one', () => {
    const ds = problems(`name: t
dataset: { name: mnist }
models:
  m: { type: stack, layers: [{ type: flaten }] }
`);
    expect(ds).toHaveLength(1);
    expect(ds[0]!.message).toContain("did you mean 'flatten'");
  });
});
