/** The results table of a sweep: one row per run with its final metrics and time. */
import { stringify } from 'csv-stringify/sync';
import type { MetricsRow } from '../store/metrics-row.js';
import { markdownTable, type Align } from './table.js';

export interface RunSummaryInput {
  id: string;
  status: string;
  rows: MetricsRow[];
  /** Training wall time, summed over resumed segments. */
  trainingSeconds: number;
  /** The sweep values of this run, e.g. `{ model: 'lstm', hidden: 128 }`. */
  values: Record<string, unknown>;
  /** Why the run ended before its last epoch, when early stopping ended it. */
  stoppedEarly?: { epoch: number; reason: string };
}

export interface SummaryRow {
  run: string;
  status: string;
  /** Epochs with recorded metrics. */
  epochs: number;
  values: Record<string, unknown>;
  /** Metrics of the last recorded epoch; null when the run recorded none. */
  test_accuracy: number | null;
  test_loss: number | null;
  train_accuracy: number | null;
  train_loss: number | null;
  /**
   * The epoch with the highest validation accuracy and the test accuracy there; null
   * without a validation split (no epoch is selected on the test set).
   */
  best_epoch: number | null;
  best_test_accuracy: number | null;
  stoppedEarly?: { epoch: number; reason: string };
  /** `MM:SS`, or `H:MM:SS` past an hour; empty when unknown. */
  time: string;
  seconds: number | null;
}

const METRIC_FIELDS = [
  'test_accuracy',
  'test_loss',
  'train_accuracy',
  'train_loss',
  'best_epoch',
  'best_test_accuracy',
] as const;

const FIXED_BEFORE = ['run', 'status', 'epochs'] as const;
const FIXED_AFTER = [...METRIC_FIELDS, 'time', 'seconds'] as const;
const FIXED: ReadonlySet<string> = new Set([...FIXED_BEFORE, ...FIXED_AFTER]);

/** `08:46`, `1:02:03`; rounds to whole seconds first so 59.6 s reads `01:00`. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '';
  const total = Math.max(0, Math.round(seconds));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const two = (n: number) => String(n).padStart(2, '0');
  return h > 0 ? `${h}:${two(m)}:${two(s)}` : `${two(m)}:${two(s)}`;
}

function finiteOrNull(value: number | undefined): number | null {
  return value === undefined || Number.isNaN(value) ? null : value;
}

export function summaryTable(runs: RunSummaryInput[]): SummaryRow[] {
  return runs.map((run) => {
    const rows = [...run.rows].sort((x, y) => x.epoch - y.epoch);
    const last = rows.at(-1);
    let best: MetricsRow | undefined;
    for (const r of rows) if (r.val_accuracy !== undefined && Number.isFinite(r.val_accuracy) && (!best || r.val_accuracy > best.val_accuracy!)) best = r;
    // A run that never got going has no training time to report, only its status.
    const seconds =
      Number.isFinite(run.trainingSeconds) && !(rows.length === 0 && run.trainingSeconds === 0)
        ? run.trainingSeconds
        : null;
    return {
      run: run.id,
      status: run.status,
      epochs: rows.length,
      values: { ...run.values },
      test_accuracy: finiteOrNull(last?.test_accuracy),
      test_loss: finiteOrNull(last?.test_loss),
      train_accuracy: finiteOrNull(last?.train_accuracy),
      train_loss: finiteOrNull(last?.train_loss),
      best_epoch: best?.epoch ?? null,
      best_test_accuracy: finiteOrNull(best?.test_accuracy),
      ...(run.stoppedEarly ? { stoppedEarly: run.stoppedEarly } : {}),
      time: seconds === null ? '' : formatDuration(seconds),
      seconds,
    };
  });
}

/**
 * Sweep value keys in first-seen order. A key that would collide with a fixed column
 * (a sweep over `epochs`, say) is shown as `values.<key>` so both columns survive.
 */
export function valueColumns(rows: readonly SummaryRow[]): { key: string; header: string }[] {
  const seen = new Set<string>();
  const out: { key: string; header: string }[] = [];
  for (const row of rows) {
    for (const key of Object.keys(row.values)) {
      if (seen.has(key)) continue;
      seen.add(key);
      out.push({ key, header: FIXED.has(key) ? `values.${key}` : key });
    }
  }
  return out;
}

/** Sweep values as cell text: scalars as they are, structures as compact JSON. */
function valueText(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') {
    return String(value);
  }
  return JSON.stringify(value) ?? '';
}

export function summaryCsv(rows: SummaryRow[]): string {
  const values = valueColumns(rows);
  const header = [...FIXED_BEFORE, ...values.map((v) => v.header), ...FIXED_AFTER];
  const body = rows.map((r) => [
    r.run,
    r.status,
    r.epochs,
    ...values.map((v) => valueText(r.values[v.key])),
    // csv-stringify writes numbers with full precision and null as an empty field.
    ...METRIC_FIELDS.map((f) => r[f]),
    r.time,
    r.seconds,
  ]);
  return stringify([header, ...body]);
}

function fixed4(value: number | null): string {
  if (value === null) return '';
  return Number.isFinite(value) ? value.toFixed(4) : String(value);
}

/** Every row holding the extreme value wins, so ties are all bolded. */
function extreme(rows: readonly SummaryRow[], field: 'test_accuracy' | 'test_loss', pick: 'max' | 'min') {
  const values = rows.map((r) => r[field]).filter((v): v is number => v !== null && Number.isFinite(v));
  if (values.length === 0) return null;
  return pick === 'max' ? Math.max(...values) : Math.min(...values);
}

/**
 * A GitHub markdown table in the shape of the study's results table. The best final
 * test accuracy and the lowest final test loss are bold; runs without metrics keep
 * their row, with their status and blank metric cells.
 */
export function summaryMarkdown(rows: SummaryRow[], title: string): string {
  const values = valueColumns(rows);
  const bestAccuracy = extreme(rows, 'test_accuracy', 'max');
  const lowestLoss = extreme(rows, 'test_loss', 'min');
  const bold = (text: string, on: boolean) => (on && text !== '' ? `**${text}**` : text);
  const header = [
    'run',
    'status',
    'epochs',
    ...values.map((v) => v.header),
    'test accuracy',
    'test loss',
    'train accuracy',
    'train loss',
    'best epoch',
    'test accuracy at best',
    'time',
  ];
  const align: Align[] = [
    'left',
    'left',
    'right',
    ...values.map((v): Align => (rows.every((r) => isNumeric(r.values[v.key])) ? 'right' : 'left')),
    'right',
    'right',
    'right',
    'right',
    'right',
    'right',
    'right',
  ];
  const body = rows.map((r) => [
    r.run,
    r.status,
    String(r.epochs),
    ...values.map((v) => valueText(r.values[v.key])),
    bold(fixed4(r.test_accuracy), r.test_accuracy !== null && r.test_accuracy === bestAccuracy),
    bold(fixed4(r.test_loss), r.test_loss !== null && r.test_loss === lowestLoss),
    fixed4(r.train_accuracy),
    fixed4(r.train_loss),
    r.best_epoch === null ? '' : String(r.best_epoch),
    fixed4(r.best_test_accuracy),
    r.time,
  ]);
  const heading = title.trim() === '' ? '' : `## ${title.trim()}\n\n`;
  return `${heading}${markdownTable(header, body, align)}\n\n${selectionNote(rows)}`;
}

/** Says which epoch the numbers come from, and which runs early stopping ended. */
function selectionNote(rows: readonly SummaryRow[]): string {
  const selected = rows.some((r) => r.best_epoch !== null);
  const lines = [
    selected
      ? 'Test metrics are from each run\'s final epoch. *best epoch* is chosen on the validation split ' +
        '(highest val_accuracy; its checkpoint is checkpoints/best), and *test accuracy at best* is the test ' +
        'accuracy of that epoch.'
      : 'Test metrics are from each run\'s final epoch. No epoch is selected: without a validation split ' +
        '(dataset.validation) choosing one on the test set would make its score optimistic.',
  ];
  for (const r of rows) if (r.stoppedEarly) lines.push(`- ${r.run}: stopped after epoch ${r.stoppedEarly.epoch}; ${r.stoppedEarly.reason}.`);
  return `${lines.join('\n')}\n`;
}

function isNumeric(value: unknown): boolean {
  return value === undefined || value === null || typeof value === 'number';
}
