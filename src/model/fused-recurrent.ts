/**
 * A recurrent layer (SimpleRNN, LSTM or GRU, optionally bidirectional) computed with far
 * fewer kernels than tfjs's generic `rnn()` loop:
 *
 * - the input projection of every time step (and both directions) is one matMul plus one
 *   bias add, done before the loop and unstacked into steps;
 * - each direction of a bidirectional layer runs its own loop with plain 2-D matMuls
 *   (a batched matMul over both directions is ~40x slower on wasm), the backward one by
 *   walking the step list in reverse rather than with a Reverse kernel;
 * - the cell math works on whole gate blocks: one matMul + add per step, and one
 *   activation per kind of gate (LSTM gates are regrouped once per call as i,f,o | c
 *   so the three logistic gates take a single sigmoid).
 *
 * Everything is built from differentiable tf ops, so tf.grad / optimizer.minimize work
 * through it unchanged.
 *
 * The layer holds exactly the weights of the standard tfjs layer it replaces (same
 * names, shapes, order, gate layout and initial values for the same initialisers), so
 * its checkpoints load into LSTM / GRU / SimpleRNN (or Bidirectional of one) layers, and
 * `standardLayerConfig` describes it as that standard layer for a portable model.json.
 */
import * as tf from '@tensorflow/tfjs';

export type FusedCellType = 'rnn' | 'lstm' | 'gru' | 'rau';

/** tfjs's Initializer base class (not exported under a public name). */
type Initializer = Exclude<NonNullable<Parameters<typeof tf.layers.lstm>[0]['kernelInitializer']>, string>;

/** Anything tfjs accepts where an initialiser goes: an instance, or its serialised form. */
type InitializerLike = Initializer | tf.serialization.ConfigDict;

export interface FusedRecurrentArgs {
  cell: FusedCellType;
  units: number;
  returnSequences: boolean;
  bidirectional: boolean;
  kernelInitializer?: InitializerLike;
  recurrentInitializer?: InitializerLike;
  biasInitializer?: InitializerLike;
  name?: string;
  /**
   * Name of the wrapped recurrent layer when bidirectional (weights are named
   * `<name>/forward_<cellName>/kernel`, ...), as tf.layers.bidirectional names them.
   * Defaults to `<name>_cell`, the naming of build.ts.
   */
  cellName?: string;
  inputShape?: tf.Shape;
  batchInputShape?: tf.Shape;
  trainable?: boolean;
}

const GATES: Record<FusedCellType, number> = { rnn: 1, lstm: 4, gru: 3, rau: 5 };
/** tfjs has no RAU layer: a RAU stays this class in model.json (loadable where xrun is imported). */
const STANDARD_CLASS: Partial<Record<FusedCellType, string>> = { rnn: 'SimpleRNN', lstm: 'LSTM', gru: 'GRU' };

/** Whether `standardLayerConfig` can describe this cell as a stock tfjs layer. */
export const hasStandardLayer = (cell: string): boolean => cell in STANDARD_CLASS;

/**
 * `h U` for one time step of a layer whose recurrent kernel is `u`, given `ut` = U^T made
 * once for the whole sequence.
 *
 * tfjs's gradient of matMul(h, U) with respect to h is matMul(dy, U, false, true). On wasm
 * a transposed operand leaves XNNPACK's fast path, so the training kernels transpose it
 * first: a fresh copy of U^T at every step, which XNNPACK then packs as new weights (it
 * caches its packed weights by tensor). Multiplying by one U^T for all steps does that
 * once per sequence. On wasm these are the same operands and kernels as before, so the
 * same bits; a backend that multiplies by a transpose natively (webgpu) may round
 * differently than before, and is as deterministic as ever.
 */
function recurrentProduct(h: tf.Tensor, u: tf.Tensor, ut: tf.Tensor): tf.Tensor {
  return tf.customGrad((hIn, uIn, save) => {
    (save as tf.GradSaveFunc)([hIn as tf.Tensor, ut]);
    return {
      value: tf.matMul(hIn as tf.Tensor, uIn as tf.Tensor),
      gradFunc: (dy: tf.Tensor, [hSaved, utSaved]: tf.Tensor[]) => [tf.matMul(dy, utSaved!), tf.matMul(hSaved!, dy, true, false)],
    };
  })(h, u);
}

function toInitializer(init: InitializerLike | undefined, fallback: () => Initializer): Initializer {
  if (init === undefined || init === null) return fallback();
  if (init instanceof tf.serialization.Serializable) return init as Initializer;
  const dict = init as { className?: unknown; class_name?: unknown; config?: tf.serialization.ConfigDict };
  const className = (dict.className ?? dict.class_name) as string | undefined;
  const entry = className === undefined ? undefined : tf.serialization.SerializationMap.getMap().classNameMap[className];
  if (entry === undefined) throw new Error(`FusedRecurrent: unknown initializer ${JSON.stringify(init)}`);
  const [cls, fromConfig] = entry;
  return fromConfig(cls, dict.config ?? {}) as Initializer;
}

function serializeInitializer(init: Initializer): tf.serialization.ConfigDict {
  return { className: init.getClassName(), config: init.getConfig() };
}

export class FusedRecurrent extends tf.layers.Layer {
  static className = 'XrunFusedRecurrent';
  readonly cell: FusedCellType;
  readonly units: number;
  readonly returnSequences: boolean;
  readonly bidirectional: boolean;
  readonly cellName: string;
  readonly kernelInitializer: Initializer;
  readonly recurrentInitializer: Initializer;
  readonly biasInitializer: Initializer;
  /** Per direction (forward, then backward): kernel, recurrent_kernel, bias. */
  private directions: { kernel: tf.LayerVariable; recurrent: tf.LayerVariable; bias: tf.LayerVariable }[] = [];

  constructor(args: FusedRecurrentArgs) {
    super(args);
    if (!(args.cell in GATES)) throw new Error(`FusedRecurrent: unknown cell '${String(args.cell)}'`);
    if (!Number.isInteger(args.units) || args.units <= 0) throw new Error(`FusedRecurrent: units must be a positive integer`);
    this.cell = args.cell;
    this.units = args.units;
    this.returnSequences = args.returnSequences;
    this.bidirectional = args.bidirectional;
    this.cellName = args.cellName ?? `${this.name}_cell`;
    // The standard layers' defaults (Keras: glorot-uniform for SimpleRNN, glorot-normal for tfjs LSTM/GRU).
    const kernelDefault = this.cell === 'rnn' ? () => tf.initializers.glorotUniform({}) : () => tf.initializers.glorotNormal({});
    this.kernelInitializer = toInitializer(args.kernelInitializer, kernelDefault);
    this.recurrentInitializer = toInitializer(args.recurrentInitializer, () => tf.initializers.orthogonal({}));
    this.biasInitializer = toInitializer(args.biasInitializer, () => tf.initializers.zeros());
    this.inputSpec = [{ ndim: 3 }];
  }

  private get gates(): number {
    return GATES[this.cell];
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    const inputDim = shape[shape.length - 1];
    if (typeof inputDim !== 'number') throw new Error('FusedRecurrent: the feature dimension must be known');
    const width = this.gates * this.units;
    const prefixes = this.bidirectional ? [`forward_${this.cellName}/`, `backward_${this.cellName}/`] : [''];
    // tfjs's LSTM is created with unitForgetBias undefined (falsy), so its bias takes the
    // bias initialiser directly, as here: seeded initialisers give the standard layers' values.
    this.directions = prefixes.map((p) => ({
      kernel: this.addWeight(`${p}kernel`, [inputDim, width], 'float32', this.kernelInitializer),
      recurrent: this.addWeight(`${p}recurrent_kernel`, [this.units, width], 'float32', this.recurrentInitializer),
      bias: this.addWeight(`${p}bias`, [width], 'float32', this.biasInitializer),
    }));
    this.built = true;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    const out = (this.bidirectional ? 2 : 1) * this.units;
    return this.returnSequences ? [shape[0] ?? null, shape[1] ?? null, out] : [shape[0] ?? null, out];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = (Array.isArray(inputs) ? inputs[0]! : inputs) as tf.Tensor3D;
      const [batch, steps, features] = x.shape;
      const D = this.directions.length;
      const H = this.units;
      const G = this.gates * H;

      // LSTM gates are regrouped from i,f,c,o to i,f,o,c, so one sigmoid covers i,f,o;
      // RAU's from z,r,h,c,a to z,r,c,a,h, so one matMul of h covers every block but h's.
      const regroup = (w: tf.Tensor): tf.Tensor => {
        if (this.cell === 'rau') {
          const [zr, hh, ca] = tf.split(w, [2 * H, H, 2 * H], -1) as [tf.Tensor, tf.Tensor, tf.Tensor];
          return tf.concat([zr, ca, hh], -1);
        }
        if (this.cell !== 'lstm') return w;
        const [i, f, c, o] = tf.split(w, 4, -1) as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor];
        return tf.concat([i, f, o, c], -1);
      };
      const kernels = this.directions.map((d) => regroup(d.kernel.read()));
      const biases = this.directions.map((d) => regroup(d.bias.read()));
      const recurrent = this.directions.map((d) => regroup(d.recurrent.read()));

      // Input projection of every step and both directions: one matMul + one add.
      const flat = tf.reshape(tf.transpose(x, [1, 0, 2]), [steps * batch, features]); // time-major rows
      const proj = tf.add(tf.matMul(flat, D === 1 ? kernels[0]! : tf.concat(kernels, 1)), D === 1 ? biases[0]! : tf.concat(biases, 0));
      const perDirection = D === 1 ? [proj] : tf.split(proj, 2, 1);

      // Each direction runs its own loop on its own tensors: stacking the two
      // would need a batched matMul, which the wasm backend runs off XNNPACK's fast path.
      // The backward direction reads the steps in reverse (a reordered list, not a Reverse
      // kernel, which is slow on wasm) and its outputs are put back into time order.
      const outputs = perDirection.map((p, d) => {
        const perStep = tf.reshape(p, [steps, batch, G]);
        // A reversed copy: tf.unstack's own output list is what its gradient reads back,
        // so reversing that list in place would send each step's gradient to another step.
        const order = <T>(list: T[]): T[] => (d === 0 ? list : [...list].reverse());
        const u = recurrent[d]!;
        let hs: tf.Tensor[];
        if (this.cell === 'gru') {
          const [pzr, ph] = tf.split(perStep, [2 * H, H], -1) as [tf.Tensor, tf.Tensor];
          hs = this.runGru(order(tf.unstack(pzr)), order(tf.unstack(ph)), u);
        } else if (this.cell === 'rau') {
          const [pzrca, ph] = tf.split(perStep, [4 * H, H], -1) as [tf.Tensor, tf.Tensor];
          hs = this.runRau(order(tf.unstack(pzrca)), order(tf.unstack(ph)), u);
        } else {
          const xs = order(tf.unstack(perStep));
          hs = this.cell === 'lstm' ? this.runLstm(xs, u) : this.runRnn(xs, u);
        }
        return this.returnSequences ? tf.stack(order(hs), 1) : hs[hs.length - 1]!; // [B, T, H] or [B, H]
      });
      return D === 1 ? outputs[0]! : tf.concat(outputs, -1);
    });
  }

  /** h = tanh(x W + b + h U). */
  private runRnn(xs: tf.Tensor[], recurrent: tf.Tensor): tf.Tensor[] {
    const out: tf.Tensor[] = [];
    let h: tf.Tensor | undefined;
    const ut = tf.transpose(recurrent);
    for (const xt of xs) {
      h = tf.tanh(h === undefined ? xt : tf.add(xt, recurrentProduct(h, recurrent, ut)));
      out.push(h);
    }
    return out;
  }

  /** tfjs LSTMCell with regrouped gates i,f,o,c: c = f c + i tanh(zc), h = o tanh(c). */
  private runLstm(xs: tf.Tensor[], recurrent: tf.Tensor): tf.Tensor[] {
    const H = this.units;
    const out: tf.Tensor[] = [];
    let h: tf.Tensor | undefined;
    let c: tf.Tensor | undefined;
    const ut = tf.transpose(recurrent);
    for (const xt of xs) {
      const z = h === undefined ? xt : tf.add(xt, recurrentProduct(h, recurrent, ut));
      const [zifo, zc] = tf.split(z, [3 * H, H], -1) as [tf.Tensor, tf.Tensor];
      const [i, f, o] = tf.split(tf.sigmoid(zifo), 3, -1) as [tf.Tensor, tf.Tensor, tf.Tensor];
      const ig = tf.mul(i, tf.tanh(zc));
      c = c === undefined ? ig : tf.add(tf.mul(f, c), ig);
      h = tf.mul(o, tf.tanh(c));
      out.push(h);
    }
    return out;
  }

  /**
   * tfjs GRUCell (reset_after false): z, r = sigmoid(x Wzr + bzr + h Uzr),
   * hh = tanh(x Wh + bh + (r h) Uh), h = z h + (1 - z) hh, written as hh + z (h - hh).
   */
  private runGru(xzr: tf.Tensor[], xh: tf.Tensor[], recurrent: tf.Tensor): tf.Tensor[] {
    const H = this.units;
    const [uzr, uh] = tf.split(recurrent, [2 * H, H], -1) as [tf.Tensor, tf.Tensor];
    const [uzrT, uhT] = [tf.transpose(uzr), tf.transpose(uh)];
    const out: tf.Tensor[] = [];
    let h: tf.Tensor | undefined;
    for (let s = 0; s < xzr.length; s++) {
      if (h === undefined) {
        // h0 = 0: r h0 = 0 and z h0 = 0.
        const z = tf.sigmoid(tf.split(xzr[s]!, 2, -1)[0]!);
        const hh = tf.tanh(xh[s]!);
        h = tf.sub(hh, tf.mul(z, hh));
      } else {
        const [z, r] = tf.split(tf.sigmoid(tf.add(xzr[s]!, recurrentProduct(h, uzr, uzrT))), 2, -1) as [tf.Tensor, tf.Tensor];
        const hh = tf.tanh(tf.add(xh[s]!, recurrentProduct(tf.mul(r, h), uh, uhT)));
        h = tf.add(hh, tf.mul(z, tf.sub(h, hh)));
      }
      out.push(h);
    }
    return out;
  }

  /**
   * Recurrent attention unit (Niu, Zhong et al., Neurocomputing 517, 2023; arXiv 1810.12754):
   * the GRU above plus an attention gate computed from x_t and h_{t-1},
   *   c = x Wc + bc + h Uc,  a = softmax(c) over the hidden units,
   *   hat = a * relu(x Wa + ba + h Ua),
   *   h' = z h + (1 - z) hh + hat.
   * The paper writes the update gate the other way round ((1 - z) h + z hh); the two are the
   * same model with z renamed, and this way RAU shares GRU's weights layout and maths
   * exactly where they overlap. Weights per direction: kernel and recurrent kernel with
   * blocks z, r, h, c, a (5 x units wide), one bias.
   */
  private runRau(xzrca: tf.Tensor[], xh: tf.Tensor[], recurrent: tf.Tensor): tf.Tensor[] {
    const H = this.units;
    const [uzrca, uh] = tf.split(recurrent, [4 * H, H], -1) as [tf.Tensor, tf.Tensor];
    const [uzrcaT, uhT] = [tf.transpose(uzrca), tf.transpose(uh)];
    const out: tf.Tensor[] = [];
    let h: tf.Tensor | undefined;
    for (let s = 0; s < xzrca.length; s++) {
      const g = h === undefined ? xzrca[s]! : tf.add(xzrca[s]!, recurrentProduct(h, uzrca, uzrcaT));
      const [zr, c, a] = tf.split(g, [2 * H, H, H], -1) as [tf.Tensor, tf.Tensor, tf.Tensor];
      const [z, r] = tf.split(tf.sigmoid(zr), 2, -1) as [tf.Tensor, tf.Tensor];
      const attended = tf.mul(tf.softmax(c), tf.relu(a));
      if (h === undefined) {
        // h0 = 0: (r h0) U = 0 and z h0 = 0.
        const hh = tf.tanh(xh[s]!);
        h = tf.add(tf.sub(hh, tf.mul(z, hh)), attended);
      } else {
        const hh = tf.tanh(tf.add(xh[s]!, recurrentProduct(tf.mul(r, h), uh, uhT)));
        h = tf.add(tf.add(hh, tf.mul(z, tf.sub(h, hh))), attended);
      }
      out.push(h);
    }
    return out;
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {
      ...super.getConfig(),
      cell: this.cell,
      units: this.units,
      returnSequences: this.returnSequences,
      bidirectional: this.bidirectional,
      cellName: this.cellName,
      kernelInitializer: serializeInitializer(this.kernelInitializer),
      recurrentInitializer: serializeInitializer(this.recurrentInitializer),
      biasInitializer: serializeInitializer(this.biasInitializer),
    };
  }
}

tf.serialization.registerClass(FusedRecurrent);

const snake = (key: string) => key.replace(/[A-Z]/g, (m) => `_${m.toLowerCase()}`);

/** Keys to snake_case, recursively (the Keras-JSON spelling of model.json). */
function pythonic(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(pythonic);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [snake(k), pythonic(v)]));
}

/**
 * The Keras-JSON `{class_name, config}` of the standard layer equivalent to a
 * FusedRecurrent with this config: LSTM / GRU / SimpleRNN, or Bidirectional (merge mode
 * concat) wrapping one. Takes the config as `getConfig()` returns it or as it appears in
 * a saved model.json (snake_case keys); returns model.json spelling (snake_case).
 */
export function standardLayerConfig(config: Record<string, unknown>): { class_name: string; config: Record<string, unknown> } {
  const get = (key: string): unknown => (key in config ? config[key] : config[snake(key)]);
  const cell = get('cell') as FusedCellType;
  const name = get('name') as string;
  const bidirectional = get('bidirectional') === true;
  const trainable = get('trainable') ?? true;
  const rnnConfig: Record<string, unknown> = {
    name: bidirectional ? ((get('cellName') as string | undefined) ?? `${name}_cell`) : name,
    trainable,
    units: get('units'),
    activation: 'tanh',
    ...(cell === 'rnn' ? {} : { recurrent_activation: 'sigmoid' }),
    use_bias: true,
    kernel_initializer: pythonic(get('kernelInitializer')),
    recurrent_initializer: pythonic(get('recurrentInitializer')),
    bias_initializer: pythonic(get('biasInitializer')),
    ...(cell === 'lstm' ? { unit_forget_bias: null } : {}),
    kernel_regularizer: null,
    recurrent_regularizer: null,
    bias_regularizer: null,
    activity_regularizer: null,
    kernel_constraint: null,
    recurrent_constraint: null,
    bias_constraint: null,
    dropout: 0,
    recurrent_dropout: 0,
    ...(cell === 'rnn' ? {} : { implementation: null }),
    ...(cell === 'gru' ? { reset_after: false } : {}),
    return_sequences: get('returnSequences') === true,
    return_state: false,
    go_backwards: false,
    stateful: false,
    unroll: false,
  };
  const inputShape = get('batchInputShape');
  const className = STANDARD_CLASS[cell];
  if (className === undefined) throw new Error(`no standard tfjs layer computes a '${cell}' cell`);
  const standard = { class_name: className, config: rnnConfig };
  if (!bidirectional) {
    if (inputShape !== undefined) rnnConfig['batch_input_shape'] = inputShape;
    return standard;
  }
  return {
    class_name: 'Bidirectional',
    config: {
      merge_mode: 'concat',
      layer: standard,
      name,
      trainable,
      ...(inputShape !== undefined ? { batch_input_shape: inputShape } : {}),
    },
  };
}
