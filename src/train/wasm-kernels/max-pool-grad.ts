/**
 * MaxPoolGrad. The stock wasm kernel is a scalar loop; this one is a single
 * pass over the heap arrays, with whole 2x2 windows (the usual pooling) unrolled.
 */
import * as tf from '@tensorflow/tfjs';
import type { Attrs, Pad, RoundingMode, TensorInfo, WasmBackend } from './kernel-calls.js';

/**
 * Scatters dy onto the first maximum of each pooling window (row-major order,
 * strict comparison), as the cpu backend does, in one pass over heap memory.
 */
export function maxPoolGrad(args: { inputs: tf.NamedTensorInfoMap; backend: tf.KernelBackend; attrs?: Attrs }): TensorInfo {
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
        if (hTo - hFrom === 2 && wTo - wFrom === 2) {
          // A whole 2x2 window, the usual pooling: the same comparisons in the same order
          // as the general loop below, kept in registers instead of the per-channel arrays.
          const a = imageBase + hFrom * rowStride + wFrom * C;
          const b2 = a + rowStride;
          for (let c = 0; c < C; c++) {
            let m = -Infinity;
            let idx = -1;
            let v = xv[a + c]!;
            if (v > m) (m = v), (idx = a + c);
            v = xv[a + C + c]!;
            if (v > m) (m = v), (idx = a + C + c);
            v = xv[b2 + c]!;
            if (v > m) (m = v), (idx = b2 + c);
            v = xv[b2 + C + c]!;
            if (v > m) idx = b2 + C + c;
            if (idx >= 0) dxv[idx] = dxv[idx]! + dyv[dyOffset + c]!;
          }
          dyOffset += C;
          continue;
        }
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
