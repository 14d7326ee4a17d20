import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { BackendError } from '../src/errors.js';
import { selectBackend } from '../src/train/backend.js';
import { isSoftwareAdapter, listGpuAdapters } from '../src/train/gpu-adapters.js';

// The native TensorFlow packages are optional and not installed in this
// repository, so these tests pin down the fallback behaviour.
describe('selectBackend', () => {
  it('loads wasm and can train on it', async () => {
    const info = await selectBackend('wasm');
    expect(info.requested).toBe('wasm');
    expect(info.name).toBe('wasm');
    expect(info.tfBackend).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    expect(info.versions['@tensorflow/tfjs-core']).toMatch(/^\d+\.\d+\.\d+/);
    expect(info.versions['@tensorflow/tfjs-backend-wasm']).toMatch(/^\d+\.\d+\.\d+/);
    expect(info.versions['node']).toBe(process.versions.node);
    // Conv2DBackpropFilter does not exist in the stock wasm backend.
    const g = tf.grad((f: tf.Tensor) => tf.conv2d(tf.ones([1, 4, 4, 1]) as tf.Tensor4D, f as tf.Tensor4D, 1, 'same').sum());
    const df = g(tf.ones([3, 3, 1, 2]));
    expect(Array.from(await df.data())).toEqual([9, 9, 12, 12, 9, 9, 12, 12, 16, 16, 12, 12, 9, 9, 12, 12, 9, 9]);
  });

  it('is idempotent', async () => {
    await selectBackend('wasm');
    const again = await selectBackend('wasm');
    expect(again.tfBackend).toBe('wasm');
  });

  it('auto skips the native backends and any software GPU adapter, falls back to wasm, and says why', async () => {
    const adapters = await listGpuAdapters().catch(() => []);
    const hardware = adapters.some((a) => !a.software);
    const info = await selectBackend('auto');
    expect(info.requested).toBe('auto');
    expect(info.notes[0]).toMatch(/^tensorflow-gpu: @tensorflow\/tfjs-node-gpu is not installed/);
    expect(info.notes[0]).toContain('npm install @tensorflow/tfjs-node-gpu');
    if (hardware) {
      // A machine with a real GPU: auto trains on it.
      expect(info.name).toBe('webgpu');
      expect(info.adapter?.software).toBe(false);
      await selectBackend('wasm');
      return;
    }
    expect(info.name).toBe('wasm');
    expect(info.tfBackend).toBe('wasm');
    expect(info.adapter).toBeUndefined();
    expect(info.notes).toHaveLength(3);
    // lavapipe or SwiftShader alone is never picked; no adapter at all is said as such.
    expect(info.notes[1]).toMatch(adapters.length > 0 ? /^webgpu: only a software adapter was found: .*auto never trains on one/ : /^webgpu: /);
    expect(info.notes[2]).toMatch(/^tensorflow: @tensorflow\/tfjs-node is not installed/);
    expect(info.notes[2]).toContain('npm install @tensorflow/tfjs-node');
  });

  it('rejects an explicitly requested backend that is not installed', async () => {
    const err = await selectBackend('tensorflow-gpu').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BackendError);
    expect((err as BackendError).message).toContain('@tensorflow/tfjs-node-gpu');
    expect((err as BackendError).hint).toContain('npm install @tensorflow/tfjs-node-gpu');
    await expect(selectBackend('tensorflow')).rejects.toBeInstanceOf(BackendError);
  });

  it('tells software adapters from GPUs by what Dawn reports', () => {
    // What Mesa's lavapipe reports through Dawn.
    expect(isSoftwareAdapter({ vendor: 'mesa', architecture: 'software', device: 'llvmpipe-llvm-15-0-6-256-bits-', isFallbackAdapter: true })).toBe(true);
    expect(isSoftwareAdapter({ vendor: 'google', architecture: '', device: '' }, 'SwiftShader Device (Subzero)')).toBe(true);
    expect(isSoftwareAdapter({ vendor: 'nvidia', architecture: 'hopper', device: '', description: 'NVIDIA H100 80GB HBM3', isFallbackAdapter: false })).toBe(false);
  });

  it('can switch to cpu', async () => {
    const info = await selectBackend('cpu');
    expect(info.tfBackend).toBe('cpu');
    expect(info.versions['@tensorflow/tfjs-backend-cpu']).toMatch(/^\d+\.\d+\.\d+/);
    await selectBackend('wasm');
  });
});
