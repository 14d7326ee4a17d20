/**
 * Runs grouped by configuration: runs whose configs differ only in the seed (repeats, or
 * a sweep over `seed`) are one configuration, summarised by the mean, standard deviation
 * and count of each metric over its completed runs.
 *
 * The standard deviation is the sample one (n - 1), the usual spread of a result over
 * seeds; with a single completed run it is left empty rather than shown as 0.
 */
import { stringify } from 'csv-stringify/sync';
import { parse as parseYaml } from 'yaml';
import { canonicalJson, identityOf, type RunConfig } from '../config/resolve.js';
import type { RunDir } from '../store/run-dir.js';
import { formatDuration, type SummaryRow } from './summary.js';
import { markdownTable, textTable, type Align } from './table.js';

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

export interface Stat {
  mean: number | null;
  std: number | null;
  n: number;
}

export function stat(values: readonly number[]): Stat {
  const xs = values.filter((v) => Number.isFinite(v));
  const n = xs.length;
  if (n === 0) return { mean: null, std: null, n: 0 };
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  if (n === 1) return { mean, std: null, n };
  const variance = xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1);
  return { mean, std: Math.sqrt(variance), n };
}

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
  const groups = new Map<string, { first: SummaryRow; members: GroupInput[] }>();
  for (const input of inputs) {
    const g = groups.get(input.key);
    if (g) g.members.push(input);
    else groups.set(input.key, { first: input.row, members: [input] });
  }
  return [...groups.values()].map(({ first, members }) => {
    const done = members.filter((m) => m.row.status === 'completed').map((m) => m.row);
    const { seed: _seed, ...values } = first.values;
    return {
      config: groupLabel(first.run),
      values,
      runs: members.map((m) => m.row.run),
      seeds: members.map((m) => m.seed),
      completed: done.length,
      stats: Object.fromEntries(
        GROUP_METRICS.map((f) => [f, stat(done.map((r) => r[f]).filter((v): v is number => v !== null))]),
      ) as Record<GroupMetric, Stat>,
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

/** One row per configuration: values, counts, then mean and std of every metric. */
export function groupsCsv(groups: readonly GroupRow[]): string {
  const keys = valueKeys(groups);
  const header = [
    'config',
    ...keys,
    'runs',
    'completed',
    'seeds',
    ...GROUP_METRICS.flatMap((m) => [`${m}_mean`, `${m}_std`]),
  ];
  const body = groups.map((g) => [
    g.config,
    ...keys.map((k) => text(g.values[k])),
    g.runs.length,
    g.completed,
    g.seeds.join(' '),
    ...GROUP_METRICS.flatMap((m) => [g.stats[m].mean, g.stats[m].std]),
  ]);
  return stringify([header, ...body]);
}

/** `0.9123 ± 0.0041`; the ± part only when there is a spread to show. */
export function meanStd(s: Stat, digits = 4): string {
  if (s.mean === null) return '';
  return s.std === null ? s.mean.toFixed(digits) : `${s.mean.toFixed(digits)} ± ${s.std.toFixed(digits)}`;
}

function groupCells(groups: readonly GroupRow[], keys: string[]): string[][] {
  return groups.map((g) => [
    g.config,
    ...keys.map((k) => text(g.values[k])),
    `${g.completed}/${g.runs.length}`,
    meanStd(g.stats.test_accuracy),
    meanStd(g.stats.test_loss),
    meanStd(g.stats.best_test_accuracy),
    g.stats.seconds.mean === null ? '' : formatDuration(g.stats.seconds.mean),
  ]);
}

const HEADER_AFTER = ['seeds done', 'test accuracy', 'test loss', 'best test accuracy', 'mean time'];

/** Markdown: one row per configuration, metrics as mean ± std over its completed seeds. */
export function groupsMarkdown(groups: readonly GroupRow[]): string {
  const keys = valueKeys(groups);
  const align: Align[] = ['left', ...keys.map((): Align => 'left'), 'right', 'right', 'right', 'right', 'right'];
  return markdownTable(['config', ...keys, ...HEADER_AFTER], groupCells(groups, keys), align);
}

/** The same table as plain aligned text, for the terminal. */
export function groupsText(groups: readonly GroupRow[]): string {
  const keys = valueKeys(groups);
  const align: Align[] = ['left', ...keys.map((): Align => 'left'), 'right', 'right', 'right', 'right', 'right'];
  return textTable([['config', ...keys, ...HEADER_AFTER]], groupCells(groups, keys), { align });
}
