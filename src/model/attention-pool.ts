/**
 * Attention pooling over time steps: a learned weighted mean of a sequence,
 *   score_t = v . tanh(W h_t + b),  alpha = softmax(score) over t,  out = sum_t alpha_t h_t,
 * so a classifier can read the steps that matter instead of only the last one.
 */
import * as tf from '@tensorflow/tfjs';

type Initializer = Exclude<NonNullable<Parameters<typeof tf.layers.dense>[0]['kernelInitializer']>, string>;

export interface AttentionPoolArgs {
  units: number;
  kernelInitializer?: Initializer;
  scoreInitializer?: Initializer;
  name?: string;
}

export class AttentionPool extends tf.layers.Layer {
  static className = 'XrunAttentionPool';
  readonly units: number;
  private readonly kernelInit: Initializer;
  private readonly scoreInit: Initializer;
  private kernel!: tf.LayerVariable;
  private bias!: tf.LayerVariable;
  private score!: tf.LayerVariable;

  constructor(args: AttentionPoolArgs) {
    super(args);
    this.units = args.units;
    this.kernelInit = args.kernelInitializer ?? tf.initializers.glorotUniform({});
    this.scoreInit = args.scoreInitializer ?? tf.initializers.glorotUniform({});
    this.inputSpec = [{ ndim: 3 }];
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    const features = shape[shape.length - 1] as number;
    this.kernel = this.addWeight('kernel', [features, this.units], 'float32', this.kernelInit);
    this.bias = this.addWeight('bias', [this.units], 'float32', tf.initializers.zeros());
    this.score = this.addWeight('score', [this.units, 1], 'float32', this.scoreInit);
    this.built = true;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    return [shape[0] ?? null, shape[2] ?? null];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = (Array.isArray(inputs) ? inputs[0]! : inputs) as tf.Tensor3D;
      const [batch, steps, features] = x.shape;
      const hidden = tf.tanh(tf.add(tf.matMul(tf.reshape(x, [batch * steps, features]), this.kernel.read()), this.bias.read()));
      const scores = tf.reshape(tf.matMul(hidden, this.score.read()), [batch, steps]);
      const weights = tf.reshape(tf.softmax(scores), [batch, steps, 1]);
      return tf.sum(tf.mul(weights, x), 1);
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), units: this.units };
  }
}

tf.serialization.registerClass(AttentionPool);
