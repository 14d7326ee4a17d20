import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { FusedRecurrent, standardLayerConfig, type FusedCellType } from '../src/model/fused-recurrent.js';
import { selectBackend } from '../src/train/backend.js';

const STEPS = 28;
const SIZE = 28;
const UNITS = 32;
const BATCH = 8;

interface Variant {
  cell: FusedCellType;
  bidirectional: boolean;
  /** Of the second (last) layer; the first always returns sequences, as in build.ts. */
  returnSequences: boolean;
}

/** Seeded uniform(±1/sqrt(units)) initialisers, one seed per layer and weight, as build.ts does. */
function initializers(layer: number) {
  const bound = 1 / Math.sqrt(UNITS);
  const uniform = (k: number) => tf.initializers.randomUniform({ minval: -bound, maxval: bound, seed: 1000 * layer + k });
  return { kernelInitializer: uniform(1), recurrentInitializer: uniform(2), biasInitializer: uniform(3) };
}

/** Two stacked layers built the way build.ts builds them. */
function standardModel(v: Variant): tf.LayersModel {
  const x = tf.input({ shape: [STEPS, SIZE], name: 'sequence' });
  let y: tf.SymbolicTensor = x;
  for (let i = 0; i < 2; i++) {
    const name = `${v.cell}${i + 1}`;
    const args = {
      units: UNITS,
      returnSequences: i === 0 || v.returnSequences,
      ...(v.cell === 'rnn' ? {} : { recurrentActivation: 'sigmoid' as const }),
      ...initializers(i),
      name: v.bidirectional ? `${name}_cell` : name,
    };
    const cell = v.cell === 'lstm' ? tf.layers.lstm(args) : v.cell === 'gru' ? tf.layers.gru(args) : tf.layers.simpleRNN(args);
    const layer = v.bidirectional ? tf.layers.bidirectional({ layer: cell, mergeMode: 'concat', name }) : cell;
    y = layer.apply(y) as tf.SymbolicTensor;
  }
  return tf.model({ inputs: x, outputs: y });
}

function fusedModel(v: Variant): tf.LayersModel {
  const x = tf.input({ shape: [STEPS, SIZE], name: 'sequence' });
  let y: tf.SymbolicTensor = x;
  for (let i = 0; i < 2; i++) {
    y = new FusedRecurrent({
      cell: v.cell,
      units: UNITS,
      returnSequences: i === 0 || v.returnSequences,
      bidirectional: v.bidirectional,
      ...initializers(i),
      name: `${v.cell}${i + 1}`,
    }).apply(y) as tf.SymbolicTensor;
  }
  return tf.model({ inputs: x, outputs: y });
}

const names = (m: tf.LayersModel) => m.weights.map((w) => w.originalName);

function copyWeightsByName(from: tf.LayersModel, to: tf.LayersModel): void {
  const byName = new Map(from.weights.map((w) => [w.originalName, w.read()]));
  to.weights.forEach((w) => w.write(byName.get(w.originalName)!));
}

/** max |a - b| / max |b|. */
function relativeError(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => {
    const diff = tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]!;
    const scale = tf.max(tf.abs(b)).dataSync()[0]!;
    return diff / Math.max(scale, 1e-12);
  });
}

function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]!);
}

function gradients(model: tf.LayersModel, x: tf.Tensor, probe: tf.Tensor): Map<string, tf.Tensor> {
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const { grads, value } = tf.variableGrads(() => tf.sum(tf.mul(model.apply(x) as tf.Tensor, probe)) as tf.Scalar, vars);
  value.dispose();
  const byVar = new Map(Object.entries(grads));
  return new Map(model.trainableWeights.map((w, i) => [w.originalName, byVar.get(vars[i]!.name)!]));
}

/** What checkpoint.ts would write: the topology with fused layers described as standard ones. */
function portable(topology: unknown): unknown {
  return JSON.parse(JSON.stringify(topology), (_key, value: unknown) => {
    const layer = value as { class_name?: unknown; config?: Record<string, unknown> } | null;
    if (layer && typeof layer === 'object' && layer.class_name === FusedRecurrent.className) {
      return { ...layer, ...standardLayerConfig(layer.config!) };
    }
    return value;
  });
}

const VARIANTS: Variant[] = (['lstm', 'gru', 'rnn'] as const).flatMap((cell) =>
  [false, true].flatMap((bidirectional) => [true, false].map((returnSequences) => ({ cell, bidirectional, returnSequences }))),
);

describe('FusedRecurrent', () => {
  beforeAll(async () => {
    await selectBackend('wasm');
  });

  it.each(VARIANTS)('$cell bidirectional=$bidirectional returnSequences=$returnSequences matches the standard layers', (v) => {
    const standard = standardModel(v);
    const fused = fusedModel(v);
    try {
      // Same weights, names, shapes and order; same seeds give the same initial values.
      expect(names(fused)).toEqual(names(standard));
      expect(fused.weights.map((w) => w.shape)).toEqual(standard.weights.map((w) => w.shape));
      standard.weights.forEach((w, i) => expect(maxAbsDiff(fused.weights[i]!.read(), w.read())).toBe(0));

      // Perturb the standard weights so the comparison does not rely on the shared initial values.
      tf.tidy(() => standard.weights.forEach((w, i) => w.write(tf.add(w.read(), tf.randomUniform(w.shape as number[], -0.1, 0.1, 'float32', 7 + i)))));
      copyWeightsByName(standard, fused);

      tf.tidy(() => {
        const x = tf.randomNormal([BATCH, STEPS, SIZE], 0, 1, 'float32', 42);
        const ys = standard.predict(x) as tf.Tensor;
        const yf = fused.predict(x) as tf.Tensor;
        expect(yf.shape).toEqual(ys.shape);
        expect(yf.shape).toEqual([BATCH, ...(v.returnSequences ? [STEPS] : []), (v.bidirectional ? 2 : 1) * UNITS]);
        expect(maxAbsDiff(yf, ys)).toBeLessThan(1e-5);

        const probe = tf.randomNormal(ys.shape, 0, 1, 'float32', 43);
        const gs = gradients(standard, x, probe);
        const gf = gradients(fused, x, probe);
        expect([...gf.keys()]).toEqual([...gs.keys()]);
        for (const [name, g] of gs) {
          const err = relativeError(gf.get(name)!, g);
          expect(err, name).toBeLessThan(1e-4);
        }
      });
    } finally {
      standard.dispose();
      fused.dispose();
    }
  });

  it.each(VARIANTS.filter((v) => !v.returnSequences))(
    '$cell bidirectional=$bidirectional saves as standard layers that tf.loadLayersModel reads',
    async (v) => {
      const fused = fusedModel(v);
      let saved: tf.io.ModelArtifacts | undefined;
      await fused.save(
        tf.io.withSaveHandler(async (artifacts) => {
          saved = artifacts;
          return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
        }),
      );
      const topology = portable(saved!.modelTopology) as { config: { layers: { class_name: string }[] } };
      expect(JSON.stringify(topology)).not.toContain(FusedRecurrent.className);
      const classes = topology.config.layers.map((l) => l.class_name);
      const standardClass = { lstm: 'LSTM', gru: 'GRU', rnn: 'SimpleRNN' }[v.cell];
      expect(classes.slice(1)).toEqual(v.bidirectional ? ['Bidirectional', 'Bidirectional'] : [standardClass, standardClass]);

      const loaded = await tf.loadLayersModel(
        tf.io.fromMemory({ modelTopology: topology as object, weightSpecs: saved!.weightSpecs!, weightData: saved!.weightData! }),
      );
      try {
        expect(names(loaded)).toEqual(names(fused));
        const x = tf.randomNormal([BATCH, STEPS, SIZE], 0, 1, 'float32', 44);
        const yl = loaded.predict(x) as tf.Tensor;
        const yf = fused.predict(x) as tf.Tensor;
        expect(maxAbsDiff(yl, yf)).toBeLessThan(1e-5);
        // The rewritten topology is exactly what the standard model saves.
        const direct = standardModel(v);
        let directTopology: unknown;
        await direct.save(
          tf.io.withSaveHandler(async (artifacts) => {
            directTopology = artifacts.modelTopology;
            return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
          }),
        );
        expect(topology.config.layers).toEqual((directTopology as typeof topology).config.layers);
        direct.dispose();
        tf.dispose([x, yl, yf]);
      } finally {
        loaded.dispose();
        fused.dispose();
      }
    },
  );

  it('round-trips through its own config', () => {
    const layer = new FusedRecurrent({ cell: 'gru', units: 4, returnSequences: true, bidirectional: true, name: 'g', ...initializers(0) });
    const config = layer.getConfig();
    const again = FusedRecurrent.fromConfig(FusedRecurrent, config) as FusedRecurrent;
    expect(again.getConfig()).toEqual(config);
    expect(standardLayerConfig(config)).toMatchObject({
      class_name: 'Bidirectional',
      config: { merge_mode: 'concat', name: 'g', layer: { class_name: 'GRU', config: { name: 'g_cell', units: 4, return_sequences: true } } },
    });
  });
});
