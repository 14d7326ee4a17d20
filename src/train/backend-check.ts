/**
 * A cheap, tfjs-free check the parent process runs before any run starts: an explicitly
 * requested native backend whose package is not installed is bad input (exit 2), not
 * seven failed runs. Whether it then loads is up to the worker (see backend.ts).
 */
import { createRequire } from 'node:module';
import { BackendError, UsageError } from '../errors.js';

export const NATIVE_PACKAGE = {
  'tensorflow-gpu': '@tensorflow/tfjs-node-gpu',
  tensorflow: '@tensorflow/tfjs-node',
} as const;

/** The environment variable through which the runner gives each worker its GPU adapter index (webgpu). */
export const GPU_ENV = 'XRUN_GPU';

const require = createRequire(import.meta.url);

export function assertBackendInstalled(requested: string): void {
  if (requested !== 'tensorflow-gpu' && requested !== 'tensorflow') return;
  const pkg = NATIVE_PACKAGE[requested];
  try {
    require.resolve(pkg);
  } catch {
    throw new BackendError(`runtime.backend '${requested}' needs ${pkg}, which is not installed`, {
      hint: `npm install ${pkg} (see "Backends and the GPU" in the README), or use backend 'auto' to fall back to wasm`,
    });
  }
}

/**
 * For an explicit `webgpu`: at least one adapter, and every --gpus entry an adapter index
 * that exists and can be selected. Loads Dawn (not tfjs) in the calling process.
 */
export async function assertGpusUsable(requested: string, gpus: readonly string[]): Promise<void> {
  if (requested !== 'webgpu') return;
  const { listGpuAdapters, WebGpuUnavailable, INSTALL_HINT } = await import('./gpu-adapters.js');
  let adapters;
  try {
    adapters = await listGpuAdapters();
  } catch (err) {
    if (err instanceof WebGpuUnavailable) throw new BackendError(`runtime.backend 'webgpu': ${err.message}`, { hint: err.hint, cause: err });
    throw err;
  }
  if (adapters.length === 0) {
    throw new BackendError(`runtime.backend 'webgpu': no GPU adapter found (Dawn lists none)`, { hint: INSTALL_HINT });
  }
  const listing = adapters.map((a) => `${a.index}: ${a.name}${a.software ? ' (software)' : ''}`).join(', ');
  for (const gpu of gpus) {
    const adapter = /^\d+$/.test(gpu) ? adapters[Number(gpu)] : undefined;
    if (!adapter) {
      throw new UsageError(`--gpus/runtime.gpus: '${gpu}' is not a GPU adapter index here; adapters: ${listing}`, {
        hint: 'xrun doctor lists the adapters and their indexes',
      });
    }
    if (!adapter.selectable) {
      throw new UsageError(`--gpus/runtime.gpus: adapter ${gpu} (${adapter.name}) has the same name as an earlier one, and Dawn selects adapters by name`, {
        hint: 'use the first of the identical adapters, or run one xrun per GPU with the driver restricted to it',
      });
    }
  }
}
