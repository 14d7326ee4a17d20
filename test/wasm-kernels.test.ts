import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../src/train/backend.js';
import { registerWasmTrainingKernels, wasmKernelOptions } from '../src/train/wasm-kernels/index.js';

const defaultIm2colMax = wasmKernelOptions.im2colMaxElements;

/** Small deterministic generator so cpu and wasm see the same numbers. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296 - 0.5;
  };
}

function randomArray(size: number, seed: number): Float32Array {
  const r = rng(seed);
  const out = new Float32Array(size);
  for (let i = 0; i < size; i++) out[i] = r();
  return out;
}

function size(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Runs `f` on the given backend with tensors built from the arrays, returns plain values. */
async function on(
  backend: 'cpu' | 'wasm',
  inputs: { values: Float32Array; shape: number[] }[],
  f: (...xs: tf.Tensor[]) => tf.Tensor | tf.Tensor[],
): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  const dataIdsBefore = tf.engine().backend.numDataIds();
  // Makes the engine verify, after every kernel, that no backend data leaked.
  tf.env().set('IS_TEST', backend === 'wasm');
  try {
    const xs = inputs.map((i) => tf.tensor(i.values, i.shape));
    const out = f(...xs);
    const outs = Array.isArray(out) ? out : [out];
    const values = await Promise.all(outs.map((t) => t.data() as Promise<Float32Array>));
    tf.dispose([...xs, ...outs]);
    return values;
  } finally {
    tf.env().set('IS_TEST', false);
    expect(tf.engine().backend.numDataIds()).toBe(dataIdsBefore);
  }
}

/** Largest absolute difference relative to the largest magnitude in the reference. */
function relDiff(expected: Float32Array, actual: Float32Array): number {
  expect(actual.length).toBe(expected.length);
  let maxAbs = 0;
  let scale = 1e-6;
  for (let i = 0; i < expected.length; i++) {
    maxAbs = Math.max(maxAbs, Math.abs(expected[i]! - actual[i]!));
    scale = Math.max(scale, Math.abs(expected[i]!));
  }
  return maxAbs / scale;
}

async function compare(
  inputs: { shape: number[] }[],
  f: (...xs: tf.Tensor[]) => tf.Tensor | tf.Tensor[],
  seed = 1,
): Promise<void> {
  const data = inputs.map((i, k) => ({ shape: i.shape, values: randomArray(size(i.shape), seed * 101 + k) }));
  const cpu = await on('cpu', data, f);
  const wasm = await on('wasm', data, f);
  expect(wasm.length).toBe(cpu.length);
  for (let k = 0; k < cpu.length; k++) {
    expect(relDiff(cpu[k]!, wasm[k]!)).toBeLessThan(1e-4);
  }
}

beforeAll(async () => {
  await selectBackend('wasm');
});

describe('conv2d gradients on wasm match cpu', () => {
  const cases: {
    n: number;
    h: number;
    w: number;
    cin: number;
    cout: number;
    k: number;
    stride: number;
    pad: 'same' | 'valid';
  }[] = [
    { n: 2, h: 28, w: 28, cin: 1, cout: 32, k: 3, stride: 1, pad: 'same' },
    { n: 1, h: 14, w: 14, cin: 32, cout: 64, k: 3, stride: 1, pad: 'same' },
    { n: 2, h: 9, w: 11, cin: 3, cout: 5, k: 3, stride: 1, pad: 'valid' },
    { n: 2, h: 10, w: 10, cin: 4, cout: 6, k: 3, stride: 2, pad: 'same' },
    { n: 2, h: 11, w: 9, cin: 4, cout: 6, k: 3, stride: 2, pad: 'same' },
    { n: 2, h: 28, w: 28, cin: 2, cout: 3, k: 3, stride: 2, pad: 'valid' },
    { n: 2, h: 12, w: 13, cin: 3, cout: 2, k: 5, stride: 3, pad: 'valid' },
    { n: 2, h: 9, w: 9, cin: 3, cout: 4, k: 1, stride: 2, pad: 'valid' },
    { n: 1, h: 8, w: 8, cin: 2, cout: 2, k: 4, stride: 2, pad: 'same' },
  ];
  for (const [c, route] of cases.flatMap((c) => [[c, 'patches'] as const, [c, 'transposed conv'] as const])) {
    it(`${c.h}x${c.w} ${c.cin}->${c.cout} k${c.k} stride ${c.stride} ${c.pad}, filter grad by ${route}`, async () => {
      wasmKernelOptions.im2colMaxElements = route === 'patches' ? Infinity : 0;
      const s = c.stride;
      const ho = c.pad === 'same' ? Math.ceil(c.h / s) : Math.ceil((c.h - c.k + 1) / s);
      const wo = c.pad === 'same' ? Math.ceil(c.w / s) : Math.ceil((c.w - c.k + 1) / s);
      await compare(
        [{ shape: [c.n, c.h, c.w, c.cin] }, { shape: [c.k, c.k, c.cin, c.cout] }, { shape: [c.n, ho, wo, c.cout] }],
        (x, f, dy) =>
          tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, s, c.pad))(
            [x!, f!],
            dy!,
          ),
      );
    });
  }

  afterAll(() => {
    wasmKernelOptions.im2colMaxElements = defaultIm2colMax;
  });

  it.each(['patches', 'transposed conv'])('explicit padding, filter grad by %s', async (route) => {
    wasmKernelOptions.im2colMaxElements = route === 'patches' ? Infinity : 0;
    const pad: [[number, number], [number, number], [number, number], [number, number]] = [
      [0, 0],
      [1, 2],
      [2, 0],
      [0, 0],
    ];
    await compare(
      [{ shape: [2, 7, 8, 3] }, { shape: [3, 3, 3, 4] }, { shape: [2, 8, 8, 4] }],
      (x, f, dy) =>
        tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, pad))([x!, f!], dy!),
    );
  });
});

describe('matMul on wasm matches cpu', () => {
  for (const [ta, tb] of [
    [false, false],
    [true, false],
    [false, true],
    [true, true],
  ] as const) {
    it(`transposeA=${ta} transposeB=${tb}`, async () => {
      const [m, k, n] = [37, 129, 23];
      await compare([{ shape: ta ? [k, m] : [m, k] }, { shape: tb ? [n, k] : [k, n] }], (a, b) =>
        tf.matMul(a!, b!, ta, tb),
      );
      // Batched, with a bias and activation through the fused kernel.
      await compare(
        [{ shape: ta ? [3, k, m] : [3, m, k] }, { shape: tb ? [3, n, k] : [3, k, n] }, { shape: [n] }],
        (a, b, bias) =>
          tf.fused.matMul({ a: a!, b: b!, transposeA: ta, transposeB: tb, bias: bias!, activation: 'relu' }),
        2,
      );
    });
  }

  it('dense layer gradients', async () => {
    await compare([{ shape: [16, 50] }, { shape: [50, 20] }, { shape: [16, 20] }], (x, w, dy) =>
      tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.matMul(a, b))([x!, w!], dy!),
    );
  });
});

describe('maxPool gradient on wasm matches cpu', () => {
  const cases: { shape: number[]; size: number; stride: number; pad: 'same' | 'valid' }[] = [
    { shape: [4, 28, 28, 32], size: 2, stride: 2, pad: 'valid' },
    { shape: [3, 14, 14, 64], size: 2, stride: 2, pad: 'valid' },
    { shape: [2, 7, 9, 3], size: 2, stride: 2, pad: 'same' },
    { shape: [2, 9, 9, 5], size: 3, stride: 2, pad: 'same' },
    { shape: [2, 8, 7, 2], size: 3, stride: 1, pad: 'valid' },
  ];
  for (const c of cases) {
    it(`${c.shape.join('x')} pool ${c.size} stride ${c.stride} ${c.pad}`, async () => {
      const [n, h, w, ch] = c.shape as [number, number, number, number];
      const out = (d: number) => (c.pad === 'same' ? Math.ceil(d / c.stride) : Math.ceil((d - c.size + 1) / c.stride));
      await compare([{ shape: c.shape }, { shape: [n, out(h), out(w), ch] }], (x, dy) =>
        tf.grads((a: tf.Tensor) => tf.maxPool(a as tf.Tensor4D, c.size, c.stride, c.pad))([x!], dy!),
      );
    });
  }

  it('ties go to the first maximum, as on cpu', async () => {
    const shape = [1, 4, 4, 2];
    const values = new Float32Array(size(shape)).map((_, i) => (i % 3 === 0 ? 1 : 0));
    const f = (x: tf.Tensor) => tf.grad((a: tf.Tensor) => tf.maxPool(a as tf.Tensor4D, 2, 2, 'valid').sum())(x);
    const cpu = await on('cpu', [{ values, shape }], f);
    const wasm = await on('wasm', [{ values, shape }], f);
    expect(Array.from(wasm[0]!)).toEqual(Array.from(cpu[0]!));
  });
});

describe('slicing on wasm gives what cpu gives, copying only the piece', () => {
  /** Exact: a slice copies numbers, it computes none. */
  async function same(shapes: number[][], f: (...xs: tf.Tensor[]) => tf.Tensor | tf.Tensor[], seed = 3): Promise<void> {
    const data = shapes.map((shape, k) => ({ shape, values: randomArray(size(shape), seed * 31 + k) }));
    const cpu = await on('cpu', data, f);
    const wasm = await on('wasm', data, f);
    expect(wasm.map((a) => Array.from(a))).toEqual(cpu.map((a) => Array.from(a)));
  }

  it('slice boxes of rank 1 to 5, inner and outer, whole and empty', async () => {
    const r = rng(11);
    const pick = (n: number) => Math.floor((r() + 0.5) * n);
    for (let rank = 1; rank <= 5; rank++) {
      for (let trial = 0; trial < 12; trial++) {
        const shape = Array.from({ length: rank }, () => 1 + pick(6));
        const begin = shape.map((d) => pick(d));
        // Some axes whole, some cut, now and then an empty one.
        const cut = shape.map((d, i) => (trial % 3 === 0 ? d - begin[i]! : trial === 7 && i === 0 ? 0 : 1 + pick(d - begin[i]!)));
        await same([shape], (x) => tf.slice(x!, begin, cut), rank * 100 + trial);
      }
    }
  });

  it('split into equal and unequal parts along every axis, and unstack', async () => {
    await same([[6, 5, 4]], (x) => tf.split(x!, 3, 0));
    await same([[6, 5, 4]], (x) => tf.split(x!, [1, 3, 1], 1));
    await same([[6, 5, 4]], (x) => tf.split(x!, [3, -1], -1));
    await same([[7, 3, 2]], (x) => tf.unstack(x!, 0));
    await same([[7, 3, 2]], (x) => tf.unstack(x!, 1));
    await same([[7, 3, 2]], (x) => tf.unstack(x!, 2));
  });

  it('int32 tensors too', async () => {
    await tf.setBackend('wasm');
    const x = tf.range(0, 60, 1, 'int32').reshape([3, 4, 5]);
    const parts = tf.split(x, [2, 2], 1);
    expect(parts.map((p) => p.dtype)).toEqual(['int32', 'int32']);
    expect(Array.from(await tf.slice(x, [1, 1, 1], [1, 2, 2]).data())).toEqual([26, 27, 31, 32]);
    expect(Array.from(await parts[1]!.data()).slice(0, 5)).toEqual([10, 11, 12, 13, 14]);
    tf.dispose([x, ...parts]);
  });

  it('gradients through split, unstack and concat', async () => {
    await compare([{ shape: [5, 6, 4] }, { shape: [5, 6, 4] }], (x, dy) =>
      tf.grads((a: tf.Tensor) => tf.concat(tf.unstack(a, 1).reverse().map((t) => tf.expandDims(t, 1)), 1))([x!], dy!),
    );
    await compare([{ shape: [8, 12] }, { shape: [8, 12] }], (x, dy) =>
      tf.grads((a: tf.Tensor) => {
        const [p, q, r] = tf.split(a, [3, 4, 5], 1) as [tf.Tensor, tf.Tensor, tf.Tensor];
        return tf.concat([tf.mul(r, 2), p, tf.square(q)], 1);
      })([x!], dy!),
    );
  });

  it('cuts correctly when its output makes the wasm memory grow', async () => {
    await tf.setBackend('wasm');
    // 48 MB in, two halves out: the outputs' allocation grows the heap, which detaches
    // any view of the input taken before it.
    const rows = 3 * 1024;
    const x = tf.tidy(() => tf.range(0, rows * 4096, 1, 'float32').reshape([rows, 4096]));
    const [a, b] = tf.split(x, 2, 0) as [tf.Tensor, tf.Tensor];
    const last = (await b.slice([rows / 2 - 1, 4090], [1, 6]).data()) as Float32Array;
    expect(Array.from(last)).toEqual([4094, 4095, 4096, 4097, 4098, 4099].map((v) => (rows - 1) * 4096 + v - 4));
    expect((await a.slice([0, 0], [1, 3]).data()) as Float32Array).toEqual(new Float32Array([0, 1, 2]));
    tf.dispose([x, a, b]);
  });

  it('identity shares the data, and each holder frees it once', async () => {
    await tf.setBackend('wasm');
    const before = tf.engine().backend.numDataIds();
    const x = tf.tensor1d([1, 2, 3]);
    const copy = tf.clone(x);
    expect(tf.engine().backend.numDataIds()).toBe(before + 1);
    x.dispose();
    expect(Array.from(await copy.data())).toEqual([1, 2, 3]);
    copy.dispose();
    expect(tf.engine().backend.numDataIds()).toBe(before);
  });
});

describe('kernel registration', () => {
  it('is idempotent', async () => {
    await tf.setBackend('wasm');
    registerWasmTrainingKernels();
    registerWasmTrainingKernels();
    const a = tf.tensor2d([[1, 2], [3, 4]]);
    const r = tf.matMul(a, a, true, false);
    expect(Array.from(await r.data())).toEqual([10, 14, 14, 20]);
    tf.dispose([a, r]);
  });
});

describe('training a small CNN on wasm', () => {
  it('lowers the loss and leaks no tensors', async () => {
    await tf.setBackend('wasm');
    const model = tf.sequential({
      layers: [
        tf.layers.conv2d({ inputShape: [12, 12, 1], filters: 8, kernelSize: 3, padding: 'same', activation: 'relu' }),
        tf.layers.maxPooling2d({ poolSize: 2, strides: 2 }),
        tf.layers.flatten(),
        tf.layers.dense({ units: 10 }),
      ],
    });
    const optimizer = tf.train.adam(0.01);
    const x = tf.tensor(randomArray(16 * 12 * 12, 7), [16, 12, 12, 1]);
    const labels = tf.oneHot(tf.tensor1d([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5], 'int32'), 10);
    const step = (): number => {
      const loss = optimizer.minimize(
        () => tf.losses.softmaxCrossEntropy(labels, model.apply(x) as tf.Tensor) as tf.Scalar,
        true,
      )!;
      const v = loss.dataSync()[0]!;
      loss.dispose();
      return v;
    };
    const first = step();
    const before = tf.memory().numTensors;
    const dataIdsBefore = tf.engine().backend.numDataIds();
    let last = first;
    for (let i = 0; i < 15; i++) last = step();
    expect(tf.memory().numTensors).toBe(before);
    expect(tf.engine().backend.numDataIds()).toBe(dataIdsBefore);
    expect(last).toBeLessThan(first * 0.7);
    tf.dispose([x, labels]);
    optimizer.dispose();
    model.dispose();
  });
});
