/**
 * `xrun doctor`: which compute backends load here, which GPU adapters Dawn sees (hardware
 * or software), what `auto` would pick, and for each backend that does not work, why and
 * what to install. Each backend is loaded for real and runs a small computation.
 */
import * as tf from '@tensorflow/tfjs';
import { XrunError } from '../errors.js';
import { markdownTable, textTable } from '../report/table.js';
import { selectBackend, type BackendName } from '../train/backend.js';
import { listGpuAdapters, WebGpuUnavailable, type GpuAdapter } from '../train/gpu-adapters.js';
import { oneOf, parse } from './args.js';
import { DOCTOR_HELP } from './help.js';

type Concrete = Exclude<BackendName, 'auto'>;

/** The order `auto` tries them in. */
const BACKENDS: Concrete[] = ['tensorflow-gpu', 'webgpu', 'tensorflow', 'wasm', 'cpu'];

export interface BackendCheck {
  backend: Concrete;
  ok: boolean;
  /** What loaded (package versions, the adapter) or why it did not. */
  detail: string;
  /** What to install or do, for one that does not work. */
  fix?: string;
}

export interface DoctorReport {
  backends: BackendCheck[];
  adapters: GpuAdapter[];
  /** Why no adapter list could be made, if so. */
  adapterError?: { message: string; fix: string };
  auto: { backend?: string; notes: string[]; error?: string };
}

/** tfjs-node-gpu's own install is what fails; say so plainly. */
const NODE_GPU_BLOCKER =
  'its install downloads libtensorflow 2.9.1 from storage.googleapis.com, which has answered 403 since 2026-08 (tensorflow/tfjs#8742), ' +
  'and current drivers and GPUs (Hopper) do not ship CUDA 11.2 / cuDNN 8.1; webgpu needs neither';

async function smoke(): Promise<void> {
  const product = tf.tidy(() => tf.matMul(tf.ones([8, 8]), tf.ones([8, 8])).sum());
  const [value] = await product.data();
  product.dispose();
  if (value !== 512) throw new Error(`a test computation gave ${value} instead of 512`);
}

async function checkBackend(backend: Concrete): Promise<BackendCheck> {
  try {
    const info = await selectBackend(backend);
    await smoke();
    const versions = Object.entries(info.versions)
      .filter(([pkg]) => pkg !== 'node' && pkg !== '@tensorflow/tfjs-core')
      .map(([pkg, v]) => `${pkg} ${v}`);
    const adapter = info.adapter
      ? [`adapter ${info.adapter.index}: ${info.adapter.name} (${info.adapter.software ? 'software: auto skips it' : 'hardware'})`]
      : [];
    return { backend, ok: true, detail: [...versions, ...adapter].join('; ') || 'built in' };
  } catch (err) {
    const e = err instanceof Error ? err : new Error(String(err));
    let fix = err instanceof XrunError ? err.hint : undefined;
    if (backend === 'tensorflow-gpu') fix = `${fix ?? ''}; ${NODE_GPU_BLOCKER}`.replace(/^; /, '');
    return { backend, ok: false, detail: e.message.replace(/^backend '[^']+' is not available: /, ''), ...(fix ? { fix } : {}) };
  }
}

export async function runDoctor(): Promise<DoctorReport> {
  const report: DoctorReport = { backends: [], adapters: [], auto: { notes: [] } };
  try {
    report.adapters = await listGpuAdapters();
  } catch (err) {
    if (!(err instanceof WebGpuUnavailable)) throw err;
    report.adapterError = { message: err.message, fix: err.hint };
  }
  for (const backend of BACKENDS) report.backends.push(await checkBackend(backend));
  try {
    const auto = await selectBackend('auto');
    report.auto = { backend: auto.name, notes: auto.notes };
  } catch (err) {
    report.auto = { notes: [], error: (err as Error).message };
  }
  return report;
}

function adapterRows(adapters: GpuAdapter[]): string[][] {
  return adapters.map((a) => [
    String(a.index),
    a.software ? 'software' : 'hardware',
    a.api,
    a.name + (a.selectable ? '' : ' (same name as an earlier one: not selectable)'),
    a.vendor,
    a.architecture,
    a.description,
  ]);
}

const ADAPTER_HEADER = ['#', 'kind', 'api', 'name', 'vendor', 'architecture', 'driver'];
const BACKEND_HEADER = ['backend', 'status', 'details', 'to fix'];

function backendRows(checks: BackendCheck[]): string[][] {
  return checks.map((c) => [c.backend, c.ok ? 'ok' : 'not available', c.detail, c.fix ?? '']);
}

function autoLines(report: DoctorReport): string[] {
  const pick = report.auto.backend ? `auto picks: ${report.auto.backend}` : `auto finds no backend: ${report.auto.error}`;
  return [pick, ...report.auto.notes.map((n) => `  skipped ${n}`)];
}

export function formatDoctor(report: DoctorReport, format: 'table' | 'md' | 'json'): string {
  if (format === 'json') return JSON.stringify(report, null, 2);
  const adapterNote = report.adapterError
    ? `no GPU adapter list: ${report.adapterError.message}\n  to fix: ${report.adapterError.fix}`
    : report.adapters.length === 0
      ? 'no GPU adapter found (Dawn lists none)'
      : undefined;
  if (format === 'md') {
    return [
      '## Backends (in the order auto tries them)',
      '',
      markdownTable(BACKEND_HEADER, backendRows(report.backends)),
      '',
      ...autoLines(report).map((l) => `- ${l.trim()}`),
      '',
      '## GPU adapters (Dawn)',
      '',
      adapterNote ?? markdownTable(ADAPTER_HEADER, adapterRows(report.adapters), ['right']),
    ].join('\n');
  }
  return [
    'Backends (in the order auto tries them):',
    textTable([BACKEND_HEADER], backendRows(report.backends), { indent: '  ' }),
    '',
    ...autoLines(report),
    '',
    'GPU adapters (Dawn; --gpus takes these indexes):',
    adapterNote ? `  ${adapterNote}` : textTable([ADAPTER_HEADER], adapterRows(report.adapters), { indent: '  ', align: ['right'] }),
  ].join('\n');
}

export async function doctorCommand(argv: string[]): Promise<number> {
  const { values } = parse(argv, { format: { type: 'string' } }, DOCTOR_HELP);
  if (values.help) {
    console.log(DOCTOR_HELP);
    return 0;
  }
  const format = oneOf(values.format, '--format', ['table', 'md', 'json'] as const, 'table');
  tf.enableProdMode();
  const report = await runDoctor();
  console.log(formatDoctor(report, format));
  // Nothing to train on at all is the one state this command fails for.
  return report.backends.some((b) => b.ok) ? 0 : 1;
}
