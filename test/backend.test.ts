import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { BackendError } from '../src/errors.js';
import { selectBackend } from '../src/train/backend.js';

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

  it('auto falls back to wasm and says why the native backends were skipped', async () => {
    const info = await selectBackend('auto');
    expect(info.requested).toBe('auto');
    expect(info.name).toBe('wasm');
    expect(info.tfBackend).toBe('wasm');
    expect(info.notes).toHaveLength(2);
    expect(info.notes[0]).toMatch(/^tensorflow-gpu: @tensorflow\/tfjs-node-gpu is not installed/);
    expect(info.notes[0]).toContain('npm install @tensorflow/tfjs-node-gpu');
    expect(info.notes[1]).toMatch(/^tensorflow: @tensorflow\/tfjs-node is not installed/);
    expect(info.notes[1]).toContain('npm install @tensorflow/tfjs-node');
  });

  it('rejects an explicitly requested backend that is not installed', async () => {
    const err = await selectBackend('tensorflow-gpu').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BackendError);
    expect((err as BackendError).message).toContain('@tensorflow/tfjs-node-gpu');
    expect((err as BackendError).hint).toContain('npm install @tensorflow/tfjs-node-gpu');
    await expect(selectBackend('tensorflow')).rejects.toBeInstanceOf(BackendError);
  });

  it('can switch to cpu', async () => {
    const info = await selectBackend('cpu');
    expect(info.tfBackend).toBe('cpu');
    expect(info.versions['@tensorflow/tfjs-backend-cpu']).toMatch(/^\d+\.\d+\.\d+/);
    await selectBackend('wasm');
  });
});
