/**
 * `xrun doctor`: which compute backends load here, which GPU adapters Dawn sees (hardware
 * or software), what `auto` would pick, and for each backend that does not work, why and
 * what to install. Each backend is loaded for real and runs a small computation.
 */
import * as tf from '@tensorflow/tfjs';
import { XrunError } from '../errors.js';
import { renderRows, ROWS_FORMATS, type Rows, type RowsFormat } from '../report/rows.js';
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

function adapterTable(adapters: GpuAdapter[]): Rows {
  return {
    columns: [
      { key: 'index', header: '#', align: 'right' },
      { key: 'kind' },
      { key: 'api' },
      { key: 'name' },
      { key: 'vendor' },
      { key: 'architecture' },
      { key: 'driver' },
      { key: 'selectable', format: (v) => (v ? '' : 'same name as an earlier one: cannot be chosen') },
    ],
    rows: adapters.map((a) => ({
      index: a.index,
      kind: a.software ? 'software' : 'hardware',
      api: a.api,
      name: a.name,
      vendor: a.vendor,
      architecture: a.architecture,
      driver: a.description,
      selectable: a.selectable,
    })),
  };
}

/**
 * @param noteFixes for the terminal: a fix is a sentence or three, too long for a column, so
 *   the status says `not available [n]` and the caller prints note n under the table.
 */
function backendTable(checks: BackendCheck[], noteFixes = false): Rows {
  const note = (c: BackendCheck) => (noteFixes && c.fix ? ` [${withFix(checks).indexOf(c) + 1}]` : '');
  const status = (c: BackendCheck) => (c.ok ? 'ok' : `not available${note(c)}`);
  return {
    columns: [
      { key: 'backend' },
      { key: 'status' },
      { key: 'detail', header: 'details' },
      ...(noteFixes ? [] : [{ key: 'fix', header: 'to fix' }]),
    ],
    rows: checks.map((c) => ({ backend: c.backend, status: status(c), detail: c.detail, fix: c.fix })),
  };
}

/** The checks that carry a fix, in order: note n is the n-th of them. */
const withFix = (checks: readonly BackendCheck[]) => checks.filter((c) => c.fix);

/** The fixes `backendTable(…, true)` points at, each wrapped to `width` columns under its number. */
function fixNotes(checks: BackendCheck[], width = 100): string[] {
  return withFix(checks).flatMap((c, i) => {
    const mark = `[${i + 1}] `;
    return wrap(`${c.backend}: ${c.fix}`, width - mark.length).map((line, j) => (j === 0 ? mark : ' '.repeat(mark.length)) + line);
  });
}

/** Greedy word wrap; a word longer than the width gets a line of its own. */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines;
}

function autoLines(report: DoctorReport): string[] {
  const pick = report.auto.backend ? `auto picks: ${report.auto.backend}` : `auto finds no backend: ${report.auto.error}`;
  return [pick, ...report.auto.notes.map((n) => `  skipped ${n}`)];
}

/** json: the whole report as one object; table, md and csv: the two tables (and, as text, what auto picks). */
export function formatDoctor(report: DoctorReport, format: RowsFormat): string {
  if (format === 'json') return JSON.stringify(report, null, 2);
  const adapterNote = report.adapterError
    ? `no GPU adapter list: ${report.adapterError.message}; to fix: ${report.adapterError.fix}`
    : report.adapters.length === 0
      ? 'no GPU adapter found (Dawn lists none)'
      : undefined;
  const backends =
    format === 'table'
      ? [renderRows(backendTable(report.backends, true), format), '', 'To fix:', ...fixNotes(report.backends)].join('\n')
      : renderRows(backendTable(report.backends), format);
  const adapters = adapterNote && format !== 'csv' ? adapterNote : renderRows(adapterTable(report.adapters), format);
  if (format === 'csv') return `${backends}\n\n${adapters}`;
  const indent = (text: string) => (format === 'table' ? text.replace(/^(?=.)/gm, '  ') : text);
  const bullet = format === 'md' ? '- ' : '';
  return [
    format === 'md' ? '## Backends (in the order auto tries them)\n' : 'Backends (in the order auto tries them):',
    indent(backends),
    '',
    ...autoLines(report).map((l) => (bullet ? bullet + l.trim() : l)),
    '',
    format === 'md' ? '## GPU adapters (Dawn; --gpus takes these indexes)\n' : 'GPU adapters (Dawn; --gpus takes these indexes):',
    indent(adapters),
  ].join('\n');
}

export async function doctorCommand(argv: string[]): Promise<number> {
  const { values } = parse(argv, { format: { type: 'string' } }, DOCTOR_HELP);
  if (values.help) {
    console.log(DOCTOR_HELP);
    return 0;
  }
  const format = oneOf(values.format, '--format', ROWS_FORMATS, 'table');
  tf.enableProdMode();
  const report = await runDoctor();
  console.log(formatDoctor(report, format));
  // Nothing to train on at all is the one state this command fails for.
  return report.backends.some((b) => b.ok) ? 0 : 1;
}
