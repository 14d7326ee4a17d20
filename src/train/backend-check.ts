/**
 * A cheap, tfjs-free check the parent process runs before any run starts: an explicitly
 * requested native backend whose package is not installed is bad input (exit 2), not
 * seven failed runs. Whether it then loads is up to the worker (see backend.ts).
 */
import { createRequire } from 'node:module';
import { BackendError } from '../errors.js';

export const NATIVE_PACKAGE = {
  'tensorflow-gpu': '@tensorflow/tfjs-node-gpu',
  tensorflow: '@tensorflow/tfjs-node',
} as const;

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
