/**
 * `xrun diff <a> <b>`: what differs between two runs' configs, and how their metrics compare.
 * The config changes and the per-epoch metrics are two tables of the shared table model
 * (rows.ts); only `--format json` is a document of its own, nesting both.
 */
import { UsageError } from '../errors.js';
import { METRICS_COLUMNS, type MetricsRow } from '../store/metrics-row.js';
import { renderRows, type Cell, type Column, type Row, type Rows } from './rows.js';

/** One differing leaf; a side that lacks the path holds `undefined`. */
export interface ConfigChange {
  path: string;
  a: unknown;
  b: unknown;
}

type Plain = Record<string, unknown>;

function isPlainObject(value: unknown): value is Plain {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function sameLeaf(a: unknown, b: unknown): boolean {
  return a === b || (Number.isNaN(a) && Number.isNaN(b));
}

function join(path: string, key: string | number): string {
  return path === '' ? String(key) : `${path}.${key}`;
}

/**
 * Deep comparison of JSON-like values. Objects recurse by key (keys of `a` first, then
 * those only in `b`), arrays element by element, so a changed layer size reads
 * `model.layers.1.units` rather than the whole array. A key holding `undefined` counts
 * as absent, as it would after a JSON round trip.
 */
export function diffConfigs(a: unknown, b: unknown): ConfigChange[] {
  const out: ConfigChange[] = [];
  const walk = (x: unknown, y: unknown, path: string): void => {
    if (isPlainObject(x) && isPlainObject(y)) {
      const keys = [...Object.keys(x), ...Object.keys(y).filter((k) => !Object.hasOwn(x, k))];
      for (const k of keys) walk(x[k], y[k], join(path, k));
      return;
    }
    if (Array.isArray(x) && Array.isArray(y)) {
      for (let i = 0; i < Math.max(x.length, y.length); i++) walk(x[i], y[i], join(path, i));
      return;
    }
    // An object on one side and nothing on the other is reported leaf by leaf, so an
    // added section lists what it adds instead of one opaque blob.
    if (x === undefined && (isPlainObject(y) || Array.isArray(y))) {
      const empty = Array.isArray(y) ? [] : {};
      if (isEmpty(y)) out.push({ path, a: x, b: y });
      else walk(empty, y, path);
      return;
    }
    if (y === undefined && (isPlainObject(x) || Array.isArray(x))) {
      const empty = Array.isArray(x) ? [] : {};
      if (isEmpty(x)) out.push({ path, a: x, b: y });
      else walk(x, empty, path);
      return;
    }
    if (!sameLeaf(x, y)) out.push({ path, a: x, b: y });
  };
  walk(a, b, '');
  return out;
}

function isEmpty(value: Plain | unknown[]): boolean {
  return Array.isArray(value) ? value.length === 0 : Object.keys(value).length === 0;
}

export interface MetricDelta {
  epoch: number;
  metric: string;
  a: number | null;
  b: number | null;
  /** `b - a`; null unless both sides hold a finite number. */
  delta: number | null;
}

export const DEFAULT_DIFF_METRICS = [
  'train_loss',
  'train_accuracy',
  'test_loss',
  'test_accuracy',
  'epoch_seconds',
] as const;

/**
 * Per-epoch values of both runs and their difference, one entry per (epoch, metric),
 * ordered by epoch and then by the order of `metrics`. Epochs are the union of both
 * runs'; an epoch one run never reached has `null` on that side.
 */
export function diffMetrics(
  a: MetricsRow[],
  b: MetricsRow[],
  metrics: readonly string[] = DEFAULT_DIFF_METRICS,
): MetricDelta[] {
  const known: readonly string[] = [...METRICS_COLUMNS, 'val_loss', 'val_accuracy', 'lr'].filter((c) => c !== 'epoch');
  const unknown = metrics.filter((m) => !known.includes(m));
  if (unknown.length > 0) {
    throw new UsageError(`unknown metric ${unknown.map((m) => `"${m}"`).join(', ')}`, {
      hint: `metrics are: ${known.join(', ')}`,
    });
  }
  // A resumed run may record an epoch twice; the later record is the one that counts.
  const index = (rows: MetricsRow[]) => new Map(rows.map((r) => [r.epoch, r] as const));
  const ia = index(a);
  const ib = index(b);
  const epochs = [...new Set([...ia.keys(), ...ib.keys()])].sort((x, y) => x - y);
  const read = (row: MetricsRow | undefined, metric: string): number | null => {
    const v = row ? (row as unknown as Record<string, unknown>)[metric] : undefined;
    return typeof v === 'number' ? v : null;
  };
  const out: MetricDelta[] = [];
  for (const epoch of epochs) {
    for (const metric of metrics) {
      const va = read(ia.get(epoch), metric);
      const vb = read(ib.get(epoch), metric);
      const delta =
        va !== null && vb !== null && Number.isFinite(va) && Number.isFinite(vb)
          ? // Rounded to 15 significant digits so 0.98 - 0.97 reads 0.01, not 0.010000000000000009.
            Number((vb - va).toPrecision(15))
          : null;
      out.push({ epoch, metric, a: va, b: vb, delta });
    }
  }
  return out;
}

export type DiffFormat = 'table' | 'csv' | 'json' | 'md';

export const DIFF_FORMATS: readonly DiffFormat[] = ['table', 'csv', 'json', 'md'];

export interface RunDiff {
  a: { label: string };
  b: { label: string };
  config: ConfigChange[];
  metrics: MetricDelta[];
}

/** Metric names in the order they first appear, which is the order diffMetrics used. */
function metricNames(deltas: readonly MetricDelta[]): string[] {
  return [...new Set(deltas.map((d) => d.metric))];
}

interface WideRow {
  epoch: number;
  cells: Map<string, MetricDelta>;
}

function wide(deltas: readonly MetricDelta[]): WideRow[] {
  const rows = new Map<number, WideRow>();
  for (const d of deltas) {
    let row = rows.get(d.epoch);
    if (!row) rows.set(d.epoch, (row = { epoch: d.epoch, cells: new Map() }));
    row.cells.set(d.metric, d);
  }
  return [...rows.values()].sort((x, y) => x.epoch - y.epoch);
}

/** Seconds need less precision than losses and accuracies to be read. */
function digits(metric: string): number {
  return metric.endsWith('_seconds') ? 2 : 4;
}

function formatValue(value: Cell, metric: string): string {
  if (typeof value !== 'number') return '';
  return Number.isFinite(value) ? value.toFixed(digits(metric)) : String(value);
}

function formatDelta(value: Cell, metric: string): string {
  if (typeof value !== 'number') return '';
  const text = value.toFixed(digits(metric));
  // A delta that rounds to zero reads as no change, without a misleading sign.
  if (Number(text) === 0) return (0).toFixed(digits(metric));
  return value > 0 ? `+${text}` : text;
}

/** Config values as compact JSON, so `"1"` and `1` stay distinguishable. */
function configText(value: unknown): string {
  if (value === undefined) return '(missing)';
  return JSON.stringify(value) ?? String(value);
}

/** The config changes as rows: path, then each side as compact JSON. */
export function configRows(changes: readonly ConfigChange[]): Rows {
  return {
    columns: [{ key: 'path' }, { key: 'a' }, { key: 'b' }],
    rows: changes.map((c) => ({ path: c.path === '' ? '(root)' : c.path, a: configText(c.a), b: configText(c.b) })),
  };
}

/**
 * The metrics wide, one row per epoch: each metric's a, b and delta under the metric's
 * name (keys `test_loss.a` ...). Rows keep full precision; the text formats round.
 */
export function metricRows(deltas: readonly MetricDelta[]): Rows {
  const names = metricNames(deltas);
  return {
    columns: [
      { key: 'epoch', align: 'right' },
      ...names.flatMap((m): Column[] => [
        { key: `${m}.a`, header: 'a', group: m, align: 'right', format: (v) => formatValue(v, m) },
        { key: `${m}.b`, header: 'b', group: m, align: 'right', format: (v) => formatValue(v, m) },
        { key: `${m}.delta`, header: 'delta', group: m, align: 'right', format: (v) => formatDelta(v, m) },
      ]),
    ],
    rows: wide(deltas).map((r) => {
      const row: Row = { epoch: r.epoch };
      for (const m of names) {
        const c = r.cells.get(m);
        row[`${m}.a`] = c?.a ?? null;
        row[`${m}.b`] = c?.b ?? null;
        row[`${m}.delta`] = c?.delta ?? null;
      }
      return row;
    }),
  };
}

function configSummary(changes: readonly ConfigChange[]): string {
  if (changes.length === 0) return 'config: identical';
  return `config: ${changes.length} ${changes.length === 1 ? 'value differs' : 'values differ'}`;
}

function formatTable(d: RunDiff): string {
  const lines = [`a: ${d.a.label}`, `b: ${d.b.label}`, '', configSummary(d.config)];
  if (d.config.length > 0) lines.push(renderRows(configRows(d.config), 'table', { indent: '  ' }));
  lines.push('');
  const metrics = metricRows(d.metrics);
  if (metrics.rows.length === 0) {
    lines.push('metrics: no epochs recorded');
    return lines.join('\n') + '\n';
  }
  const n = metrics.rows.length;
  lines.push(`metrics: ${n} ${n === 1 ? 'epoch' : 'epochs'}, delta = b - a`);
  // The metric's name spans its a/b/delta columns on a line of its own: a terminal has
  // no room for `train_accuracy.delta` as every column's name.
  lines.push(renderRows(metrics, 'table', { indent: '  ' }));
  return lines.join('\n') + '\n';
}

function formatMarkdown(d: RunDiff): string {
  const out = [`**a**: ${d.a.label}  `, `**b**: ${d.b.label}`, '', `### ${configSummary(d.config)}`, ''];
  if (d.config.length > 0) out.push(renderRows(configRows(d.config), 'md'), '');
  const metrics = metricRows(d.metrics);
  out.push('### metrics (delta = b - a)', '');
  out.push(metrics.rows.length === 0 ? 'No epochs recorded.' : renderRows(metrics, 'md'));
  return out.join('\n') + '\n';
}

/**
 * CSV carries the per-epoch metrics only: one header and rectangular rows, so it loads
 * straight into a spreadsheet or dataframe. Values keep full precision; the config
 * changes are in the other formats.
 */
function formatCsv(d: RunDiff): string {
  return `${renderRows(metricRows(d.metrics), 'csv')}\n`;
}

/** JSON has no NaN/Infinity; they become null like a missing value. */
function jsonNumber(value: number | null): number | null {
  return value !== null && Number.isFinite(value) ? value : null;
}

function formatJson(d: RunDiff): string {
  const names = metricNames(d.metrics);
  const doc = {
    a: d.a,
    b: d.b,
    config: d.config.map((c) => ({
      path: c.path,
      change: c.a === undefined ? 'added' : c.b === undefined ? 'removed' : 'changed',
      // Absent keys (not null) mark the side that lacks the path, since null is a
      // legitimate config value.
      ...(c.a === undefined ? {} : { a: c.a }),
      ...(c.b === undefined ? {} : { b: c.b }),
    })),
    metrics: names,
    epochs: wide(d.metrics).map((r) => ({
      epoch: r.epoch,
      ...Object.fromEntries(
        names.map((m) => {
          const c = r.cells.get(m);
          return [m, { a: jsonNumber(c?.a ?? null), b: jsonNumber(c?.b ?? null), delta: jsonNumber(c?.delta ?? null) }];
        }),
      ),
    })),
  };
  return JSON.stringify(doc, null, 2) + '\n';
}

export function formatDiff(d: RunDiff, format: DiffFormat): string {
  switch (format) {
    case 'table':
      return formatTable(d);
    case 'md':
      return formatMarkdown(d);
    case 'csv':
      return formatCsv(d);
    case 'json':
      return formatJson(d);
    default: {
      const never: never = format;
      throw new UsageError(`unknown diff format "${String(never)}"`, { hint: `use one of ${DIFF_FORMATS.join(', ')}` });
    }
  }
}
