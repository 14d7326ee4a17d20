/**
 * Confusion matrix of a trained model on one split: counts[true][predicted]. Predictions
 * are read with `await data()` so the same code serves backends whose reads are async.
 */
import * as tf from '@tensorflow/tfjs';
import type { Split } from '../data/datasets.js';

export async function confusionMatrix(model: tf.LayersModel, split: Split, classes: number, batchSize = 500): Promise<number[][]> {
  const counts = Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
  for (let start = 0; start < split.count; start += batchSize) {
    const size = Math.min(batchSize, split.count - start);
    const pairs = tf.tidy(() => {
      const x = tf.slice(split.x, [start, 0, 0, 0], [size, -1, -1, -1]);
      const labels = tf.cast(tf.slice(split.y, [start], [size]), 'int32');
      const predicted = tf.cast(tf.argMax(model.apply(x, { training: false }) as tf.Tensor2D, 1), 'int32');
      // One read per batch: labels and predictions side by side.
      return tf.stack([labels, predicted]);
    });
    const values = await pairs.data();
    pairs.dispose();
    for (let i = 0; i < size; i++) {
      const truth = values[i]!;
      const guess = values[size + i]!;
      const row = counts[truth];
      if (row && guess < classes) row[guess]! += 1;
    }
  }
  return counts;
}
