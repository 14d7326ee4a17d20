/**
 * Model presets of the study, built as tfjs layers models so checkpoints use the
 * standard layers format. Every model outputs logits (no softmax): the loss is
 * softmax cross-entropy on logits, as in the reference.
 *
 * Weights are initialised from seeded initialisers: conv and dense kernels Glorot-uniform
 * (Keras' default), recurrent weights uniform(±1/sqrt(hidden)) as PyTorch does (the
 * reference's framework; it also avoids tfjs' slow QR-based orthogonal initialiser).
 */
import * as tf from '@tensorflow/tfjs';
import type { ResolvedCnn, ResolvedModel, ResolvedRecurrent } from '../config/resolve.js';
import { deriveSeed } from '../util/random.js';
import { FusedRecurrent } from './fused-recurrent.js';
import { SeededDropout } from './seeded-dropout.js';

export interface InputShape {
  height: number;
  width: number;
  classes: number;
}

export function buildModel(spec: ResolvedModel, input: InputShape, seed: number): tf.LayersModel {
  const init = (layer: string, what: string) => deriveSeed(seed, 'init', layer, what);
  const x = tf.input({ shape: [input.height, input.width, 1], name: 'image' });
  const features = spec.type === 'cnn' ? cnnFeatures(x, spec, init) : recurrentFeatures(x, spec, input, init);
  let y = features;
  if (spec.dropout > 0) y = new SeededDropout({ rate: spec.dropout, name: 'dropout' }).apply(y) as tf.SymbolicTensor;
  y = tf.layers
    .dense({ units: input.classes, name: 'logits', kernelInitializer: glorot(init('logits', 'kernel')) })
    .apply(y) as tf.SymbolicTensor;
  return tf.model({ inputs: x, outputs: y, name: spec.type });
}

const glorot = (seed: number) => tf.initializers.glorotUniform({ seed });

type SeedFor = (layer: string, what: string) => number;

function cnnFeatures(x: tf.SymbolicTensor, spec: ResolvedCnn, init: SeedFor): tf.SymbolicTensor {
  let y = x;
  spec.filters.forEach((filters, i) => {
    const name = `conv${i + 1}`;
    y = tf.layers
      .conv2d({
        filters,
        kernelSize: spec.kernelSize,
        padding: 'same',
        activation: 'relu',
        name,
        kernelInitializer: glorot(init(name, 'kernel')),
      })
      .apply(y) as tf.SymbolicTensor;
    y = tf.layers.maxPooling2d({ poolSize: 2, strides: 2, name: `pool${i + 1}` }).apply(y) as tf.SymbolicTensor;
  });
  y = tf.layers.flatten({ name: 'flatten' }).apply(y) as tf.SymbolicTensor;
  return tf.layers
    .dense({ units: spec.dense, activation: 'relu', name: 'dense', kernelInitializer: glorot(init('dense', 'kernel')) })
    .apply(y) as tf.SymbolicTensor;
}

function recurrentFeatures(x: tf.SymbolicTensor, spec: ResolvedRecurrent, input: InputShape, init: SeedFor) {
  // Rows: each of the H rows is a time step of W pixels. Columns: transpose first.
  let seq: tf.SymbolicTensor =
    spec.sequence === 'columns' ? (tf.layers.permute({ dims: [2, 1, 3], name: 'columns' }).apply(x) as tf.SymbolicTensor) : x;
  const [steps, size] = spec.sequence === 'columns' ? [input.width, input.height] : [input.height, input.width];
  seq = tf.layers.reshape({ targetShape: [steps, size], name: 'sequence' }).apply(seq) as tf.SymbolicTensor;
  const bound = 1 / Math.sqrt(spec.hidden);
  for (let i = 0; i < spec.layers; i++) {
    const name = `${spec.type}${i + 1}`;
    const uniform = (what: string) => tf.initializers.randomUniform({ minval: -bound, maxval: bound, seed: init(name, what) });
    // One fused layer per stacked layer (see fused-recurrent.ts): the same weights, names
    // and maths as tfjs's LSTM/GRU/SimpleRNN (and Bidirectional), in fewer, larger kernels.
    const layer = new FusedRecurrent({
      cell: spec.type,
      units: spec.hidden,
      // Only the last layer's final step feeds the classifier.
      returnSequences: i < spec.layers - 1,
      bidirectional: spec.bidirectional,
      kernelInitializer: uniform('kernel'),
      recurrentInitializer: uniform('recurrent'),
      biasInitializer: uniform('bias'),
      name,
    });
    seq = layer.apply(seq) as tf.SymbolicTensor;
  }
  return seq;
}
