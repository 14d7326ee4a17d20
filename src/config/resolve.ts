/**
 * From a validated run config to a fully resolved one: every default filled in and every
 * relative data path made absolute, so `config.yaml` in a run folder says exactly what ran
 * and can be run again on its own from anywhere.
 */
import { createHash } from 'node:crypto';
import { isAbsolute, resolve } from 'node:path';
import {
  DEFAULTS,
  type BackendRequest,
  type DatasetSpec,
  type Experiment,
  type ModelSpec,
  type NormaliseSpec,
  type TrainingSpec,
} from './schema.js';
import { resolveLayer, type ResolvedLayer, type ResolvedPreset } from './layers.js';

export type ResolvedCnn = Extract<ResolvedPreset, { type: 'cnn' }>;
export type ResolvedRecurrent = Exclude<ResolvedPreset, { type: 'cnn' }>;
export interface ResolvedStack {
  type: 'stack';
  layers: ResolvedLayer[];
}
export type ResolvedModel = ResolvedPreset | ResolvedStack;
export type ResolvedDataset = DatasetSpec & { normalise: NormaliseSpec };
/**
 * The four basic keys always; the recipe keys (schedule, warm-up, weight decay, clipping,
 * label smoothing, early stopping) only when the file sets them, with their own defaults
 * filled in.
 */
export type ResolvedTraining = Required<Pick<TrainingSpec, 'batchSize' | 'epochs' | 'optimizer' | 'learningRate'>> &
  Omit<TrainingSpec, 'batchSize' | 'epochs' | 'optimizer' | 'learningRate' | 'earlyStopping'> & {
    earlyStopping?: Required<NonNullable<TrainingSpec['earlyStopping']>>;
  };

export interface RunConfig {
  name: string;
  description?: string;
  seed: number;
  output?: string;
  runtime: { backend: BackendRequest; jobs: number; gpus?: number[] };
  dataset: ResolvedDataset;
  model: string;
  models: Record<string, ResolvedModel>;
  training: ResolvedTraining;
}

export function resolveModel(spec: ModelSpec): ResolvedModel {
  if (spec.type === 'cnn') return { ...DEFAULTS.cnn, filters: [...DEFAULTS.cnn.filters], ...spec };
  if (spec.type === 'stack') return { type: 'stack', layers: spec.layers.map(resolveLayer) };
  return { ...DEFAULTS.recurrent, ...spec };
}

export function resolveTraining(spec: TrainingSpec = {}): ResolvedTraining {
  const out: ResolvedTraining = { ...DEFAULTS.training, ...spec } as ResolvedTraining;
  if (spec.schedule?.type === 'cosine') out.schedule = { minRate: 0, ...spec.schedule };
  if (spec.earlyStopping) out.earlyStopping = { ...DEFAULTS.earlyStopping, ...spec.earlyStopping } as ResolvedTraining['earlyStopping'];
  return out;
}

/** `config` is a validated single-run experiment (a grid cell): `model` is set and present in `models`. */
export function resolveRunConfig(config: Experiment & { model: string }, baseDir: string): RunConfig {
  const abs = (p: string) => (isAbsolute(p) ? p : resolve(baseDir, p));
  const ds = config.dataset;
  const dataset: ResolvedDataset =
    ds.name === 'idx'
      ? {
          ...ds,
          train: { images: abs(ds.train.images), labels: abs(ds.train.labels) },
          test: { images: abs(ds.test.images), labels: abs(ds.test.labels) },
          normalise: ds.normalise ?? DEFAULTS.normalise,
        }
      : ds.name === 'fashion-mnist'
        ? { ...ds, dir: abs(ds.dir ?? DEFAULTS.fashionMnistDir), normalise: ds.normalise ?? DEFAULTS.normalise }
        : { ...ds, normalise: ds.normalise ?? DEFAULTS.normalise };
  const spec = config.models[config.model]!;
  const out: RunConfig = {
    name: config.name,
    ...(config.description !== undefined ? { description: config.description } : {}),
    seed: config.seed ?? DEFAULTS.seed,
    ...(config.output !== undefined ? { output: config.output } : {}),
    runtime: { backend: DEFAULTS.backend, jobs: DEFAULTS.jobs, ...config.runtime },
    dataset,
    model: config.model,
    models: { [config.model]: resolveModel(spec) },
    training: resolveTraining(config.training),
  };
  return out;
}

/**
 * A run config with its model inlined (`model: {name, type, ...}` instead of a one-entry
 * `models` map), so two runs of differently named models compare field by field.
 */
export function withModelInlined(config: Record<string, unknown>): Record<string, unknown> {
  const { model, models, ...rest } = config;
  if (typeof model !== 'string' || !models || typeof models !== 'object') return config;
  return { ...rest, model: { name: model, ...((models as Record<string, object>)[model] ?? {}) } };
}

/** Everything that changes a run's numbers, and nothing that does not (name, output, runtime). */
export function identityOf(config: RunConfig): unknown {
  return { seed: config.seed, dataset: withoutDefaultDir(config.dataset), model: config.models[config.model], training: withoutNoOps(config.training) };
}

/**
 * The default Fashion-MNIST folder is written into config.yaml but left out of the
 * identity, so runs hashed before it was written out keep their hash, and naming the
 * default explicitly is the same run as leaving it out.
 */
function withoutDefaultDir(dataset: ResolvedDataset): ResolvedDataset {
  if (dataset.name !== 'fashion-mnist' || dataset.dir !== DEFAULTS.fashionMnistDir) return dataset;
  const { dir: _dir, ...rest } = dataset;
  return rest as ResolvedDataset;
}

/**
 * Recipe keys at values that change nothing (constant rate, no warm-up, decay, clipping or
 * smoothing) are left out, so writing them down keeps the runs' identity.
 */
function withoutNoOps(training: ResolvedTraining): ResolvedTraining {
  const out = { ...training };
  const noOp = DEFAULTS.recipe;
  if (out.schedule?.type === noOp.schedule.type) delete out.schedule;
  for (const key of ['warmup', 'weightDecay', 'clipNorm', 'labelSmoothing'] as const) if (out[key] === noOp[key]) delete out[key];
  return out;
}

/** The identity hash with `training.epochs` left out: runs that differ only in length share it. */
export function configHashExceptEpochs(config: RunConfig): string {
  return configHash({ ...config, training: { ...config.training, epochs: 0 } });
}

export function configHash(config: RunConfig): string {
  return createHash('sha256').update(canonicalJson(identityOf(config))).digest('hex').slice(0, 16);
}

/** JSON with sorted keys, so equal configs hash equally whatever the key order in the file. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
