/**
 * tfjs's webgpu backend on one chosen adapter (see gpu-adapters.ts for how adapters are
 * found and chosen), and letting go of the GPU when a process is done.
 */
import * as tf from '@tensorflow/tfjs';
import { clearDeviceError, reportDeviceError } from './device-errors.js';
import { ADAPTER_OPTIONS, loadDawn, WebGpuUnavailable, type DeviceLike, type GpuAdapter, type GpuLike } from './gpu-adapters.js';

interface ActiveGpu {
  adapter: GpuAdapter;
  gpu: GpuLike;
  device?: DeviceLike;
  releasing: boolean;
}
let active: ActiveGpu | undefined;

function installNavigatorGpu(gpu: GpuLike | undefined): void {
  const g = globalThis as unknown as { navigator?: Record<string, unknown> };
  if (gpu === undefined) {
    if (g.navigator) delete g.navigator.gpu;
    return;
  }
  if (g.navigator) Object.defineProperty(g.navigator, 'gpu', { value: gpu, configurable: true, writable: true });
  else Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
}

/**
 * Registers tfjs's `webgpu` backend on `adapter` (replacing any earlier registration,
 * which may name another adapter). The caller then activates it with tf.setBackend.
 */
export async function prepareWebGpu(adapter: GpuAdapter): Promise<void> {
  if (active && active.adapter.name === adapter.name && tf.findBackend('webgpu')) return;
  if (active) releaseWebGpu();
  if (!adapter.selectable) {
    throw new WebGpuUnavailable(
      `GPU adapter ${adapter.index} (${adapter.name}) cannot be selected on its own: Dawn picks adapters by name and an earlier one has the same name`,
      'run one process per GPU with the driver restricted to it (e.g. a container per GPU), or use --gpus with the first of the identical adapters',
    );
  }
  const dawn = await loadDawn();
  const gpu = dawn.create([`adapter=${adapter.name}`]);
  // The package registers its own factory on import when navigator.gpu already exists;
  // it is replaced below by one bound to the chosen adapter.
  const { WebGPUBackend } = (await import('@tensorflow/tfjs-backend-webgpu')) as unknown as {
    WebGPUBackend: new (device: unknown, info: unknown) => tf.KernelBackend;
  };
  installNavigatorGpu(gpu);
  const state: ActiveGpu = { adapter, gpu, releasing: false };
  active = state;
  if (tf.findBackendFactory('webgpu')) tf.removeBackend('webgpu');
  clearDeviceError();
  tf.registerBackend(
    'webgpu',
    async () => {
      const chosen = await gpu.requestAdapter(ADAPTER_OPTIONS);
      if (!chosen) throw new Error(`adapter '${adapter.name}' is gone`);
      const limits = chosen.limits;
      // The same request tfjs's own registration makes: the adapter's full limits, not
      // WebGPU's small defaults (a 128 MiB binding limit would refuse a dataset split).
      const device = await chosen.requestDevice({
        requiredFeatures: chosen.features.has('timestamp-query') ? ['timestamp-query'] : [],
        requiredLimits: {
          maxComputeWorkgroupStorageSize: limits.maxComputeWorkgroupStorageSize,
          maxComputeWorkgroupsPerDimension: limits.maxComputeWorkgroupsPerDimension,
          maxStorageBufferBindingSize: limits.maxStorageBufferBindingSize,
          maxBufferSize: limits.maxBufferSize,
          maxComputeWorkgroupSizeX: limits.maxComputeWorkgroupSizeX,
          maxComputeInvocationsPerWorkgroup: limits.maxComputeInvocationsPerWorkgroup,
        },
      });
      // WebGPU reports a failed dispatch (an oversized binding, out of memory) only as
      // an event; without this, training would go on with garbage and no error.
      device.onuncapturederror = (event) => reportDeviceError(`GPU error: ${event.error?.message ?? 'unknown'}`);
      void device.lost.then((info) => {
        if (!state.releasing) reportDeviceError(`GPU device lost: ${info.message || info.reason || 'unknown reason'}`);
      });
      state.device = device;
      return new WebGPUBackend(device, chosen.info);
    },
    3,
  );
}

/** The adapter tfjs's webgpu backend is bound to in this process, if any. */
export function activeGpuAdapter(): GpuAdapter | undefined {
  return active?.adapter;
}

/**
 * Lets go of the GPU: while Dawn's GPU object is referenced, Node does not exit. Call
 * when the process is done training; a later prepareWebGpu starts afresh.
 */
export function releaseWebGpu(): void {
  const state = active;
  if (!state) return;
  state.releasing = true;
  active = undefined;
  if (tf.findBackendFactory('webgpu')) tf.removeBackend('webgpu');
  state.device?.destroy();
  installNavigatorGpu(undefined);
}
