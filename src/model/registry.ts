/**
 * From a layer's config to the tfjs layers that compute it, one entry per layer kind
 * (the registry behind every stack, presets included). Shapes and parameter counts of
 * the same kinds live in config/layers.ts.
 *
 * Initialisers are seeded from (run seed, layer name): conv, dense and attention kernels
 * Glorot-uniform (Keras' default), recurrent weights uniform(+-1/sqrt(units)) as PyTorch
 * does (the reference's framework; it also avoids tfjs' slow QR-based orthogonal
 * initialiser), biases zero.
 */
import * as tf from '@tensorflow/tfjs';
import type { CellType, NamedLayer, Shape } from '../config/layers.js';
import { AttentionPool } from './attention-pool.js';
import { BroadcastBatchNorm } from './batch-norm.js';
import { FusedRecurrent } from './fused-recurrent.js';
import { SeededDropout } from './seeded-dropout.js';

export interface BuildContext {
  /** Seed of one initialiser of one layer. */
  seedFor(layer: string, what: string): number;
}

/** `input` is the shape the layer receives, batch axis left out. */
type Builder<L> = (layer: L, ctx: BuildContext, input: Shape) => tf.layers.Layer[];
type Of<T extends NamedLayer['type']> = Extract<NamedLayer, { type: T }>;

const glorot = (seed: number) => tf.initializers.glorotUniform({ seed });

/** The file's activation names are tfjs's own identifiers. */
const tfActivation = (name: string) => name as 'relu';

const recurrent: Builder<Of<CellType>> = (l, ctx) => {
  const bound = 1 / Math.sqrt(l.units);
  const uniform = (what: string) => tf.initializers.randomUniform({ minval: -bound, maxval: bound, seed: ctx.seedFor(l.name, what) });
  // One fused layer (see fused-recurrent.ts): the same weights, names and maths as tfjs's
  // LSTM/GRU/SimpleRNN (and Bidirectional), in fewer, larger kernels; RAU the same way.
  return [
    new FusedRecurrent({
      cell: l.type,
      units: l.units,
      returnSequences: l.returnSequences,
      bidirectional: l.bidirectional,
      kernelInitializer: uniform('kernel'),
      recurrentInitializer: uniform('recurrent'),
      biasInitializer: uniform('bias'),
      name: l.name,
    }),
  ];
};

const pool = (l: Of<'maxPool2d' | 'avgPool2d'>) => {
  const args = { poolSize: l.poolSize, strides: l.strides, padding: l.padding, name: l.name };
  return [l.type === 'maxPool2d' ? tf.layers.maxPooling2d(args) : tf.layers.averagePooling2d(args)];
};

export const LAYER_BUILDERS: { [T in NamedLayer['type']]: Builder<Of<T>> } = {
  conv2d: (l, ctx) => [
    tf.layers.conv2d({
      filters: l.filters,
      kernelSize: l.kernelSize,
      strides: l.strides,
      padding: l.padding,
      activation: tfActivation(l.activation),
      name: l.name,
      kernelInitializer: glorot(ctx.seedFor(l.name, 'kernel')),
    }),
  ],
  maxPool2d: pool,
  avgPool2d: pool,
  batchNorm: (l) => [new BroadcastBatchNorm({ momentum: l.momentum, epsilon: l.epsilon, name: l.name })],
  dropout: (l) => [new SeededDropout({ rate: l.rate, name: l.name })],
  activation: (l) => [tf.layers.activation({ activation: tfActivation(l.activation), name: l.name })],
  flatten: (l) => [tf.layers.flatten({ name: l.name })],
  dense: (l, ctx) => [
    tf.layers.dense({
      units: l.units,
      activation: tfActivation(l.activation),
      name: l.name,
      kernelInitializer: glorot(ctx.seedFor(l.name, 'kernel')),
    }),
  ],
  sequence: (l, _ctx, [h, w, c]) => {
    // Rows: each row is a time step of width*channels values. Columns: transpose first.
    if (l.by === 'rows') return [tf.layers.reshape({ targetShape: [h!, w! * c!], name: l.name })];
    const permuteName = l.name === 'sequence' ? 'columns' : `${l.name}_columns`;
    return [tf.layers.permute({ dims: [2, 1, 3], name: permuteName }), tf.layers.reshape({ targetShape: [w!, h! * c!], name: l.name })];
  },
  rnn: recurrent,
  lstm: recurrent,
  gru: recurrent,
  rau: recurrent,
  globalAveragePool: (l, _ctx, input) => [
    input.length === 3 ? tf.layers.globalAveragePooling2d({ name: l.name }) : tf.layers.globalAveragePooling1d({ name: l.name }),
  ],
  attentionPool: (l, ctx) => [
    new AttentionPool({
      units: l.units,
      kernelInitializer: glorot(ctx.seedFor(l.name, 'kernel')),
      scoreInitializer: glorot(ctx.seedFor(l.name, 'score')),
      name: l.name,
    }),
  ],
};

export function buildLayers(layer: NamedLayer, ctx: BuildContext, input: Shape): tf.layers.Layer[] {
  return (LAYER_BUILDERS[layer.type] as Builder<NamedLayer>)(layer, ctx, input);
}
