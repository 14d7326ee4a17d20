/**
 * Conv2D gradients. tfjs-backend-wasm 4.22 has no Conv2DBackpropFilter at all
 * (so no conv net can be trained on it) and its Conv2DBackpropInput is a scalar
 * loop; both are rebuilt here from the backend's fast XNNPACK kernels.
 */
import * as tf from '@tensorflow/tfjs';
import {
  call,
  conv2d,
  convInfoFor,
  cropNHWC,
  release,
  reshape,
  transpose,
  type Attrs,
  type TensorInfo,
  type WasmBackend,
} from './kernel-calls.js';

/**
 * dW[i,j,ci,co] = sum over n,oh,ow of x[n, oh*s+i-pt, ow*s+j-pl, ci] * dy[n,oh,ow,co].
 *
 * Read with ci as the batch, (h,w) as space and n as the channel to reduce,
 * that is a convolution of x^T = [Cin,H,W,N] by dy^T = [Ho,Wo,N,Cout] used as
 * a filter dilated by the forward stride, giving [Cin,kh,kw,Cout]. XNNPACK runs
 * it as one large GEMM, which is where the speed comes from.
 */
export function conv2DBackpropFilter(args: { inputs: tf.NamedTensorInfoMap; backend: tf.KernelBackend; attrs?: Attrs }): TensorInfo {
  const backend = args.backend as WasmBackend;
  const attrs = args.attrs ?? {};
  const x = args.inputs['x'];
  const dy = args.inputs['dy'];
  if (x === undefined || dy === undefined) throw new Error('Conv2DBackpropFilter needs inputs x and dy');
  const filterShape = attrs['filterShape'] as [number, number, number, number];
  const info = convInfoFor('Conv2DBackpropFilter', x.shape as [number, number, number, number], filterShape, attrs);
  const [kh, kw] = filterShape;
  const [, H, W] = x.shape as [number, number, number, number];
  const [, Ho, Wo] = dy.shape as [number, number, number, number];
  if (Ho !== info.outHeight || Wo !== info.outWidth) {
    throw new Error(`Conv2DBackpropFilter: dy shape ${dy.shape} does not match the convolution output ${info.outShape}`);
  }
  const sh = info.strideHeight;
  const sw = info.strideWidth;
  const top = info.padInfo.top;
  const left = info.padInfo.left;
  // Padding that makes the output exactly kh x kw; negative means trailing
  // rows/cols of x that no output position reads, which are cut off instead.
  const bottom = (Ho - 1) * sh + kh - H - top;
  const right = (Wo - 1) * sw + kw - W - left;

  if (kh * kw * info.inChannels * info.batchSize * Ho * Wo <= wasmKernelOptions.im2colMaxElements) {
    return filterGradByIm2col(backend, x, dy, info);
  }

  const temps: TensorInfo[] = [];
  try {
    let xs = x;
    if (bottom < 0 || right < 0) {
      xs = cropNHWC(backend, x, H + Math.min(bottom, 0), W + Math.min(right, 0));
      temps.push(xs);
    }
    const xT = transpose(backend, xs, [3, 1, 2, 0]);
    temps.push(xT);
    const dyT = transpose(backend, dy, [1, 2, 0, 3]);
    temps.push(dyT);
    const g = conv2d(
      backend,
      xT,
      dyT,
      { top, left, bottom: Math.max(bottom, 0), right: Math.max(right, 0) },
      [sh, sw],
    );
    temps.push(g);
    return transpose(backend, g, [1, 2, 0, 3]);
  } finally {
    release(backend, ...temps);
  }
}

/**
 * Tuning knobs, exposed so that tests can drive each code path.
 *
 * im2colMaxElements: the filter gradient is computed through an explicit
 * patch matrix when that matrix has at most this many elements, otherwise
 * through the transposed convolution. On the reference CNN the patch route is
 * ~5x faster for the 1-channel first layer and ~10-20% faster for 32->64; the
 * cap bounds its extra memory (4 bytes per element).
 */
export const wasmKernelOptions = { im2colMaxElements: 1 << 24 };

/**
 * The same gradient as one matmul, patches^T [kh*kw*Cin, N*Ho*Wo] x dy
 * [N*Ho*Wo, Cout], with the patch matrix written by a JS loop. For few input
 * channels (the first layer of a net) this avoids transposing dy, the
 * dominant cost of the convolution route there.
 *
 * The loop reads x channel-major ([Cin, N, H, W], one XNNPACK transpose away
 * unless Cin is 1), so each patch row is filled from consecutive input values.
 * Reading NHWC directly strides by Cin floats per value, which made building
 * the patches (a 32-channel layer: 3.6M values a batch) cost as much as the
 * matmul itself; read in order it costs a fraction of it.
 */
function filterGradByIm2col(
  backend: WasmBackend,
  x: TensorInfo,
  dy: TensorInfo,
  info: tf.backend_util.Conv2DInfo,
): TensorInfo {
  const { batchSize: N, inHeight: H, inWidth: W, inChannels: C, outHeight: Ho, outWidth: Wo, outChannels } = info;
  const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw } = info;
  const top = info.padInfo.top;
  const left = info.padInfo.left;
  const L = N * Ho * Wo;
  const rows = kh * kw * C;

  const temps: TensorInfo[] = [];
  try {
    // With one channel NHWC already is [1, N, H, W].
    const xc = C === 1 ? x : transpose(backend, x, [3, 0, 1, 2]);
    if (xc !== x) temps.push(xc);
    const patches = backend.makeOutput([1, rows, L], 'float32');
    temps.push(patches);
    // Views after the last allocation: growing the heap detaches earlier ones.
    const xv = backend.typedArrayFromHeap(xc) as Float32Array;
    const pv = backend.typedArrayFromHeap(patches) as Float32Array;
    const imageSize = H * W;
    for (let i = 0; i < kh; i++) {
      for (let j = 0; j < kw; j++) {
        // Output columns whose input column ow*sw+j-left lies inside the image.
        const owLo = Math.max(0, Math.ceil((left - j) / sw));
        const owHi = Math.min(Wo, Math.floor((W - 1 + left - j) / sw) + 1);
        for (let c = 0; c < C; c++) {
          let p = ((i * kw + j) * C + c) * L;
          for (let n = 0; n < N; n++) {
            const image = (c * N + n) * imageSize;
            for (let oh = 0; oh < Ho; oh++) {
              const h = oh * sh + i - top;
              if (h < 0 || h >= H || owHi <= owLo) {
                pv.fill(0, p, p + Wo);
                p += Wo;
                continue;
              }
              const rowBase = image + h * W + j - left;
              let ow = 0;
              for (; ow < owLo; ow++) pv[p++] = 0;
              for (; ow < owHi; ow++) pv[p++] = xv[rowBase + ow * sw]!;
              for (; ow < Wo; ow++) pv[p++] = 0;
            }
          }
        }
      }
    }
    const dy2 = reshape(backend, dy, [1, L, outChannels]);
    temps.push(dy2);
    const g = call('BatchMatMul', backend, { a: patches, b: dy2 }, { transposeA: false, transposeB: false });
    temps.push(g);
    return reshape(backend, g, [kh, kw, C, outChannels]);
  } finally {
    release(backend, ...temps);
  }
}

/**
 * dx is the full correlation of dy (with stride-1 zeros inserted between its
 * rows and columns) with the filter rotated by 180 degrees and its channel
 * axes swapped; done with the XNNPACK Conv2D instead of the backend's own
 * scalar Conv2DBackpropInput.
 */
export function conv2DBackpropInput(args: { inputs: tf.NamedTensorInfoMap; backend: tf.KernelBackend; attrs?: Attrs }): TensorInfo {
  const backend = args.backend as WasmBackend;
  const attrs = args.attrs ?? {};
  const dy = args.inputs['dy'];
  const filter = args.inputs['filter'];
  if (dy === undefined || filter === undefined) throw new Error('Conv2DBackpropInput needs inputs dy and filter');
  const inputShape = attrs['inputShape'] as [number, number, number, number];
  const info = convInfoFor('Conv2DBackpropInput', inputShape, filter.shape as [number, number, number, number], attrs);
  const [kh, kw] = filter.shape as [number, number, number, number];
  const [N, Ho, Wo, Cout] = dy.shape as [number, number, number, number];
  const [, H, W] = inputShape;
  if (Ho !== info.outHeight || Wo !== info.outWidth) {
    throw new Error(`Conv2DBackpropInput: dy shape ${dy.shape} does not match the convolution output ${info.outShape}`);
  }
  const sh = info.strideHeight;
  const sw = info.strideWidth;
  const top = kh - 1 - info.padInfo.top;
  const left = kw - 1 - info.padInfo.left;
  // Bottom/right padding after dy has been stretched to Ho*sh x Wo*sw (the
  // stretch already appends sh-1 / sw-1 zero rows/cols).
  let bottom = H + info.padInfo.top - (Ho - 1) * sh - 1 - (sh - 1);
  let right = W + info.padInfo.left - (Wo - 1) * sw - 1 - (sw - 1);
  if (top < 0 || left < 0) {
    throw new Error(
      `Conv2DBackpropInput on wasm: padding ${JSON.stringify(info.padInfo)} is larger than the filter, which is not supported`,
    );
  }

  const temps: TensorInfo[] = [];
  try {
    let d = dy;
    if (sh > 1 || sw > 1) {
      const r = reshape(backend, dy, [N, Ho, 1, Wo, 1, Cout]);
      temps.push(r);
      const p = call('PadV2', backend, { x: r }, {
        paddings: [[0, 0], [0, 0], [0, sh - 1], [0, 0], [0, sw - 1], [0, 0]],
        constantValue: 0,
      });
      temps.push(p);
      d = reshape(backend, p, [N, Ho * sh, Wo * sw, Cout]);
      temps.push(d);
    }
    if (bottom < 0 || right < 0) {
      // Only appended zeros are dropped here.
      const [, dh, dw] = d.shape as [number, number, number, number];
      d = cropNHWC(backend, d, dh + Math.min(bottom, 0), dw + Math.min(right, 0));
      temps.push(d);
      bottom = Math.max(bottom, 0);
      right = Math.max(right, 0);
    }
    const rev = call('Reverse', backend, { x: filter }, { dims: [0, 1] });
    temps.push(rev);
    const f = transpose(backend, rev, [0, 1, 3, 2]);
    temps.push(f);
    return conv2d(backend, d, f, { top, left, bottom, right }, [1, 1]);
  } finally {
    release(backend, ...temps);
  }
}
