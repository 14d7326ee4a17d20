/**
 * The low-level pieces every wasm training kernel is built from.
 *
 * The kernels work at the kernel level: intermediate results are backend data
 * ids, not tensors, so each one is released with `backend.disposeData` as soon
 * as it has been consumed. The engine only sees the returned output.
 */
import * as tf from '@tensorflow/tfjs';
// Registers the stock wasm kernels, which `call` runs and some of which
// registerWasmTrainingKernels wraps.
import '@tensorflow/tfjs-backend-wasm';

export type TensorInfo = tf.TensorInfo;
export type Attrs = tf.NamedAttrMap;
export type Pad = 'same' | 'valid' | number | tf.backend_util.ExplicitPadding;
export type RoundingMode = 'floor' | 'round' | 'ceil' | undefined;

/** The parts of the wasm backend these kernels rely on. */
export interface WasmBackend extends tf.KernelBackend {
  makeOutput(shape: number[], dtype: tf.DataType): TensorInfo;
  typedArrayFromHeap(info: TensorInfo): tf.backend_util.TypedArray;
  disposeData(dataId: tf.DataId, force?: boolean): boolean;
  incRef(dataId: tf.DataId): void;
}


export const BACKEND = 'wasm';

/** Runs a registered wasm kernel directly, bypassing the engine. */
export function call(kernelName: string, backend: WasmBackend, inputs: Record<string, TensorInfo>, attrs: Attrs = {}): TensorInfo {
  const cfg = tf.getKernel(kernelName, BACKEND);
  if (cfg == null) {
    throw new Error(`wasm backend has no '${kernelName}' kernel`);
  }
  return single(cfg.kernelFunc({ inputs, backend, attrs }), kernelName);
}

export function single(out: TensorInfo | TensorInfo[], kernelName: string): TensorInfo {
  if (Array.isArray(out)) {
    const first = out[0];
    if (out.length !== 1 || first === undefined) {
      throw new Error(`kernel '${kernelName}' returned ${out.length} outputs, expected 1`);
    }
    return first;
  }
  return out;
}

export function release(backend: WasmBackend, ...infos: TensorInfo[]): void {
  for (const info of infos) backend.disposeData(info.dataId);
}

export function transpose(backend: WasmBackend, x: TensorInfo, perm: number[]): TensorInfo {
  return call('Transpose', backend, { x }, { perm });
}

export function reshape(backend: WasmBackend, x: TensorInfo, shape: number[]): TensorInfo {
  return call('Reshape', backend, { x }, { shape });
}

/** Keeps rows [0, h) and columns [0, w) of an NHWC tensor. */
export function cropNHWC(backend: WasmBackend, x: TensorInfo, h: number, w: number): TensorInfo {
  const [n, , , c] = x.shape as [number, number, number, number];
  return call('Slice', backend, { x }, { begin: [0, 0, 0, 0], size: [n, h, w, c] });
}

/**
 * Explicit-padding 2-D convolution with the backend's XNNPACK Conv2D. Pads must
 * be non-negative; callers crop beforehand when the arithmetic says otherwise.
 */
export function conv2d(
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

export function convInfoFor(
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
