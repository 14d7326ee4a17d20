/**
 * Batch normalisation over the last axis, written with broadcasting ops. tfjs's own layer
 * computes the same thing through the fused batchNorm op, whose gradient tiles
 * per-channel values to the full input size; on wasm that Tile alone took longer than
 * all the convolutions of a small CNN's training step. Here the gradients are plain
 * broadcasts and sums.
 *
 * The weights are tfjs BatchNormalization's (gamma, beta, moving_mean, moving_variance,
 * same names and order), and checkpoints describe this layer as one, so model.json stays
 * loadable by any tfjs.
 */
import * as tf from '@tensorflow/tfjs';

export interface BroadcastBatchNormArgs {
  momentum: number;
  epsilon: number;
  name?: string;
}

export class BroadcastBatchNorm extends tf.layers.Layer {
  static className = 'XrunBatchNorm';
  readonly momentum: number;
  readonly epsilon: number;
  private gamma!: tf.LayerVariable;
  private beta!: tf.LayerVariable;
  private movingMean!: tf.LayerVariable;
  private movingVariance!: tf.LayerVariable;

  constructor(args: BroadcastBatchNormArgs) {
    super(args);
    this.momentum = args.momentum;
    this.epsilon = args.epsilon;
    this.supportsMasking = true;
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    const channels = [shape[shape.length - 1] as number];
    this.gamma = this.addWeight('gamma', channels, 'float32', tf.initializers.ones());
    this.beta = this.addWeight('beta', channels, 'float32', tf.initializers.zeros());
    this.movingMean = this.addWeight('moving_mean', channels, 'float32', tf.initializers.zeros(), undefined, false);
    this.movingVariance = this.addWeight('moving_variance', channels, 'float32', tf.initializers.ones(), undefined, false);
    this.built = true;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape | tf.Shape[] {
    return inputShape;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>): tf.Tensor {
    return tf.tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0]! : inputs;
      const normalise = (mean: tf.Tensor, variance: tf.Tensor) =>
        tf.add(tf.mul(tf.sub(x, mean), tf.mul(tf.rsqrt(tf.add(variance, this.epsilon)), this.gamma.read())), this.beta.read());
      if (kwargs.training !== true) return normalise(this.movingMean.read(), this.movingVariance.read());
      const axes = Array.from({ length: x.rank - 1 }, (_, i) => i);
      const { mean, variance } = tf.moments(x, axes);
      // Moving averages as tfjs updates them: moving -= (moving - batch) * (1 - momentum).
      for (const [moving, batch] of [[this.movingMean, mean], [this.movingVariance, variance]] as const) {
        const current = moving.read();
        moving.write(tf.sub(current, tf.mul(tf.sub(current, batch), 1 - this.momentum)));
      }
      return normalise(mean, variance);
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), momentum: this.momentum, epsilon: this.epsilon };
  }
}

tf.serialization.registerClass(BroadcastBatchNorm);

/** The Keras-JSON config of the tfjs BatchNormalization layer equal to this one. */
export function standardBatchNormConfig(config: Record<string, unknown>): { class_name: string; config: Record<string, unknown> } {
  return {
    class_name: 'BatchNormalization',
    config: {
      ...config,
      axis: -1,
      center: true,
      scale: true,
      beta_initializer: { class_name: 'Zeros', config: {} },
      gamma_initializer: { class_name: 'Ones', config: {} },
      moving_mean_initializer: { class_name: 'Zeros', config: {} },
      moving_variance_initializer: { class_name: 'Ones', config: {} },
      beta_regularizer: null,
      gamma_regularizer: null,
      beta_constraint: null,
      gamma_constraint: null,
    },
  };
}
