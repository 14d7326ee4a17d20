/**
 * Every model is a layer stack: a preset (`cnn`, `rnn`, `lstm`, `gru`, `rau`) is first
 * written out as its named stack (config/layers.ts), a `stack` is taken as written, and
 * both are built by the same registry (registry.ts), followed by the output layer. Every
 * model outputs logits (no softmax): the loss is softmax cross-entropy on logits, as in
 * the reference.
 */
import * as tf from '@tensorflow/tfjs';
import { fmtShape, inferShapes, nameLayers, presetLayers, type NamedLayer } from '../config/layers.js';
import type { ResolvedModel } from '../config/resolve.js';
import { deriveSeed } from '../util/random.js';
import { buildLayers } from './registry.js';

export interface InputShape {
  height: number;
  width: number;
  classes: number;
}

/** The model's layers, named, in order (the output layer not included). */
export function modelLayers(spec: ResolvedModel): NamedLayer[] {
  return spec.type === 'stack' ? nameLayers(spec.layers) : presetLayers(spec);
}

/** Weights of the model on this input (batch-norm statistics and the output layer included). */
export function parameterCount(spec: ResolvedModel, input: InputShape): number {
  return inferShapes(modelLayers(spec), [input.height, input.width, 1], input.classes).params;
}

export class ModelShapeError extends Error {}

export function buildModel(spec: ResolvedModel, input: InputShape, seed: number): tf.LayersModel {
  const ctx = { seedFor: (layer: string, what: string) => deriveSeed(seed, 'init', layer, what) };
  const layers = modelLayers(spec);
  const image = [input.height, input.width, 1];
  // Checked from the config before any run starts; checked again here for datasets
  // whose image size is only known once loaded.
  const { shapes, problem } = inferShapes(layers, image, input.classes);
  if (problem) {
    const where = problem.index < layers.length ? `layer ${problem.index + 1} (${layers[problem.index]!.name})` : 'the output layer';
    throw new ModelShapeError(`${where}: ${problem.message} (input images are ${fmtShape(image)})`);
  }
  const x = tf.input({ shape: image, name: 'image' });
  let y: tf.SymbolicTensor = x;
  layers.forEach((layer, i) => {
    for (const built of buildLayers(layer, ctx, i === 0 ? image : shapes[i - 1]!)) y = built.apply(y) as tf.SymbolicTensor;
  });
  y = tf.layers
    .dense({ units: input.classes, name: 'logits', kernelInitializer: tf.initializers.glorotUniform({ seed: ctx.seedFor('logits', 'kernel') }) })
    .apply(y) as tf.SymbolicTensor;
  return tf.model({ inputs: x, outputs: y, name: spec.type });
}
