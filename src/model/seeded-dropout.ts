/**
 * Dropout whose masks are a pure function of (run seed, epoch, batch). tfjs's own
 * Dropout layer either draws from an unseeded generator (runs differ) or, given a
 * seed, draws the same mask at every step; neither allows exact resume.
 */
import * as tf from '@tensorflow/tfjs';

interface SeededDropoutArgs {
  rate: number;
  name?: string;
}

export class SeededDropout extends tf.layers.Layer {
  static className = 'XrunSeededDropout';
  readonly rate: number;
  private stepSeed = 0;

  constructor(args: SeededDropoutArgs) {
    super(args);
    this.rate = args.rate;
  }

  /** Set by the trainer before every training step. */
  setStepSeed(seed: number): void {
    this.stepSeed = seed;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0]! : inputs;
    if (kwargs.training !== true || this.rate === 0) return x;
    return tf.dropout(x, this.rate, undefined, this.stepSeed);
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape | tf.Shape[] {
    return inputShape;
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), rate: this.rate };
  }
}

tf.serialization.registerClass(SeededDropout);

export function seededDropoutLayers(model: tf.LayersModel): SeededDropout[] {
  return model.layers.filter((l): l is SeededDropout => l instanceof SeededDropout);
}
