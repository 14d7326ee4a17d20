/**
 * Slice, SplitV and Unpack for the wasm backend, copying only what they output.
 *
 * The stock kernels (tfjs-backend-wasm 4.22) start every slice with `readSync` of the
 * whole input: a fresh JS copy of the entire tensor out of the wasm heap, then the wanted
 * part is copied again. A recurrent layer splits its input projection into time steps, so
 * one batch made hundreds of full copies; in a GRU run that was ~11% of the main thread,
 * and the garbage (large ArrayBuffers, page faults, "external memory pressure" collections)
 * kept V8's helper threads busy too, which is what two runs side by side on two cores
 * compete for. These read the input through a view of the heap instead.
 *
 * A view must be taken after every `makeOutput`: allocating can grow the wasm memory,
 * which detaches views of the old buffer.
 */
import * as tf from '@tensorflow/tfjs';
import type { TensorInfo, WasmBackend } from './kernel-calls.js';

type Typed = tf.backend_util.TypedArray;

/**
 * Copies the box `begin`..`begin+size` of a row-major array of `shape` into `out`, in
 * runs as long as the box allows (trailing axes taken whole merge into one run).
 */
export function copyBox(src: Typed, shape: readonly number[], begin: readonly number[], size: readonly number[], out: Typed): void {
  const rank = shape.length;
  let run = 1;
  let d = rank - 1;
  while (d >= 0 && begin[d] === 0 && size[d] === shape[d]) run *= shape[d--]!;
  if (d < 0) {
    out.set(src.subarray(0, run));
    return;
  }
  const strides = new Array<number>(rank);
  for (let i = rank - 1, s = 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i]!;
  }
  run *= size[d]!;
  let rows = 1;
  for (let i = 0; i < d; i++) rows *= size[i]!;
  if (rows === 0 || run === 0) return;
  let offset = 0;
  for (let i = 0; i <= d; i++) offset += begin[i]! * strides[i]!;
  const index = new Array<number>(d).fill(0);
  for (let r = 0, at = 0; r < rows; r++, at += run) {
    out.set(src.subarray(offset, offset + run), at);
    // Next outer index, odometer-style; the offset follows it.
    for (let i = d - 1; i >= 0; i--) {
      offset += strides[i]!;
      if (++index[i]! < size[i]!) break;
      offset -= index[i]! * strides[i]!;
      index[i] = 0;
    }
  }
}

/** One slice of `x` into a new output of `outShape` (same element count as `size`). */
function sliceInto(backend: WasmBackend, x: TensorInfo, begin: number[], size: number[], outShape: number[] = size): TensorInfo {
  const out = backend.makeOutput(outShape, x.dtype);
  if (tf.util.sizeFromShape(size) === 0) return out;
  copyBox(backend.typedArrayFromHeap(x), x.shape, begin, size, backend.typedArrayFromHeap(out));
  return out;
}

type Kernel = (args: { inputs: tf.NamedTensorInfoMap; backend: WasmBackend; attrs: tf.NamedAttrMap }) => TensorInfo | TensorInfo[];

/**
 * The kernel as tfjs registers it. String tensors live outside the heap; the stock kernel
 * handles them.
 */
const numeric =
  (original: tf.KernelConfig | undefined, own: Kernel): tf.KernelFunc =>
  (args) => {
    const first = Object.values(args.inputs)[0] as TensorInfo | undefined;
    if (first?.dtype === 'string') {
      if (!original) throw new Error('wasm backend has no kernel for string tensors here');
      return original.kernelFunc(args);
    }
    return own(args as unknown as Parameters<Kernel>[0]);
  };

export const sliceKernel = (original: tf.KernelConfig | undefined): tf.KernelFunc =>
  numeric(original, ({ inputs, backend, attrs }) => {
    const x = inputs.x as TensorInfo;
    const [begin, size] = tf.slice_util.parseSliceParams(x as tf.Tensor, attrs.begin as number[], attrs.size as number[]) as [number[], number[]];
    return sliceInto(backend, x, begin, size);
  });

export const splitVKernel = (original: tf.KernelConfig | undefined): tf.KernelFunc =>
  numeric(original, ({ inputs, backend, attrs }) => {
    const x = inputs.x as TensorInfo;
    const axis = tf.util.parseAxisParam(attrs.axis as number, x.shape)[0]!;
    const sizes = tf.backend_util.prepareSplitSize(x as tf.Tensor, attrs.numOrSizeSplits as number[] | number, axis) as number[];
    const begin = new Array<number>(x.shape.length).fill(0);
    return sizes.map((s) => {
      const size = [...x.shape];
      size[axis] = s;
      const out = sliceInto(backend, x, begin, size);
      begin[axis]! += s;
      return out;
    });
  });

export const unpackKernel = (original: tf.KernelConfig | undefined): tf.KernelFunc =>
  numeric(original, ({ inputs, backend, attrs }) => {
    const x = inputs.value as TensorInfo;
    let axis = attrs.axis as number;
    if (axis < 0) axis += x.shape.length;
    const outShape = x.shape.filter((_, i) => i !== axis);
    const begin = new Array<number>(x.shape.length).fill(0);
    const size = [...x.shape];
    size[axis] = 1;
    return Array.from({ length: x.shape[axis]! }, (_, i) => {
      begin[axis] = i;
      return sliceInto(backend, x, begin, size, outShape);
    });
  });

/**
 * Identity as the cpu and webgl backends do it: the output shares the input's heap data
 * (counted, like Reshape). The stock kernel copies, and the engine clones every tensor a
 * gradient keeps for the backward pass through Identity. Tensors are immutable and no
 * kernel writes into an input, so sharing is safe.
 */
export const identityKernel = (original: tf.KernelConfig | undefined): tf.KernelFunc =>
  numeric(original, ({ inputs, backend }) => {
    const x = inputs.x as TensorInfo;
    backend.incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
  });
