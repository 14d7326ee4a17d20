import * as tf from '@tensorflow/tfjs';
import type { RunConfig } from '../config/resolve.js';

export function createOptimizer(training: RunConfig['training']): tf.Optimizer {
  switch (training.optimizer) {
    case 'adam':
      return tf.train.adam(training.learningRate);
    case 'sgd':
      return tf.train.sgd(training.learningRate);
    case 'rmsprop':
      return tf.train.rmsprop(training.learningRate);
    default:
      throw new Error(`unknown optimizer ${String(training.optimizer)}`);
  }
}
