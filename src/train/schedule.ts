/**
 * The learning rate of each epoch: a pure function of the config and the epoch number,
 * so a resumed run trains every epoch at the rate an unbroken one would.
 */
import type * as tf from '@tensorflow/tfjs';
import type { ResolvedTraining } from '../config/resolve.js';

/** True when the rate changes from epoch to epoch (metrics.csv then logs it as `lr`). */
export function hasSchedule(training: ResolvedTraining): boolean {
  return (training.schedule !== undefined && training.schedule.type !== 'constant') || (training.warmup ?? 0) > 0;
}

/**
 * True when an epoch's rate depends on how many epochs the run has in all, so a run
 * trained for more epochs differs from the start and a shorter run cannot be continued.
 */
export function dependsOnEpochCount(training: ResolvedTraining): boolean {
  return training.schedule?.type === 'cosine';
}

/** Rate of `epoch` (1-based): linear warm-up, then the schedule over the remaining epochs. */
export function learningRateAt(training: ResolvedTraining, epoch: number): number {
  const base = training.learningRate;
  const warmup = training.warmup ?? 0;
  if (epoch <= warmup) return (base * epoch) / (warmup + 1);
  const t = epoch - warmup - 1;
  const schedule = training.schedule ?? { type: 'constant' };
  switch (schedule.type) {
    case 'constant':
      return base;
    case 'step':
      return base * schedule.factor ** Math.floor(t / schedule.every);
    case 'exponential':
      return base * schedule.factor ** t;
    case 'cosine': {
      const span = Math.max(1, training.epochs - warmup);
      const min = schedule.minRate ?? 0;
      return min + ((base - min) * (1 + Math.cos((Math.PI * t) / span))) / 2;
    }
  }
}

/** tfjs's Adam and RMSProp read `learningRate` at every step; SGD caches it, hence its setter. */
export function setLearningRate(optimizer: tf.Optimizer, rate: number): void {
  const o = optimizer as unknown as { learningRate: number; setLearningRate?(rate: number): void };
  if (typeof o.setLearningRate === 'function') o.setLearningRate(rate);
  else o.learningRate = rate;
}
