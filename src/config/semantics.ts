/**
 * Checks the schema cannot express, on one run's config: that the model's layers fit the
 * images they will receive, and that the training recipe has what it needs (a validation
 * split for a val_* early-stopping metric). Each problem names its place in the file.
 */
import { inferShapes, nameLayers, presetLayers } from './layers.js';
import { resolveModel, type ResolvedModel, type RunConfig } from './resolve.js';
import type { DatasetSpec, Experiment } from './schema.js';
import type { Problem } from './validate.js';

/** Image size and classes of the built-in sets; `idx` files are only measured when loaded. */
const KNOWN_INPUT: Partial<Record<DatasetSpec['name'], { shape: number[]; classes: number; train: number }>> = {
  mnist: { shape: [28, 28, 1], classes: 10, train: 60000 },
  'fashion-mnist': { shape: [28, 28, 1], classes: 10, train: 60000 },
};

/** Weights of a run's model (output layer and batch-norm statistics included), when the image size is known. */
export function parameterCountOf(dataset: DatasetSpec, model: ResolvedModel): number | undefined {
  const input = KNOWN_INPUT[dataset.name];
  if (!input) return undefined;
  const layers = model.type === 'stack' ? nameLayers(model.layers) : presetLayers(model);
  const { params, problem } = inferShapes(layers, input.shape, input.classes);
  return problem ? undefined : params;
}

/**
 * The shape problem of a run's model on images of a size known only once the data files
 * are read (idx datasets), as one sentence naming the model and layer; undefined when it fits.
 */
export function modelShapeProblem(config: RunConfig, input: { height: number; width: number; classes: number }): string | undefined {
  const model = config.models[config.model]!;
  const layers = model.type === 'stack' ? nameLayers(model.layers) : presetLayers(model);
  const { problem } = inferShapes(layers, [input.height, input.width, 1], input.classes);
  if (!problem) return undefined;
  const where =
    model.type !== 'stack' ? `models.${config.model}` : `models.${config.model}.layers.${Math.min(problem.index, layers.length - 1)}`;
  return `${where}: ${problem.message} (the images are ${input.height}x${input.width})`;
}

export function runProblems(config: Experiment & { model: string }): Problem[] {
  return [...modelProblems(config), ...recipeProblems(config)];
}

function modelProblems(config: Experiment & { model: string }): Problem[] {
  const input = KNOWN_INPUT[config.dataset.name];
  const spec = config.models[config.model];
  if (!input || !spec) return [];
  const resolved = resolveModel(spec);
  const layers = resolved.type === 'stack' ? nameLayers(resolved.layers) : presetLayers(resolved);
  const { problem } = inferShapes(layers, input.shape, input.classes);
  if (!problem) return [];
  const base = ['models', config.model];
  if (resolved.type === 'stack') {
    const index = Math.min(problem.index, layers.length - 1);
    const message = problem.index < layers.length ? problem.message : `after the last layer: ${problem.message}`;
    return [{ path: [...base, 'layers', index], at: 'value', message }];
  }
  // Only a cnn preset can misfit: too many pooling blocks for the image.
  return [{ path: [...base, 'filters'], at: 'value', message: `${problem.message} (each filter count adds a conv block that halves the image)` }];
}

function recipeProblems(config: Experiment & { model: string }): Problem[] {
  const problems: Problem[] = [];
  const validation = config.dataset.validation;
  if (validation !== undefined && validation >= 1 && !Number.isInteger(validation)) {
    problems.push({
      path: ['dataset', 'validation'],
      at: 'value',
      message: `must be a whole number of examples (>= 1) or a fraction below 1, got ${validation}`,
    });
  }
  const train = config.dataset.subset?.train ?? KNOWN_INPUT[config.dataset.name]?.train;
  if (validation !== undefined && validation >= 1 && train !== undefined && validation >= train) {
    problems.push({
      path: ['dataset', 'validation'],
      at: 'value',
      message: `holds out ${validation} examples but the training split has only ${train}; leave some to train on`,
    });
  }
  const early = config.training?.earlyStopping;
  const metric = early?.metric ?? 'val_loss';
  if (early && metric.startsWith('val_') && validation === undefined) {
    problems.push({
      path: early.metric === undefined ? ['training', 'earlyStopping'] : ['training', 'earlyStopping', 'metric'],
      at: 'value',
      message: `early stopping on ${metric} needs a validation split: set dataset.validation (e.g. 0.1), or watch train_loss`,
    });
  }
  return problems;
}
