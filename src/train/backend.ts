/**
 * Picks the compute backend for training.
 *
 * The native TensorFlow bindings (@tensorflow/tfjs-node, -node-gpu) are
 * optional peer dependencies: their install step downloads libtensorflow,
 * which many machines cannot do, so they are loaded only when present and the
 * module names are kept out of the type checker's sight. Without them the
 * wasm backend (with the training kernels from ./wasm-kernels/) is the
 * fastest thing available; the plain JS cpu backend is the last resort.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { BackendError } from '../errors.js';
import { GPU_ENV, NATIVE_PACKAGE } from './backend-check.js';
import { registerWasmTrainingKernels } from './wasm-kernels/index.js';
import { listGpuAdapters, pickAdapter, WebGpuUnavailable, type GpuAdapter } from './gpu-adapters.js';
import { prepareWebGpu, releaseWebGpu } from './webgpu.js';

export type BackendName = 'auto' | 'tensorflow-gpu' | 'webgpu' | 'tensorflow' | 'wasm' | 'cpu';

export interface BackendInfo {
  requested: BackendName;
  /** What was taken. */
  name: Exclude<BackendName, 'auto'>;
  /** `tf.getBackend()` after selection. */
  tfBackend: string;
  /** One line per better backend that was skipped, and why. */
  notes: string[];
  /** Package versions in use: @tensorflow/tfjs-core, the backend package, node. */
  versions: Record<string, string>;
  /** The GPU adapter, for `webgpu`. */
  adapter?: GpuAdapter;
}

type Concrete = Exclude<BackendName, 'auto'>;

const require = createRequire(import.meta.url);


const BACKEND_PACKAGE: Record<Concrete, string> = {
  'tensorflow-gpu': NATIVE_PACKAGE['tensorflow-gpu'],
  webgpu: '@tensorflow/tfjs-backend-webgpu',
  tensorflow: NATIVE_PACKAGE.tensorflow,
  wasm: '@tensorflow/tfjs-backend-wasm',
  cpu: '@tensorflow/tfjs-backend-cpu',
};

/** Why a backend could not be used, plus what the user can do about it. */
class Unavailable extends Error {
  constructor(
    message: string,
    readonly hint: string,
    options: { cause?: unknown } = {},
  ) {
    super(message, options);
  }
}

/** Which native package registered the 'tensorflow' tfjs backend, if any. */
let nativeLoaded: keyof typeof NATIVE_PACKAGE | undefined;

function firstLine(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.split('\n')[0] ?? text;
}

async function importNative(which: 'tensorflow-gpu' | 'tensorflow'): Promise<void> {
  if (nativeLoaded !== undefined) {
    // Both packages register a backend named 'tensorflow'; loading the second
    // on top of the first would only produce duplicate-registration noise.
    if (nativeLoaded === which || which === 'tensorflow') return;
    throw new Unavailable(
      `${NATIVE_PACKAGE[which]} cannot be loaded: ${NATIVE_PACKAGE[nativeLoaded]} is already loaded in this process`,
      'select the backend before any other TensorFlow.js work, or restart the process',
    );
  }
  const pkg: string = NATIVE_PACKAGE[which];
  const hint =
    which === 'tensorflow-gpu'
      ? `npm install ${pkg}; it needs Linux x64 with an NVIDIA GPU, CUDA 11.2 and cuDNN 8.1 (or use webgpu)`
      : `npm install ${pkg}`;
  // Resolving first tells "not installed" apart from "installed but broken"
  // (e.g. libtensorflow or CUDA missing) the same way under every loader.
  try {
    require.resolve(pkg);
  } catch (err) {
    throw new Unavailable(`${pkg} is not installed`, hint, { cause: err });
  }
  try {
    // A variable specifier keeps tsc from requiring the optional package.
    await import(pkg);
  } catch (err) {
    throw new Unavailable(`${pkg} failed to load: ${firstLine(err)}`, hint, { cause: err });
  }
  nativeLoaded = which;
}

async function activate(name: string): Promise<void> {
  let ok: boolean;
  try {
    ok = await tf.setBackend(name);
    await tf.ready();
  } catch (err) {
    throw new Unavailable(`the '${name}' backend failed to initialise: ${firstLine(err)}`, 'choose another backend, e.g. cpu', {
      cause: err,
    });
  }
  if (!ok || tf.getBackend() !== name) {
    throw new Unavailable(`the '${name}' backend failed to initialise`, 'choose another backend, e.g. cpu');
  }
}

/** The wasm binaries sit next to the package's main file, in its dist/ folder. */
function wasmDir(): string {
  return path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm')) + path.sep;
}

let wasmPathsSet = false;

async function tryBackend(name: Concrete, notes: string[], auto: boolean): Promise<{ name: Concrete; adapter?: GpuAdapter }> {
  switch (name) {
    case 'webgpu': {
      let adapter: GpuAdapter;
      try {
        adapter = pickAdapter(await listGpuAdapters(), process.env[GPU_ENV], auto);
        await prepareWebGpu(adapter);
      } catch (err) {
        if (err instanceof WebGpuUnavailable) throw new Unavailable(err.message, err.hint, { cause: err });
        throw err;
      }
      await activate('webgpu');
      if (adapter.software) notes.push(`webgpu: adapter ${adapter.index} (${adapter.name}) is a software rasteriser: correct but slow`);
      return { name, adapter };
    }
    case 'tensorflow-gpu': {
      await importNative('tensorflow-gpu');
      await activate('tensorflow');
      const backend = tf.backend() as { isUsingGpuDevice?: unknown };
      if (backend.isUsingGpuDevice === false) {
        throw new Unavailable(
          `${NATIVE_PACKAGE['tensorflow-gpu']} loaded but TensorFlow sees no GPU device`,
          'check the NVIDIA driver, CUDA and cuDNN versions, and CUDA_VISIBLE_DEVICES',
        );
      }
      return { name };
    }
    case 'tensorflow': {
      await importNative('tensorflow');
      await activate('tensorflow');
      if (nativeLoaded === 'tensorflow-gpu') {
        notes.push(`tensorflow: using ${NATIVE_PACKAGE['tensorflow-gpu']} on the CPU`);
      }
      return { name };
    }
    case 'wasm': {
      if (!wasmPathsSet) {
        try {
          setWasmPaths(wasmDir());
        } catch (err) {
          throw new Unavailable(`cannot locate the wasm binaries: ${firstLine(err)}`, 'reinstall @tensorflow/tfjs-backend-wasm', {
            cause: err,
          });
        }
        wasmPathsSet = true;
      }
      registerWasmTrainingKernels();
      await activate('wasm');
      return { name };
    }
    case 'cpu':
      await activate('cpu');
      return { name };
  }
}

function packageVersion(pkg: string): string | undefined {
  try {
    const json = require(`${pkg}/package.json`) as { version?: unknown };
    return typeof json.version === 'string' ? json.version : undefined;
  } catch {
    return undefined;
  }
}

function versionsFor(name: Concrete): Record<string, string> {
  const versions: Record<string, string> = { '@tensorflow/tfjs-core': tf.version_core };
  const pkg = BACKEND_PACKAGE[name];
  const v = packageVersion(pkg);
  if (v !== undefined) versions[pkg] = v;
  versions['node'] = process.versions.node;
  return versions;
}

const AUTO_ORDER: Concrete[] = ['tensorflow-gpu', 'webgpu', 'tensorflow', 'wasm', 'cpu'];

/**
 * Loads and activates a backend. `auto` takes the first of tensorflow-gpu, webgpu (on a
 * hardware adapter only), tensorflow, wasm, cpu that works and records why the others
 * were skipped; an explicit name that cannot be loaded throws BackendError.
 */
export async function selectBackend(requested: BackendName): Promise<BackendInfo> {
  const notes: string[] = [];
  const candidates = requested === 'auto' ? AUTO_ORDER : [requested];
  let lastError: Unavailable | undefined;
  for (const candidate of candidates) {
    try {
      const { name, adapter } = await tryBackend(candidate, notes, requested === 'auto');
      const info: BackendInfo = { requested, name, tfBackend: tf.getBackend(), notes, versions: versionsFor(name) };
      if (adapter) {
        info.adapter = adapter;
        const dawn = packageVersion('webgpu');
        if (dawn !== undefined) info.versions['webgpu'] = dawn;
      } else {
        // A GPU set up while trying webgpu and then not used must not keep the process alive.
        releaseWebGpu();
      }
      return info;
    } catch (err) {
      if (candidate === 'webgpu') releaseWebGpu();
      if (!(err instanceof Unavailable)) throw err;
      lastError = err;
      notes.push(`${candidate}: ${err.message} (${err.hint})`);
    }
  }
  const message =
    requested === 'auto'
      ? `no compute backend could be loaded:\n  ${notes.join('\n  ')}`
      : `backend '${requested}' is not available: ${lastError?.message ?? 'unknown reason'}`;
  throw new BackendError(message, { hint: lastError?.hint, cause: lastError });
}

/** Frees what the backend holds outside the JS heap (a GPU device); call when a process is done training. */
export function releaseBackend(): void {
  releaseWebGpu();
}
