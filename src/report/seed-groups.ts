/**
 * Runs grouped by configuration: runs whose configs differ only in the seed (repeats, or
 * a sweep over `seed`) are one configuration, summarised by the mean, standard deviation
 * and count of each metric over its completed runs.
 *
 * Grouping and statistics are those of `xrun compare` and the HTML report (grouping.ts):
 * sample standard deviation (n - 1); with a single completed run it is left empty rather
 * than shown as 0.
 */
import { parse as parseYaml } from 'yaml';
import { canonicalJson, identityOf, type RunConfig } from '../config/resolve.js';
import type { RunDir } from '../store/run-dir.js';
import { formatDuration, type SummaryRow } from './summary.js';
import { fitRows } from './fit.js';
import { renderRows, type Column, type Row, type Rows } from './rows.js';
import { groupBy, metricStats, type Stat } from './grouping.js';

/** Everything that changes a run's numbers except its seed. */
export function configKey(config: RunConfig): string {
  const { seed: _seed, ...rest } = identityOf(config) as Record<string, unknown>;
  return canonicalJson(rest);
}

/** A run folder's config.yaml, or undefined when it is missing or unreadable. */
export async function readRunConfig(store: RunDir): Promise<RunConfig | undefined> {
  const text = await store.readConfigText();
  try {
    return text === undefined ? undefined : (parseYaml(text) as RunConfig);
  } catch {
    return undefined;
  }
}

/** The run id without its seed part: `trial=3,hidden=64,seed=43` -> `trial=3,hidden=64`. */
export function groupLabel(id: string): string {
  return id.split(',').filter((part) => !/^seed=-?\d+$/.test(part)).join(',') || 'all';
}

export type { Stat };

const GROUP_METRICS = ['test_accuracy', 'test_loss', 'best_test_accuracy', 'train_accuracy', 'train_loss', 'seconds'] as const;
type GroupMetric = (typeof GROUP_METRICS)[number];

export interface GroupRow {
  config: string;
  /** Values shared by the group's runs (the run's values without the seed). */
  values: Record<string, unknown>;
  runs: string[];
  seeds: number[];
  /** Runs that completed; only they count in the statistics. */
  completed: number;
  stats: Record<GroupMetric, Stat>;
}

export interface GroupInput {
  row: SummaryRow;
  key: string;
  seed: number;
}

/** Groups in order of their first run; a run's values lose their `seed`. */
export function groupRows(inputs: readonly GroupInput[]): GroupRow[] {
  return groupBy(inputs, (input) => input.key).map((members) => {
    const first = members[0]!.row;
    const done = members.filter((m) => m.row.status === 'completed').map((m) => m.row);
    const { seed: _seed, ...values } = first.values;
    return {
      config: groupLabel(first.run),
      values,
      runs: members.map((m) => m.row.run),
      seeds: members.map((m) => m.seed),
      completed: done.length,
      stats: metricStats(done, GROUP_METRICS, (row, metric) => row[metric]),
    };
  });
}

/** True when some configuration was trained with more than one seed. */
export function hasRepeats(groups: readonly GroupRow[]): boolean {
  return groups.some((g) => g.runs.length > 1);
}

function valueKeys(groups: readonly GroupRow[]): string[] {
  return [...new Set(groups.flatMap((g) => Object.keys(g.values)))];
}

function text(value: unknown): string {
  if (value === undefined || value === null) return '';
  return typeof value === 'string' ? value : typeof value === 'object' ? JSON.stringify(value) : String(value);
}

/** `0.9123 ± 0.0041`; the ± part only when there is a spread to show. */
export function formatMeanStd(s: Stat, digits = 4): string {
  if (s.mean === null) return '';
  return s.std === null ? s.mean.toFixed(digits) : `${s.mean.toFixed(digits)} ± ${s.std.toFixed(digits)}`;
}

const SHOWN: { metric: GroupMetric; header: string }[] = [
  { metric: 'test_accuracy', header: 'test accuracy' },
  { metric: 'test_loss', header: 'test loss' },
  { metric: 'best_test_accuracy', header: 'best test accuracy' },
];

/**
 * The per-configuration table as one table model: csv and json get every metric's mean
 * and std as numbers; table and md show `mean ± std` for the main metrics and the mean time.
 */
export function groupsTable(groups: readonly GroupRow[], shape: 'full' | 'shown'): Rows {
  const keys = valueKeys(groups);
  // A value named like a fixed column (a sweep over `runs`, say) keeps both as `values.<key>`.
  const fixed = new Set(['config', 'runs', 'completed', 'seeds', ...GROUP_METRICS.flatMap((m) => [`${m}_mean`, `${m}_std`])]);
  const column = (k: string) => (fixed.has(k) ? `values.${k}` : k);
  const rows: Row[] = groups.map((g) => {
    const row: Row = { config: g.config, runs: g.runs.length, completed: g.completed, seeds: g.seeds.join(' ') };
    keys.forEach((k) => (row[column(k)] = text(g.values[k])));
    for (const m of GROUP_METRICS) {
      row[`${m}_mean`] = g.stats[m].mean;
      row[`${m}_std`] = g.stats[m].std;
    }
    return row;
  });
  const values: Column[] = keys.map((k) => ({ key: column(k), align: 'left' }));
  if (shape === 'full') {
    return {
      columns: [
        { key: 'config' },
        ...values,
        { key: 'runs' },
        { key: 'completed' },
        { key: 'seeds' },
        ...GROUP_METRICS.flatMap((m): Column[] => [{ key: `${m}_mean` }, { key: `${m}_std` }]),
      ],
      rows,
    };
  }
  return {
    columns: [
      { key: 'config' },
      ...values,
      { key: 'completed', header: 'seeds done', align: 'right', format: (_, r) => `${r.completed}/${r.runs}` },
      ...SHOWN.map(({ metric, header }): Column => ({
        key: `${metric}_mean`,
        header,
        align: 'right',
        format: (v, r) => {
          const std = r[`${metric}_std`];
          return formatMeanStd({ mean: typeof v === 'number' ? v : null, std: typeof std === 'number' ? std : null, n: 0 });
        },
      })),
      {
        key: 'seconds_mean',
        header: 'mean time',
        align: 'right',
        format: (v) => (typeof v === 'number' ? formatDuration(v) : ''),
      },
    ],
    rows,
  };
}

/** One row per configuration: values, counts, then mean and std of every metric. */
export function groupsCsv(groups: readonly GroupRow[]): string {
  return `${renderRows(groupsTable(groups, 'full'), 'csv')}\n`;
}

/** Markdown: one row per configuration, metrics as mean ± std over its completed seeds. */
export function groupsMarkdown(groups: readonly GroupRow[]): string {
  return renderRows(groupsTable(groups, 'shown'), 'md');
}

/** The same table as plain aligned text, for the terminal. */
export function groupsText(groups: readonly GroupRow[]): string {
  return renderRows(groupsTable(groups, 'shown'), 'table');
}

/** For the end of `xrun run`: fitted to `width` columns, the values (named by `config`) dropped first. */
export function groupsTerminalTable(groups: readonly GroupRow[], width: number): string {
  const table = groupsTable(groups, 'shown');
  const values = table.columns.filter((c) => c.align === 'left' && c.key !== 'config').map((c) => c.key);
  return fitRows(table, width, [...values, 'best_test_accuracy_mean', 'completed']).text;
}
