/**
 * The GPU adapters Dawn (the `webgpu` package: Dawn's Node binding, prebuilt for Linux,
 * macOS and Windows, so it installs from the npm registry alone) can use here, and which
 * of them are hardware GPUs. No tfjs here: the parent process checks adapters with this
 * before any run starts, and `xrun doctor` lists them.
 *
 * Dawn's binding selects an adapter only by (a substring of) its name, and lists the
 * adapters only in the message of a failed request; both are used here. An adapter's
 * index is its place in that list, the same list `xrun doctor` prints.
 */
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface GpuAdapter {
  /** Place in Dawn's list of adapters: what --gpus and runtime.gpus name. */
  index: number;
  /** The graphics API Dawn drives it through: vulkan, metal, d3d12, ... */
  api: string;
  /** The name Dawn lists, e.g. "NVIDIA H100 80GB HBM3" or "llvmpipe (LLVM 15.0.6, 256 bits)". */
  name: string;
  vendor: string;
  architecture: string;
  device: string;
  /** The driver's description, e.g. "llvmpipe: Mesa 25.0.7 (LLVM 15.0.6)". */
  description: string;
  /** A CPU rasteriser (lavapipe, SwiftShader, WARP): correct but slow; `auto` never trains on one. */
  software: boolean;
  /**
   * False when an earlier adapter's name contains this one's (two identical cards):
   * Dawn picks by name, so this one cannot be chosen on its own.
   */
  selectable: boolean;
  /** Bytes: the largest buffer, and the largest one a shader may bind (a whole dataset split must fit). */
  limits: { maxBufferSize: number; maxStorageBufferBindingSize: number };
}

/** Why WebGPU cannot be used here, and what would fix it. */
export class WebGpuUnavailable extends Error {
  constructor(
    message: string,
    readonly hint: string,
    options: { cause?: unknown } = {},
  ) {
    super(message, options);
  }
}

// The parts of the WebGPU API used here (the DOM typings are not part of this build).
interface AdapterInfoLike {
  vendor?: string;
  architecture?: string;
  device?: string;
  description?: string;
  isFallbackAdapter?: boolean;
}
export interface DeviceLike {
  destroy(): void;
  lost: Promise<{ reason?: string; message?: string }>;
  onuncapturederror: ((event: { error?: { message?: string } }) => void) | null;
}
export interface AdapterLike {
  info: AdapterInfoLike;
  features: Set<string>;
  limits: Record<string, number>;
  requestDevice(descriptor: unknown): Promise<DeviceLike>;
}
export interface GpuLike {
  requestAdapter(options?: unknown): Promise<AdapterLike | null>;
}
export interface DawnModule {
  create(flags: string[]): GpuLike;
  globals: object;
}

/** Matches the preference tfjs itself asks for, so index 0 is the adapter tfjs would pick. */
export const ADAPTER_OPTIONS = { powerPreference: 'high-performance' };
/** A name no device has: the request fails and Dawn's message lists every adapter. */
const LIST_FLAG = 'adapter=<xrun: list every adapter>';
export const INSTALL_HINT =
  'install the GPU\'s Vulkan driver and loader (Debian/Ubuntu: libvulkan1 and the vendor driver; NVIDIA ships its Vulkan ICD with the driver), ' +
  'or for a software adapter Mesa >= 24 lavapipe (Debian 12: apt-get install -t bookworm-backports mesa-vulkan-drivers); then run xrun doctor';

let dawnModule: DawnModule | undefined;

function firstLine(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.split('\n')[0] ?? text;
}

export async function loadDawn(): Promise<DawnModule> {
  if (dawnModule) return dawnModule;
  // Mesa's Vulkan drivers expect a per-user runtime folder; sessions without a login
  // (cron, containers, CI) have none, so a private one is made for them.
  if (!process.env.XDG_RUNTIME_DIR) {
    const dir = join(tmpdir(), `xrun-runtime-${process.getuid?.() ?? 'user'}`);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    process.env.XDG_RUNTIME_DIR = dir;
  }
  try {
    dawnModule = (await import('webgpu')) as unknown as DawnModule;
  } catch (err) {
    throw new WebGpuUnavailable(
      `the webgpu package (Dawn) failed to load: ${firstLine(err)}`,
      'reinstall xrun\'s dependencies (npm ci); Dawn ships prebuilt for linux-x64/arm64, darwin and win32',
      { cause: err },
    );
  }
  // GPUBufferUsage, GPUMapMode, ...: constants tfjs's webgpu backend reads from globalThis.
  for (const [key, value] of Object.entries(dawnModule.globals)) {
    if (!(key in globalThis)) (globalThis as Record<string, unknown>)[key] = value;
  }
  return dawnModule;
}

/** `[api, name]` of each adapter, in Dawn's order, from the message of a request that matches none. */
async function listedAdapters(dawn: DawnModule): Promise<Array<{ api: string; name: string }>> {
  const gpu = dawn.create([LIST_FLAG]);
  let message: string;
  try {
    const adapter = await gpu.requestAdapter(ADAPTER_OPTIONS);
    // null: Dawn found no adapter at all (no Vulkan loader, or no driver it accepts).
    if (adapter === null) return [];
    throw new Error('Dawn returned an adapter for a name that no device has');
  } catch (err) {
    message = err instanceof Error ? err.message : String(err);
  }
  const found: Array<{ api: string; name: string }> = [];
  for (const line of message.split('\n')) {
    const m = /^\s*\* backend: '([^']*)', name: '(.*)'\s*$/.exec(line);
    if (m) found.push({ api: m[1]!, name: m[2]! });
  }
  if (found.length === 0 && !/Available adapters/.test(message)) {
    throw new WebGpuUnavailable(`Dawn could not list the GPU adapters: ${firstLine(message)}`, INSTALL_HINT);
  }
  return found;
}

const SOFTWARE_NAMES = /llvmpipe|lavapipe|softpipe|swiftshader|microsoft basic render|\bwarp\b/i;

export function isSoftwareAdapter(info: AdapterInfoLike, name = ''): boolean {
  return (
    info.isFallbackAdapter === true ||
    info.architecture === 'software' ||
    SOFTWARE_NAMES.test([name, info.device ?? '', info.description ?? ''].join(' '))
  );
}

async function requestNamed(dawn: DawnModule, name: string): Promise<{ gpu: GpuLike; adapter: AdapterLike }> {
  const gpu = dawn.create([`adapter=${name}`]);
  const adapter = await gpu.requestAdapter(ADAPTER_OPTIONS);
  if (!adapter) throw new WebGpuUnavailable(`Dawn did not return the adapter '${name}'`, INSTALL_HINT);
  return { gpu, adapter };
}

function adapterFrom(index: number, listed: { api: string; name: string }, all: Array<{ name: string }>, adapter: AdapterLike): GpuAdapter {
  const info = adapter.info;
  return {
    index,
    api: listed.api,
    name: listed.name,
    vendor: info.vendor ?? '',
    architecture: info.architecture ?? '',
    device: info.device ?? '',
    description: info.description ?? '',
    software: isSoftwareAdapter(info, listed.name),
    selectable: all.findIndex((a) => a.name.includes(listed.name)) === index,
    limits: {
      maxBufferSize: adapter.limits.maxBufferSize ?? 0,
      maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize ?? 0,
    },
  };
}

/** Every adapter Dawn can use here, hardware and software, in Dawn's order. */
export async function listGpuAdapters(): Promise<GpuAdapter[]> {
  const dawn = await loadDawn();
  const listed = await listedAdapters(dawn);
  const out: GpuAdapter[] = [];
  for (const [index, entry] of listed.entries()) {
    const { adapter } = await requestNamed(dawn, entry.name);
    out.push(adapterFrom(index, entry, listed, adapter));
  }
  return out;
}

/**
 * The adapter a process should use: `XRUN_GPU` (set per worker by --gpus) or, without
 * it, the first adapter (`hardwareOnly`: the first hardware one).
 */
export function pickAdapter(adapters: GpuAdapter[], requested: string | undefined, hardwareOnly: boolean): GpuAdapter {
  if (adapters.length === 0) throw new WebGpuUnavailable('no GPU adapter found (Dawn lists none)', INSTALL_HINT);
  if (requested !== undefined && requested !== '') {
    const index = Number(requested);
    if (!Number.isInteger(index) || index < 0) {
      throw new WebGpuUnavailable(`GPU '${requested}' is not an adapter index`, 'give --gpus the indexes that xrun doctor lists, e.g. --gpus 0,1');
    }
    const adapter = adapters[index];
    if (!adapter) {
      throw new WebGpuUnavailable(
        `GPU adapter ${index} does not exist: Dawn lists ${adapters.length} (${adapters.map((a) => `${a.index}: ${a.name}`).join(', ')})`,
        'give --gpus the indexes that xrun doctor lists',
      );
    }
    if (hardwareOnly && adapter.software) throw softwareOnly([adapter]);
    return adapter;
  }
  const usable = hardwareOnly ? adapters.filter((a) => !a.software) : adapters;
  if (usable.length === 0) throw softwareOnly(adapters);
  return usable[0]!;
}

function softwareOnly(adapters: GpuAdapter[]): WebGpuUnavailable {
  const names = adapters.map((a) => `${a.name} (${a.vendor || a.api}, software)`).join(', ');
  return new WebGpuUnavailable(
    `only a software adapter was found: ${names}; auto never trains on one (it is slower than wasm)`,
    '--backend webgpu uses it anyway (for testing); for a real GPU install its Vulkan driver and run xrun doctor',
  );
}

