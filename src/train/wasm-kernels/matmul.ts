/**
 * BatchMatMul and _FusedMatMul wrappers that keep XNNPACK's matmul on its fast
 * path, which every dense and recurrent gradient (all transposed) would leave.
 */
import * as tf from '@tensorflow/tfjs';
import { call, release, single, transpose, type TensorInfo, type WasmBackend } from './kernel-calls.js';

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
export function untransposing(original: tf.KernelConfig, fused: boolean): tf.KernelFunc {
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
