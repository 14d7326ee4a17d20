/**
 * Training kernels for the wasm backend.
 *
 * @tensorflow/tfjs-backend-wasm 4.22 is built for inference: it has no
 * Conv2DBackpropFilter at all (so no conv net can be trained on it), its
 * Conv2DBackpropInput and MaxPoolGrad are scalar loops, and its XNNPACK matmul
 * leaves the fast path whenever a transpose flag is set, which every dense and
 * recurrent gradient does. The kernels in this folder rebuild those operations
 * out of the backend's own fast kernels (Conv2D, Transpose, Reverse, PadV2,
 * Slice, BatchMatMul) or, for max-pool, a single pass over the heap arrays.
 * Its Slice, SplitV and Unpack copy their whole input for every piece they cut,
 * and its Identity copies where sharing does; the ones here copy only the piece
 * and share.
 *
 * Each kernel lives in its own module; this one only registers them.
 */
import * as tf from '@tensorflow/tfjs';
import { BACKEND } from './kernel-calls.js';
import { conv2DBackpropFilter, conv2DBackpropInput } from './conv-backprop.js';
import { maxPoolGrad } from './max-pool-grad.js';
import { untransposing } from './matmul.js';
import { identityKernel, sliceKernel, splitVKernel, unpackKernel } from './slice.js';

export { wasmKernelOptions } from './conv-backprop.js';

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

type Make = (original: tf.KernelConfig | undefined, kernelName: string) => Omit<tf.KernelConfig, 'kernelName' | 'backendName'>;

function install(kernelName: string, make: Make): void {
  if (isOurs(kernelName)) return;
  const original = tf.getKernel(kernelName, BACKEND);
  if (original !== undefined) tf.unregisterKernel(kernelName, BACKEND);
  const cfg: MarkedConfig = { ...make(original, kernelName), kernelName, backendName: BACKEND, [MARK]: true };
  tf.registerKernel(cfg);
}

/** A kernel of its own, in place of the stock one (or of none). */
const replacing =
  (kernelFunc: unknown): Make =>
  () => ({ kernelFunc: kernelFunc as tf.KernelFunc });

/** A kernel built around the stock one, which it may fall back on. */
const around =
  (wrap: (original: tf.KernelConfig | undefined) => tf.KernelFunc): Make =>
  (original) => ({ kernelFunc: wrap(original) });

const matMul: Make = (original, kernelName) => {
  if (original === undefined) throw new Error(`wasm backend has no '${kernelName}' kernel to wrap`);
  // The original's setup binds its wasm entry point; keep it so that
  // registering before the backend initialises still works.
  const cfg: Omit<tf.KernelConfig, 'kernelName' | 'backendName'> = {
    kernelFunc: untransposing(original, kernelName === '_FusedMatMul'),
  };
  if (original.setupFunc) cfg.setupFunc = original.setupFunc;
  if (original.disposeFunc) cfg.disposeFunc = original.disposeFunc;
  return cfg;
};

const KERNELS = {
  Conv2DBackpropFilter: replacing(conv2DBackpropFilter),
  Conv2DBackpropInput: replacing(conv2DBackpropInput),
  MaxPoolGrad: replacing(maxPoolGrad),
  BatchMatMul: matMul,
  _FusedMatMul: matMul,
  Slice: around(sliceKernel),
  SplitV: around(splitVKernel),
  Unpack: around(unpackKernel),
  Identity: around(identityKernel),
} satisfies Record<string, Make>;

export type WasmTrainingKernel = keyof typeof KERNELS;

/** The kernels registerWasmTrainingKernels adds or replaces. */
export const WASM_TRAINING_KERNELS = Object.keys(KERNELS) as readonly WasmTrainingKernel[];

/**
 * Adds/replaces the wasm kernels that training needs. Safe to call any number
 * of times, before or after the wasm backend has been initialised. `kernels`
 * picks a subset, which only benchmarks comparing against the stock kernels need.
 */
export function registerWasmTrainingKernels(kernels: readonly WasmTrainingKernel[] = WASM_TRAINING_KERNELS): void {
  for (const name of kernels) install(name, KERNELS[name]);
}
