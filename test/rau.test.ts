/**
 * The recurrent attention unit: the fused layer computes the paper's equations (checked
 * against a plain step-by-step transcription of them), and its gradients match finite
 * differences of the loss.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { FusedRecurrent } from '../src/model/fused-recurrent.js';
import { selectBackend } from '../src/train/backend.js';

const UNITS = 5;
const FEATURES = 4;
const STEPS = 6;
const BATCH = 3;

beforeAll(async () => {
  // Finite differences need float64-like care: the cpu backend's kernels are plain JS.
  await selectBackend('cpu');
});

function layer(bidirectional = false, returnSequences = false, cell: 'rau' | 'gru' = 'rau'): FusedRecurrent {
  const uniform = (seed: number) => tf.initializers.randomUniform({ minval: -0.6, maxval: 0.6, seed });
  const l = new FusedRecurrent({
    cell,
    units: UNITS,
    returnSequences,
    bidirectional,
    kernelInitializer: uniform(1),
    recurrentInitializer: uniform(2),
    biasInitializer: uniform(3),
    name: 'rau1',
  });
  l.build([null, STEPS, FEATURES]);
  return l;
}

/** The equations as written, one gate block at a time, in plain arrays (no fusing, no regrouping). */
function reference(x: number[][][], kernel: number[][], recurrent: number[][], bias: number[]): number[][] {
  const H = UNITS;
  const block = (k: number) => (v: number[], m: number[][]) => Array.from({ length: H }, (_, j) => v.reduce((s, vi, i) => s + vi * m[i]![k * H + j]!, 0));
  const [Z, R, HH, C, A] = [0, 1, 2, 3, 4].map(block);
  const sig = (v: number) => 1 / (1 + Math.exp(-v));
  const add = (...vs: number[][]) => vs[0]!.map((_, j) => vs.reduce((s, v) => s + v[j]!, 0));
  const b = (k: number) => bias.slice(k * H, (k + 1) * H);
  return x.map((seq) => {
    let h = new Array<number>(H).fill(0);
    for (const xt of seq) {
      const z = add(Z(xt, kernel), b(0), Z(h, recurrent)).map(sig);
      const r = add(R(xt, kernel), b(1), R(h, recurrent)).map(sig);
      const cand = add(HH(xt, kernel), b(2), HH(h.map((v, j) => v * r[j]!), recurrent)).map(Math.tanh);
      const c = add(C(xt, kernel), b(3), C(h, recurrent));
      const max = Math.max(...c);
      const e = c.map((v) => Math.exp(v - max));
      const sum = e.reduce((s, v) => s + v, 0);
      const att = add(A(xt, kernel), b(4), A(h, recurrent)).map((v, j) => (e[j]! / sum) * Math.max(0, v));
      h = h.map((hp, j) => z[j]! * hp + (1 - z[j]!) * cand[j]! + att[j]!);
    }
    return h;
  });
}

const input = () => tf.randomUniform([BATCH, STEPS, FEATURES], -1, 1, 'float32', 11) as tf.Tensor3D;

describe('RAU cell', () => {
  it('computes the equations of Niu, Zhong et al. (gate blocks z, r, h, c, a)', () => {
    const l = layer();
    const x = input();
    const [kernel, recurrent, bias] = l.getWeights().map((w) => w.arraySync());
    const expected = reference(x.arraySync(), kernel as number[][], recurrent as number[][], bias as number[]);
    const got = (l.apply(x) as tf.Tensor).arraySync() as number[][];
    expect(got).toHaveLength(BATCH);
    got.forEach((row, i) => row.forEach((v, j) => expect(v).toBeCloseTo(expected[i]![j]!, 5)));
  });

  it('has 5 blocks of weights per direction and the shapes of a recurrent layer', () => {
    const l = layer(true, true);
    expect(l.getWeights().map((w) => w.shape)).toEqual([
      [FEATURES, 5 * UNITS], [UNITS, 5 * UNITS], [5 * UNITS],
      [FEATURES, 5 * UNITS], [UNITS, 5 * UNITS], [5 * UNITS],
    ]);
    expect((l.apply(input()) as tf.Tensor).shape).toEqual([BATCH, STEPS, 2 * UNITS]);
  });

  // GRU too: a bidirectional layer over a short sequence (< 7 steps) once sent the
  // backward direction's input gradients to the wrong steps.
  it.each(['rau', 'gru'] as const)('%s: analytic gradients match central finite differences (bidirectional, 6 steps)', (cell) => {
    const l = layer(true, false, cell);
    const x = input();
    const target = tf.randomUniform([BATCH, 2 * UNITS], -1, 1, 'float32', 12);
    const weights = l.trainableWeights.map((w) => w.read() as tf.Variable);
    const loss = () => tf.sum(tf.square(tf.sub(l.apply(x) as tf.Tensor, target))) as tf.Scalar;
    const { grads } = tf.variableGrads(loss, weights);
    const eps = 1e-3;
    let checked = 0;
    for (const v of weights) {
      const analytic = grads[v.name]!.dataSync();
      const values = v.dataSync().slice();
      // A spread of entries of each weight: every gate block of kernel, recurrent kernel and bias.
      for (let i = 0; i < values.length; i += 7) {
        const at = (delta: number) => {
          const moved = values.slice();
          moved[i] = values[i]! + delta;
          v.assign(tf.tensor(moved, v.shape));
          return loss().dataSync()[0]!;
        };
        const numeric = (at(eps) - at(-eps)) / (2 * eps);
        v.assign(tf.tensor(values, v.shape));
        expect(Math.abs(numeric - analytic[i]!)).toBeLessThan(2e-3 + 2e-2 * Math.abs(numeric));
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(cell === 'rau' ? 40 : 25);
  });
});
