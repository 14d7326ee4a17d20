/**
 * Longest runs first. With `--jobs N`, a long run started last keeps one worker busy
 * while the others sit idle; starting the longest first lets the short ones fill in
 * around it, so the workers finish together.
 *
 * The cost of a run is estimated from its config alone: multiply-adds of one forward
 * pass, times the examples it will see (training counted three times for the backward
 * pass, evaluation once) over the epochs it still has to train. On the wasm backend
 * this tracks measured throughput of the study's CNN, RNN, LSTM, GRU and their
 * bidirectional variants to within about 20%, which is plenty for ordering.
 */
import type { RunConfig, ResolvedModel } from '../config/resolve.js';
import { parameterCountOf } from '../config/semantics.js';

/** MNIST and Fashion-MNIST sizes; an IDX set of unknown size is assumed to be like them. */
const FULL_SPLIT = { train: 60_000, test: 10_000 };
const IMAGE = { height: 28, width: 28 };
const CLASSES = 10;
// The RAU cell is costed like a GRU: close in measured speed.
const GATES = { rnn: 1, gru: 3, lstm: 4, rau: 3 } as const;

/** Multiply-adds of one forward pass of one example. */
export function forwardCost(model: ResolvedModel, image = IMAGE, classes = CLASSES): number {
  if (model.type === 'stack') {
    // A layer stack: each weight used about once per image row. Rough (a convolution's
    // weights are used at every position), but it only orders runs.
    const params = parameterCountOf({ name: 'mnist' }, model) ?? 0;
    return params * image.height;
  }
  if (model.type === 'cnn') {
    let cost = 0;
    let channels = 1;
    let h = image.height;
    let w = image.width;
    for (const filters of model.filters) {
      cost += h * w * model.kernelSize * model.kernelSize * channels * filters;
      channels = filters;
      h = Math.floor(h / 2);
      w = Math.floor(w / 2);
    }
    return cost + h * w * channels * model.dense + model.dense * classes;
  }
  const [steps, size] = model.sequence === 'columns' ? [image.width, image.height] : [image.height, image.width];
  const directions = model.bidirectional ? 2 : 1;
  let cost = 0;
  let input = size;
  for (let i = 0; i < model.layers; i++) {
    cost += steps * directions * GATES[model.type] * model.hidden * (input + model.hidden);
    input = model.hidden * directions;
  }
  return cost + input * classes;
}

/** Estimated work left in a run, in multiply-adds; only compared with other runs' estimates. */
export function estimateCost(config: RunConfig, epochsDone = 0): number {
  const model = config.models[config.model]!;
  const train = config.dataset.subset?.train ?? FULL_SPLIT.train;
  const test = config.dataset.subset?.test ?? FULL_SPLIT.test;
  const epochs = Math.max(0, config.training.epochs - epochsDone);
  return forwardCost(model) * epochs * (3 * train + test);
}

/** The items, most expensive first; equal costs keep their order. */
export function longestFirst<T>(items: readonly T[], cost: (item: T) => number): T[] {
  return items
    .map((item, index) => ({ item, index, cost: cost(item) }))
    .sort((a, b) => b.cost - a.cost || a.index - b.index)
    .map((x) => x.item);
}
