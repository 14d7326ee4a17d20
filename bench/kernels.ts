/**
 * Training throughput on the wasm backend with and without the kernels from
 * src/train/wasm-kernels/.
 *
 *   npx tsx bench/kernels.ts            all configurations
 *   npx tsx bench/kernels.ts cnn:all    one configuration, in this process
 *
 * Every configuration runs in a fresh child process, because kernel
 * registrations are process-wide and cannot be compared side by side.
 */
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import {
  registerWasmTrainingKernels,
  WASM_TRAINING_KERNELS,
  type WasmTrainingKernel,
} from '../src/train/wasm-kernels/index.js';

const BATCH = 64;

interface Config {
  model: 'cnn' | 'lstm';
  label: string;
  kernels: readonly WasmTrainingKernel[];
}

const CONFIGS: Record<string, Config> = {
  'cnn:stock': { model: 'cnn', label: 'stock kernels', kernels: [] },
  'cnn:filter': { model: 'cnn', label: '+ Conv2DBackpropFilter only', kernels: ['Conv2DBackpropFilter'] },
  'cnn:input': {
    model: 'cnn',
    label: '+ Conv2DBackpropInput',
    kernels: ['Conv2DBackpropFilter', 'Conv2DBackpropInput'],
  },
  'cnn:pool': {
    model: 'cnn',
    label: '+ MaxPoolGrad',
    kernels: ['Conv2DBackpropFilter', 'Conv2DBackpropInput', 'MaxPoolGrad'],
  },
  'cnn:all': { model: 'cnn', label: 'all (+ matmul transposes)', kernels: WASM_TRAINING_KERNELS },
  'lstm:stock': { model: 'lstm', label: 'stock kernels', kernels: [] },
  'lstm:all': { model: 'lstm', label: 'all', kernels: WASM_TRAINING_KERNELS },
};

function referenceCnn(): tf.Sequential {
  return tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 32, kernelSize: 3, padding: 'same', activation: 'relu' }),
      tf.layers.maxPooling2d({ poolSize: 2, strides: 2 }),
      tf.layers.conv2d({ filters: 64, kernelSize: 3, padding: 'same', activation: 'relu' }),
      tf.layers.maxPooling2d({ poolSize: 2, strides: 2 }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 128, activation: 'relu' }),
      tf.layers.dense({ units: 10 }),
    ],
  });
}

function referenceLstm(): tf.Sequential {
  return tf.sequential({
    layers: [
      tf.layers.lstm({ inputShape: [28, 28], units: 128, returnSequences: true }),
      tf.layers.lstm({ units: 128 }),
      tf.layers.dense({ units: 10 }),
    ],
  });
}

async function runOne(key: string): Promise<void> {
  const config = CONFIGS[key];
  if (config === undefined) throw new Error(`unknown configuration ${key}; one of ${Object.keys(CONFIGS).join(', ')}`);
  const require = createRequire(import.meta.url);
  setWasmPaths(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm')) + path.sep);
  registerWasmTrainingKernels(config.kernels);
  await tf.setBackend('wasm');
  await tf.ready();

  const model = config.model === 'cnn' ? referenceCnn() : referenceLstm();
  const optimizer = tf.train.adam(1e-3);
  const x = config.model === 'cnn' ? tf.randomUniform([BATCH, 28, 28, 1]) : tf.randomUniform([BATCH, 28, 28]);
  const y = tf.oneHot(tf.randomUniform([BATCH], 0, 10, 'int32') as tf.Tensor1D, 10);
  const step = (): void => {
    const loss = optimizer.minimize(
      () => tf.losses.softmaxCrossEntropy(y, model.apply(x) as tf.Tensor) as tf.Scalar,
      true,
    );
    loss?.dataSync();
    loss?.dispose();
  };
  try {
    step();
    step();
  } catch (err) {
    console.log(JSON.stringify({ key, error: (err as Error).message.split('\n')[0] }));
    return;
  }
  const minMs = 4000;
  let steps = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < minMs || steps < 3) {
    step();
    steps++;
  }
  const ms = (performance.now() - t0) / steps;
  console.log(JSON.stringify({ key, msPerStep: ms, imagesPerSecond: (BATCH * 1000) / ms }));
}

function runAll(): void {
  const self = fileURLToPath(import.meta.url);
  console.log(`wasm backend, batch ${BATCH}, Adam, softmax cross-entropy; forward + backward + update per step`);
  for (const [key, config] of Object.entries(CONFIGS)) {
    const child = spawnSync(process.execPath, [...process.execArgv, self, key], { encoding: 'utf8' });
    const line = child.stdout.split('\n').find((l) => l.startsWith('{'));
    const name = `${config.model.toUpperCase().padEnd(5)}${config.label.padEnd(30)}`;
    if (line === undefined) {
      console.log(`${name} failed: ${child.stderr.trim().split('\n').slice(-3).join(' | ')}`);
      continue;
    }
    const r = JSON.parse(line) as { error?: string; msPerStep?: number; imagesPerSecond?: number };
    if (r.error !== undefined) {
      console.log(`${name} cannot train: ${r.error}`);
    } else {
      console.log(`${name} ${r.imagesPerSecond!.toFixed(0).padStart(6)} img/s  (${r.msPerStep!.toFixed(1)} ms/step)`);
    }
  }
}

const arg = process.argv[2];
if (arg === undefined) runAll();
else await runOne(arg);
