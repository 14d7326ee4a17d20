/**
 * Grouping runs by any sweep axis or config path, with mean ± std and n of their metrics
 * over the rest: `--by model` averages over seeds and every other axis, `--over seed`
 * groups by every axis except the seed (one group per configuration, n = seeds).
 */
import type { Scalar, StudyRun } from './study.js';
import { groupBy, metricStats, type Stat } from './grouping.js';

/** `models.*.hidden` -> `hidden`, unless two axes end the same; then the full key. */
export function axisLabels(axes: readonly string[]): Map<string, string> {
  const last = (a: string) => a.split('.').pop()!;
  const counts = new Map<string, number>();
  for (const a of axes) counts.set(last(a), (counts.get(last(a)) ?? 0) + 1);
  return new Map(axes.map((a) => [a, counts.get(last(a))! > 1 ? a : last(a)]));
}

/** Sweep axes of these runs, in first-seen order. */
export function sweepAxes(runs: readonly StudyRun[]): string[] {
  const seen = new Set<string>();
  for (const r of runs) for (const k of Object.keys(r.values)) seen.add(k);
  return [...seen];
}

function walk(node: unknown, path: string[]): unknown {
  let at = node;
  for (const seg of path) {
    if (at === null || typeof at !== 'object') return undefined;
    at = (at as Record<string, unknown>)[seg];
  }
  return at;
}

/**
 * A run's value at `path`: a sweep axis by its key or short label (`models.*.hidden`,
 * `hidden`), or a dotted path into its resolved config, where `*` (or `model.` as a
 * prefix) stands for the model the run trains. `experiment` is the experiment's name.
 */
export function valueAt(run: StudyRun, path: string): Scalar | undefined {
  if (path === 'experiment') return run.experiment;
  if (path === 'run') return run.id;
  if (Object.hasOwn(run.values, path)) return run.values[path];
  const byLabel = Object.keys(run.values).find((k) => k.split('.').pop() === path);
  if (byLabel !== undefined) return run.values[byLabel];
  const model = typeof run.config.model === 'string' ? run.config.model : undefined;
  let segments = path.split('.');
  if (segments[0] === 'model' && segments.length > 1 && model) segments = ['models', model, ...segments.slice(1)];
  segments = segments.map((s) => (s === '*' && model ? model : s));
  const found = walk(run.config, segments);
  if (found === undefined) return path === 'seed' ? run.seed : undefined;
  if (found === null || typeof found === 'string' || typeof found === 'number' || typeof found === 'boolean') return found;
  return JSON.stringify(found);
}

export const GROUP_METRICS = ['test_accuracy', 'test_loss', 'best_test_accuracy', 'seconds'] as const;
export type GroupMetric = (typeof GROUP_METRICS)[number];

export function metricOf(run: StudyRun, metric: GroupMetric): number | null {
  switch (metric) {
    case 'best_test_accuracy':
      return run.bestTestAccuracy;
    case 'seconds':
      return run.seconds;
    default:
      return run.final?.[metric] ?? null;
  }
}

export interface RunGroup {
  /** The grouping values, by path. */
  key: Record<string, Scalar>;
  runs: StudyRun[];
  stats: Record<GroupMetric, Stat>;
}

export function groupRuns(runs: readonly StudyRun[], by: readonly string[]): RunGroup[] {
  const keyOf = (run: StudyRun) => Object.fromEntries(by.map((p) => [p, valueAt(run, p) ?? null]));
  return groupBy(runs, (run) => JSON.stringify(Object.values(keyOf(run)))).map((members) => ({
    key: keyOf(members[0]!),
    runs: members,
    stats: metricStats(members, GROUP_METRICS, metricOf),
  }));
}

/** `--over seed`: every sweep axis of these runs except the named ones. */
export function groupingOver(runs: readonly StudyRun[], over: readonly string[]): string[] {
  const labels = axisLabels(sweepAxes(runs));
  const excluded = (axis: string) => over.includes(axis) || over.includes(labels.get(axis) ?? axis);
  const rest = sweepAxes(runs).filter((a) => !excluded(a));
  // Runs of several experiments differ by experiment too, unless that is averaged over.
  const experiments = new Set(runs.map((r) => r.experiment));
  return experiments.size > 1 && !over.includes('experiment') ? ['experiment', ...rest] : rest;
}
