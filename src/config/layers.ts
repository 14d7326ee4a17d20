/**
 * Layer stacks as data: the resolved form of every layer kind, the presets (`cnn`, `rnn`,
 * `lstm`, `gru`, `rau`) written out as named stacks, and shape inference. All of it is
 * plain arithmetic on the config, so a stack that cannot work is reported at its place in
 * the file before any run starts, and `plan` can count parameters without building a model.
 * `src/model/registry.ts` turns the same layer list into tfjs layers.
 */
import { LAYER_DEFAULTS, type LayerSpec, type ModelSpec } from './schema.js';

export type Activation = Extract<LayerSpec, { type: 'dense' }>['activation'] & string;
export type CellType = 'rnn' | 'lstm' | 'gru' | 'rau';

/** A layer with every default filled in. */
export type ResolvedLayer =
  | { type: 'conv2d'; filters: number; kernelSize: number; strides: number; padding: 'same' | 'valid'; activation: Activation }
  | { type: 'maxPool2d' | 'avgPool2d'; poolSize: number; strides: number; padding: 'same' | 'valid' }
  | { type: 'batchNorm'; momentum: number; epsilon: number }
  | { type: 'dropout'; rate: number }
  | { type: 'activation'; activation: Activation }
  | { type: 'flatten' }
  | { type: 'dense'; units: number; activation: Activation }
  | { type: 'sequence'; by: 'rows' | 'columns' }
  | { type: CellType; units: number; bidirectional: boolean; returnSequences: boolean }
  | { type: 'globalAveragePool' }
  | { type: 'attentionPool'; units: number };

/** A layer as built: its tfjs name seeds its initialisers, so presets keep their names. */
export type NamedLayer = ResolvedLayer & { name: string };

/** Shape of one example, without the batch axis. */
export type Shape = number[];

const CELL_GATES: Record<CellType, number> = { rnn: 1, lstm: 4, gru: 3, rau: 5 };
export const isCell = (type: string): type is CellType => type in CELL_GATES;

export function resolveLayer(spec: LayerSpec): ResolvedLayer {
  switch (spec.type) {
    case 'conv2d':
      return { ...LAYER_DEFAULTS.conv2d, ...spec } as ResolvedLayer;
    case 'maxPool2d':
    case 'avgPool2d': {
      const poolSize = spec.poolSize ?? LAYER_DEFAULTS.pool.poolSize;
      return { ...LAYER_DEFAULTS.pool, ...spec, poolSize, strides: spec.strides ?? poolSize } as ResolvedLayer;
    }
    case 'batchNorm':
      return { ...LAYER_DEFAULTS.batchNorm, ...spec };
    case 'dense':
      return { ...LAYER_DEFAULTS.dense, ...spec } as ResolvedLayer;
    case 'sequence':
      return { ...LAYER_DEFAULTS.sequence, ...spec } as ResolvedLayer;
    case 'attentionPool':
      return { ...LAYER_DEFAULTS.attentionPool, ...spec };
    case 'dropout':
      return { ...LAYER_DEFAULTS.dropout, ...spec };
    case 'activation':
      return { ...LAYER_DEFAULTS.activation, ...spec } as ResolvedLayer;
    case 'rnn':
    case 'lstm':
    case 'gru':
    case 'rau':
      return { ...LAYER_DEFAULTS.recurrent, ...spec };
    default:
      return { ...spec } as ResolvedLayer;
  }
}

type Preset = Exclude<ModelSpec, { type: 'stack' }>;
type Resolved<T> = { [K in keyof T]-?: Exclude<T[K], undefined> };
export type ResolvedPreset = Resolved<Preset>;

/**
 * A preset as the stack it is. Names, order and kinds are those the presets were always
 * built with, so their initial weights, checkpoints and results stay the same.
 */
export function presetLayers(spec: ResolvedPreset): NamedLayer[] {
  const layers: NamedLayer[] = [];
  if (spec.type === 'cnn') {
    spec.filters.forEach((filters, i) => {
      layers.push({ type: 'conv2d', name: `conv${i + 1}`, filters, kernelSize: spec.kernelSize, strides: 1, padding: 'same', activation: 'relu' });
      layers.push({ type: 'maxPool2d', name: `pool${i + 1}`, poolSize: 2, strides: 2, padding: 'valid' });
    });
    layers.push({ type: 'flatten', name: 'flatten' });
    layers.push({ type: 'dense', name: 'dense', units: spec.dense, activation: 'relu' });
  } else {
    layers.push({ type: 'sequence', name: 'sequence', by: spec.sequence as 'rows' | 'columns' });
    for (let i = 0; i < spec.layers; i++) {
      // Only the last layer's final step feeds the classifier.
      const returnSequences = i < spec.layers - 1;
      layers.push({ type: spec.type, name: `${spec.type}${i + 1}`, units: spec.hidden, bidirectional: spec.bidirectional, returnSequences });
    }
  }
  if (spec.dropout > 0) layers.push({ type: 'dropout', name: 'dropout', rate: spec.dropout });
  return layers;
}

/** Names for a user-written stack: `<type>_<n>`, counted per kind. */
export function nameLayers(layers: ResolvedLayer[]): NamedLayer[] {
  const counts = new Map<string, number>();
  return layers.map((layer) => {
    const n = (counts.get(layer.type) ?? 0) + 1;
    counts.set(layer.type, n);
    return { ...layer, name: `${layer.type}_${n}` };
  });
}

export const fmtShape = (s: Shape) => `[${s.join(', ')}]`;

export interface ShapeProblem {
  /** Index of the layer that cannot take its input; `layers.length` for the output layer. */
  index: number;
  message: string;
}

export interface StackShapes {
  /** Output shape of each layer. */
  shapes: Shape[];
  /** Weights of the whole model, the output layer and batch-norm statistics included. */
  params: number;
  problem?: ShapeProblem;
}

/** Follows the shapes through the stack (then the output layer to `classes`) and counts weights. */
export function inferShapes(layers: ResolvedLayer[], input: Shape, classes: number): StackShapes {
  const shapes: Shape[] = [];
  let shape = input;
  let params = 0;
  for (let index = 0; index < layers.length; index++) {
    const layer = layers[index]!;
    const out = layerOutput(layer, shape);
    if (typeof out === 'string') {
      return { shapes, params, problem: { index, message: `${layer.type} receives ${fmtShape(shape)}: ${out}` } };
    }
    params += out.params;
    shape = out.shape;
    shapes.push(shape);
  }
  if (shape.length !== 1) {
    const message =
      `the last layer outputs ${fmtShape(shape)}, but the output layer needs a vector: end the stack with flatten, ` +
      `globalAveragePool, attentionPool or a recurrent layer without returnSequences`;
    return { shapes, params, problem: { index: layers.length, message } };
  }
  params += shape[0]! * classes + classes;
  return { shapes, params };
}

function spatial(size: number, window: number, stride: number, padding: 'same' | 'valid'): number {
  return padding === 'same' ? Math.ceil(size / stride) : Math.floor((size - window) / stride) + 1;
}

const IMAGE = 'needs [height, width, channels]';
const SEQUENCE = 'needs [steps, features]';

function layerOutput(layer: ResolvedLayer, s: Shape): { shape: Shape; params: number } | string {
  const last = s[s.length - 1]!;
  switch (layer.type) {
    case 'conv2d':
    case 'maxPool2d':
    case 'avgPool2d': {
      if (s.length !== 3) return `${IMAGE}${s.length === 2 ? ' (it reads a sequence; convolve before the sequence layer)' : ' (flatten came too early?)'}`;
      const window = layer.type === 'conv2d' ? layer.kernelSize : layer.poolSize;
      const [h, w] = [spatial(s[0]!, window, layer.strides, layer.padding), spatial(s[1]!, window, layer.strides, layer.padding)];
      if (h < 1 || w < 1) return `a window of ${window} does not fit (padding 'valid'); use padding 'same' or fewer downsampling layers`;
      if (layer.type !== 'conv2d') return { shape: [h, w, last], params: 0 };
      return { shape: [h, w, layer.filters], params: window * window * last * layer.filters + layer.filters };
    }
    case 'batchNorm':
      return { shape: s, params: 4 * last };
    case 'dropout':
    case 'activation':
      return { shape: s, params: 0 };
    case 'flatten':
      if (s.length < 2) return 'is already a vector; remove the flatten';
      return { shape: [s.reduce((a, b) => a * b, 1)], params: 0 };
    case 'dense':
      if (s.length > 2) return `needs a vector (or [steps, features]); add flatten or globalAveragePool before it`;
      return { shape: [...s.slice(0, -1), layer.units], params: last * layer.units + layer.units };
    case 'sequence':
      if (s.length !== 3) return IMAGE;
      return { shape: layer.by === 'rows' ? [s[0]!, s[1]! * s[2]!] : [s[1]!, s[0]! * s[2]!], params: 0 };
    case 'globalAveragePool':
      if (s.length < 2) return `${IMAGE} or [steps, features]`;
      return { shape: [last], params: 0 };
    case 'attentionPool':
      if (s.length !== 2) return `${SEQUENCE}${s.length === 1 ? ' (the recurrent layer before it needs returnSequences: true)' : ''}`;
      return { shape: [last], params: last * layer.units + 2 * layer.units };
    default: {
      const cell = layer as Extract<ResolvedLayer, { type: CellType }>;
      if (s.length !== 2) {
        const hint =
          s.length === 3
            ? "; add { type: sequence } before it to read the rows as time steps"
            : '; the recurrent layer before it needs returnSequences: true';
        return `${SEQUENCE}${hint}`;
      }
      const directions = cell.bidirectional ? 2 : 1;
      const width = CELL_GATES[cell.type] * cell.units;
      const perDirection = width * (last + cell.units + 1);
      return { shape: cell.returnSequences ? [s[0]!, directions * cell.units] : [directions * cell.units], params: directions * perDirection };
    }
  }
}

