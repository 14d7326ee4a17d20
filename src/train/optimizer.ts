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

/**
 * Optimiser state that tfjs's getWeights/setWeights do not carry exactly. Adam keeps the
 * running products beta1^t and beta2^t, multiplied in float32 once per step; its
 * setWeights recomputes them as pow(beta, t + 1), which rounds differently, so a resumed
 * run drifted from an unbroken one in the last bits after a few epochs. The values are
 * float32, so a JSON number holds them exactly. RMSProp and SGD keep nothing outside
 * their weights (and the step count, which setWeights restores).
 */
export type ExactState = Record<string, number>;

const ADAM_POWERS = ['accBeta1', 'accBeta2'] as const;

type WithPowers = Partial<Record<(typeof ADAM_POWERS)[number], tf.Variable>>;

export function exactStateOf(optimizer: tf.Optimizer): ExactState {
  const state: ExactState = {};
  for (const key of ADAM_POWERS) {
    const variable = (optimizer as unknown as WithPowers)[key];
    if (variable) state[key] = variable.dataSync()[0]!;
  }
  return state;
}

/** Call after `setWeights`, which would otherwise leave its own approximations in place. */
export function restoreExactState(optimizer: tf.Optimizer, state: ExactState | undefined): void {
  if (!state) return;
  for (const key of ADAM_POWERS) {
    const variable = (optimizer as unknown as WithPowers)[key];
    const value = state[key];
    if (variable && typeof value === 'number') tf.tidy(() => variable.assign(tf.scalar(value, 'float32')));
  }
}
