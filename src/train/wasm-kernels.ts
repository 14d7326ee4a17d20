/**
 * Training kernels for the wasm backend.
 *
 * @tensorflow/tfjs-backend-wasm 4.22 is built for inference: it has no
 * Conv2DBackpropFilter at all (so no conv net can be trained on it), its
 * Conv2DBackpropInput and MaxPoolGrad are scalar loops, and its XNNPACK matmul
 * leaves the fast path whenever a transpose flag is set, which every dense and
 * recurrent gradient does. The kernels below rebuild those operations out of
 * the backend's own fast kernels (Conv2D, Transpose, Reverse, PadV2, Slice,
 * BatchMatMul) or, for max-pool, a single pass over the heap arrays.
 *
 * They work at the kernel level: intermediate results are backend data ids,
 * not tensors, so each one is released with `backend.disposeData` as soon as
 * it has been consumed. The engine only sees the returned output.
 */
import * as tf from '@tensorflow/tfjs';
// Registers the stock wasm kernels, some of which are wrapped below.
import '@tensorflow/tfjs-backend-wasm';

type TensorInfo = tf.TensorInfo;
type Attrs = tf.NamedAttrMap;
type Pad = 'same' | 'valid' | number | tf.backend_util.ExplicitPadding;
type RoundingMode = 'floor' | 'round' | 'ceil' | undefined;

/** The parts of the wasm backend these kernels rely on. */
interface WasmBackend extends tf.KernelBackend {
  makeOutput(shape: number[], dtype: tf.DataType): TensorInfo;
  typedArrayFromHeap(info: TensorInfo): tf.backend_util.TypedArray;
  disposeData(dataId: tf.DataId, force?: boolean): boolean;
}

const BACKEND = 'wasm';

/**
 * Marks kernel configs registered from here. The kernel registry lives on the
 * global object and outlives this module (test runners re-import modules), so
 * idempotence is decided by looking at what is registered, not at module state.
 */
const MARK = Symbol.for('xrun.wasmTrainingKernel');

type MarkedConfig = tf.KernelConfig & { [MARK]?: true };

function isOurs(kernelName: string): boolean {
  const cfg = tf.getKernel(kernelName, BACKEND) as MarkedConfig | undefined;
  return cfg?.[MARK] === true;
}

/** Runs a registered wasm kernel directly, bypassing the engine. */
function call(kernelName: string, backend: WasmBackend, inputs: Record<string, TensorInfo>, attrs: Attrs = {}): TensorInfo {
  const cfg = tf.getKernel(kernelName, BACKEND);
  if (cfg == null) {
    throw new Error(`wasm backend has no '${kernelName}' kernel`);
  }
  return single(cfg.kernelFunc({ inputs, backend, attrs }), kernelName);
}

function single(out: TensorInfo | TensorInfo[], kernelName: string): TensorInfo {
  if (Array.isArray(out)) {
    const first = out[0];
    if (out.length !== 1 || first === undefined) {
      throw new Error(`kernel '${kernelName}' returned ${out.length} outputs, expected 1`);
    }
    return first;
  }
  return out;
}

function release(backend: WasmBackend, ...infos: TensorInfo[]): void {
  for (const info of infos) backend.disposeData(info.dataId);
}

function transpose(backend: WasmBackend, x: TensorInfo, perm: number[]): TensorInfo {
  return call('Transpose', backend, { x }, { perm });
}

function reshape(backend: WasmBackend, x: TensorInfo, shape: number[]): TensorInfo {
  return call('Reshape', backend, { x }, { shape });
}

/** Keeps rows [0, h) and columns [0, w) of an NHWC tensor. */
function cropNHWC(backend: WasmBackend, x: TensorInfo, h: number, w: number): TensorInfo {
  const [n, , , c] = x.shape as [number, number, number, number];
  return call('Slice', backend, { x }, { begin: [0, 0, 0, 0], size: [n, h, w, c] });
}

/**
 * Explicit-padding 2-D convolution with the backend's XNNPACK Conv2D. Pads must
 * be non-negative; callers crop beforehand when the arithmetic says otherwise.
 */
function conv2d(
  backend: WasmBackend,
  x: TensorInfo,
  filter: TensorInfo,
  pads: { top: number; bottom: number; left: number; right: number },
  dilations: [number, number],
): TensorInfo {
  const pad: tf.backend_util.ExplicitPadding = [
    [0, 0],
    [pads.top, pads.bottom],
    [pads.left, pads.right],
    [0, 0],
  ];
  return call('Conv2D', backend, { x, filter }, {
    strides: [1, 1],
    pad,
    dataFormat: 'NHWC',
    dilations,
    dimRoundingMode: undefined,
  } as unknown as Attrs);
}

function convInfoFor(
  kernelName: string,
  inShape: [number, number, number, number],
  filterShape: [number, number, number, number],
  attrs: Attrs,
): tf.backend_util.Conv2DInfo {
  const { strides, pad, dataFormat, dimRoundingMode, dilations } = attrs as unknown as {
    strides: [number, number] | number;
    pad: Pad;
    dataFormat?: 'NHWC' | 'NCHW';
    dimRoundingMode?: RoundingMode;
    dilations?: [number, number] | number;
  };
  if (dataFormat !== undefined && dataFormat !== 'NHWC') {
    throw new Error(`${kernelName} on wasm supports only NHWC data, got ${dataFormat}`);
  }
  const dil = dilations ?? 1;
  if ((typeof dil === 'number' ? dil : Math.max(...dil)) !== 1) {
    throw new Error(`${kernelName} on wasm supports only dilation 1, got ${String(dil)}`);
  }
  return tf.backend_util.computeConv2DInfo(
    inShape,
    filterShape,
    strides,
    1,
    pad,
    dimRoundingMode,
    false,
    'channelsLast',
  );
}

/**
 * dW[i,j,ci,co] = sum over n,oh,ow of x[n, oh*s+i-pt, ow*s+j-pl, ci] * dy[n,oh,ow,co].
 *
 * Read with ci as the batch, (h,w) as space and n as the channel to reduce,
 * that is a convolution of x^T = [Cin,H,W,N] by dy^T = [Ho,Wo,N,Cout] used as
 * a filter dilated by the forward stride, giving [Cin,kh,kw,Cout]. XNNPACK runs
 * it as one large GEMM, which is where the speed comes from.
 */
function conv2DBackpropFilter(args: { inputs: tf.NamedTensorInfoMap; backend: tf.KernelBackend; attrs?: Attrs }): TensorInfo {
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

  const patches = backend.makeOutput([1, rows, L], 'float32');
  const temps: TensorInfo[] = [patches];
  try {
    const xv = backend.typedArrayFromHeap(x) as Float32Array;
    const pv = backend.typedArrayFromHeap(patches) as Float32Array;
    for (let i = 0; i < kh; i++) {
      for (let j = 0; j < kw; j++) {
        // Output columns whose input column ow*sw+j-left lies inside the image.
        const owLo = Math.max(0, Math.ceil((left - j) / sw));
        const owHi = Math.min(Wo, Math.floor((W - 1 + left - j) / sw) + 1);
        for (let c = 0; c < C; c++) {
          let p = ((i * kw + j) * C + c) * L;
          for (let n = 0; n < N; n++) {
            for (let oh = 0; oh < Ho; oh++) {
              const h = oh * sh + i - top;
              if (h < 0 || h >= H || owHi <= owLo) {
                pv.fill(0, p, p + Wo);
                p += Wo;
                continue;
              }
              const rowBase = ((n * H + h) * W + j - left) * C + c;
              let ow = 0;
              for (; ow < owLo; ow++) pv[p++] = 0;
              for (; ow < owHi; ow++) pv[p++] = xv[rowBase + ow * sw * C]!;
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
function conv2DBackpropInput(args: { inputs: tf.NamedTensorInfoMap; backend: tf.KernelBackend; attrs?: Attrs }): TensorInfo {
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

/**
 * Scatters dy onto the first maximum of each pooling window (row-major order,
 * strict comparison), as the cpu backend does, in one pass over heap memory.
 */
function maxPoolGrad(args: { inputs: tf.NamedTensorInfoMap; backend: tf.KernelBackend; attrs?: Attrs }): TensorInfo {
  const backend = args.backend as WasmBackend;
  const attrs = (args.attrs ?? {}) as unknown as {
    filterSize: [number, number] | number;
    strides: [number, number] | number;
    pad: Pad;
    dimRoundingMode?: RoundingMode;
  };
  const dy = args.inputs['dy'];
  const input = args.inputs['input'];
  if (dy === undefined || input === undefined) throw new Error('MaxPoolGrad needs inputs dy and input');
  if (input.dtype !== 'float32') throw new Error(`MaxPoolGrad on wasm supports float32 only, got ${input.dtype}`);
  const info = tf.backend_util.computePool2DInfo(
    input.shape as [number, number, number, number],
    attrs.filterSize,
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
  );
  const { batchSize, inHeight, inWidth, inChannels: C, outHeight, outWidth, strideHeight, strideWidth } = info;
  const fh = info.effectiveFilterHeight;
  const fw = info.effectiveFilterWidth;
  const padTop = info.padInfo.top;
  const padLeft = info.padInfo.left;

  const dx = backend.makeOutput(input.shape, 'float32');
  // Views are taken after the only allocation, so heap growth cannot detach them.
  const xv = backend.typedArrayFromHeap(input) as Float32Array;
  const dyv = backend.typedArrayFromHeap(dy) as Float32Array;
  const dxv = backend.typedArrayFromHeap(dx) as Float32Array;
  dxv.fill(0);

  const best = new Float32Array(C);
  const at = new Int32Array(C);
  const rowStride = inWidth * C;
  const imageStride = inHeight * rowStride;
  let dyOffset = 0;
  for (let b = 0; b < batchSize; b++) {
    const imageBase = b * imageStride;
    for (let oh = 0; oh < outHeight; oh++) {
      const h0 = oh * strideHeight - padTop;
      const hFrom = Math.max(0, h0);
      const hTo = Math.min(inHeight, h0 + fh);
      for (let ow = 0; ow < outWidth; ow++) {
        const w0 = ow * strideWidth - padLeft;
        const wFrom = Math.max(0, w0);
        const wTo = Math.min(inWidth, w0 + fw);
        best.fill(-Infinity);
        at.fill(-1);
        for (let h = hFrom; h < hTo; h++) {
          for (let w = wFrom; w < wTo; w++) {
            const base = imageBase + h * rowStride + w * C;
            for (let c = 0; c < C; c++) {
              const v = xv[base + c]!;
              if (v > best[c]!) {
                best[c] = v;
                at[c] = base + c;
              }
            }
          }
        }
        for (let c = 0; c < C; c++) {
          const idx = at[c]!;
          if (idx >= 0) dxv[idx] = dxv[idx]! + dyv[dyOffset + c]!;
        }
        dyOffset += C;
      }
    }
  }
  return dx;
}

function lastTwoSwapped(rank: number): number[] {
  const perm = Array.from({ length: rank }, (_, i) => i);
  perm[rank - 2] = rank - 1;
  perm[rank - 1] = rank - 2;
  return perm;
}

/** Applies a fused-matmul activation with the standalone wasm kernels. */
function activate(
  backend: WasmBackend,
  x: TensorInfo,
  activation: string,
  prelu: TensorInfo | undefined,
  leakyAlpha: number | undefined,
): TensorInfo {
  switch (activation) {
    case 'linear':
      return call('Identity', backend, { x });
    case 'relu':
      return call('Relu', backend, { x });
    case 'relu6':
      return call('Relu6', backend, { x });
    case 'elu':
      return call('Elu', backend, { x });
    case 'sigmoid':
      return call('Sigmoid', backend, { x });
    case 'leakyrelu':
      return call('LeakyRelu', backend, { x }, { alpha: leakyAlpha ?? 0.2 });
    case 'prelu':
      if (prelu === undefined) throw new Error('prelu activation needs preluActivationWeights');
      return call('Prelu', backend, { x, alpha: prelu });
    default:
      throw new Error(`_FusedMatMul on wasm: unsupported activation '${activation}'`);
  }
}

/**
 * XNNPACK's matmul is fast only for untransposed operands; a transpose flag
 * sends the backend down a slow generic path. An explicit Transpose first is
 * linear in the operand size and restores the fast path.
 *
 * For _FusedMatMul the stock kernel also adds the bias at wrong offsets once
 * there is more than one matrix in the batch, so that case is computed as a
 * plain product followed by Add and the activation kernel.
 */
function untransposing(original: tf.KernelConfig, fused: boolean): tf.KernelFunc {
  return (args) => {
    const backend = args.backend as WasmBackend;
    const attrs = args.attrs ?? {};
    const { transposeA, transposeB } = attrs as { transposeA?: boolean; transposeB?: boolean };
    const a = args.inputs['a'];
    const b = args.inputs['b'];
    const bias = fused ? args.inputs['bias'] : undefined;
    const batch = Math.max(
      ...[a, b].map((t) => (t === undefined ? 1 : t.shape.slice(0, -2).reduce((p, d) => p * d, 1))),
    );
    const splitBias = bias != null && batch > 1;
    if ((!transposeA && !transposeB && !splitBias) || a === undefined || b === undefined) {
      return original.kernelFunc(args);
    }
    const temps: TensorInfo[] = [];
    try {
      let a2 = a;
      let b2 = b;
      if (transposeA) {
        a2 = transpose(backend, a, lastTwoSwapped(a.shape.length));
        temps.push(a2);
      }
      if (transposeB) {
        b2 = transpose(backend, b, lastTwoSwapped(b.shape.length));
        temps.push(b2);
      }
      if (!splitBias) {
        return original.kernelFunc({
          inputs: { ...args.inputs, a: a2, b: b2 },
          backend: args.backend,
          attrs: { ...attrs, transposeA: false, transposeB: false },
        });
      }
      const product = single(
        original.kernelFunc({
          inputs: { a: a2, b: b2 },
          backend: args.backend,
          attrs: { ...attrs, transposeA: false, transposeB: false, activation: 'linear' },
        }),
        '_FusedMatMul',
      );
      temps.push(product);
      const biased = call('Add', backend, { a: product, b: bias });
      temps.push(biased);
      const { activation, leakyreluAlpha } = attrs as { activation?: string; leakyreluAlpha?: number };
      return activate(backend, biased, activation ?? 'linear', args.inputs['preluActivationWeights'], leakyreluAlpha);
    } finally {
      release(backend, ...temps);
    }
  };
}

function install(kernelName: string, make: (original: tf.KernelConfig | undefined) => Omit<tf.KernelConfig, 'kernelName' | 'backendName'>): void {
  if (isOurs(kernelName)) return;
  const original = tf.getKernel(kernelName, BACKEND);
  if (original !== undefined) tf.unregisterKernel(kernelName, BACKEND);
  const cfg: MarkedConfig = { ...make(original), kernelName, backendName: BACKEND, [MARK]: true };
  tf.registerKernel(cfg);
}

/** The kernels registerWasmTrainingKernels adds or replaces. */
export const WASM_TRAINING_KERNELS = [
  'Conv2DBackpropFilter',
  'Conv2DBackpropInput',
  'MaxPoolGrad',
  'BatchMatMul',
  '_FusedMatMul',
] as const;

export type WasmTrainingKernel = (typeof WASM_TRAINING_KERNELS)[number];

/**
 * Adds/replaces the wasm kernels that training needs. Safe to call any number
 * of times, before or after the wasm backend has been initialised. `kernels`
 * picks a subset, which only benchmarks comparing against the stock kernels need.
 */
export function registerWasmTrainingKernels(kernels: readonly WasmTrainingKernel[] = WASM_TRAINING_KERNELS): void {
  for (const name of kernels) {
    switch (name) {
      case 'Conv2DBackpropFilter':
        install(name, () => ({ kernelFunc: conv2DBackpropFilter as unknown as tf.KernelFunc }));
        break;
      case 'Conv2DBackpropInput':
        install(name, () => ({ kernelFunc: conv2DBackpropInput as unknown as tf.KernelFunc }));
        break;
      case 'MaxPoolGrad':
        install(name, () => ({ kernelFunc: maxPoolGrad as unknown as tf.KernelFunc }));
        break;
      case 'BatchMatMul':
      case '_FusedMatMul':
        install(name, (original) => {
          if (original === undefined) throw new Error(`wasm backend has no '${name}' kernel to wrap`);
          // The original's setup binds its wasm entry point; keep it so that
          // registering before the backend initialises still works.
          const cfg: Omit<tf.KernelConfig, 'kernelName' | 'backendName'> = {
            kernelFunc: untransposing(original, name === '_FusedMatMul'),
          };
          if (original.setupFunc) cfg.setupFunc = original.setupFunc;
          if (original.disposeFunc) cfg.disposeFunc = original.disposeFunc;
          return cfg;
        });
        break;
    }
  }
}
