/**
 * `xrun compare`: one table across experiments and runs, as Rows (table/csv/json/md).
 * Without grouping, one row per run with its sweep values; grouped, one row per group
 * with mean ± std and n of each metric over the runs in it.
 */
import { formatDuration } from './summary.js';
import { GROUP_METRICS, axisLabels, groupRuns, sweepAxes, type GroupMetric } from './axis-groups.js';
import type { Cell, Column, Row, Rows } from './rows.js';
import type { StudyRun } from './study.js';

const four = (v: Cell) => (typeof v === 'number' && Number.isFinite(v) ? v.toFixed(4) : v === null || v === undefined ? '' : String(v));
const time = (v: Cell) => (typeof v === 'number' ? formatDuration(v) : '');

export function compareRuns(runs: readonly StudyRun[]): Rows {
  const axes = sweepAxes(runs);
  const labels = axisLabels(axes);
  const several = new Set(runs.map((r) => r.experiment)).size > 1;
  const columns: Column[] = [
    ...(several ? [{ key: 'experiment' }] : []),
    { key: 'run' },
    ...axes.map((a): Column => ({ key: a, header: labels.get(a) ?? a })),
    { key: 'status' },
    { key: 'epochs', align: 'right' },
    { key: 'test_accuracy', header: 'test acc', format: four },
    { key: 'test_loss', header: 'test loss', format: four },
    { key: 'best_test_accuracy', header: 'best-val acc', format: four },
    { key: 'seconds', header: 'time', format: time, align: 'right' },
    { key: 'backend' },
  ];
  const rows: Row[] = runs.map((r) => ({
    experiment: r.experiment,
    run: r.id,
    ...Object.fromEntries(axes.map((a) => [a, r.values[a] ?? null])),
    status: r.status,
    epochs: r.epochs === null ? String(r.epochsCompleted) : `${r.epochsCompleted}/${r.epochs}`,
    test_accuracy: r.final?.test_accuracy ?? null,
    test_loss: r.final?.test_loss ?? null,
    best_test_accuracy: r.bestTestAccuracy,
    seconds: r.seconds,
    backend: r.backend,
  }));
  return { columns, rows };
}

const HEADERS: Record<GroupMetric, string> = {
  test_accuracy: 'test acc',
  test_loss: 'test loss',
  best_test_accuracy: 'best-val acc',
  seconds: 'time',
};

export function compareGroups(runs: readonly StudyRun[], by: readonly string[]): Rows {
  const groups = groupRuns(runs, by);
  const labels = axisLabels(by);
  const columns: Column[] = [
    ...by.map((p): Column => ({ key: p, header: labels.get(p) ?? p })),
    { key: 'n', align: 'right' },
    ...GROUP_METRICS.flatMap((m): Column[] => {
      const show = m === 'seconds' ? time : four;
      return [
        {
          key: `${m}_mean`,
          // Cells read `mean ± std`; a short header keeps the table within 80 columns.
          header: m === 'seconds' ? 'mean time' : HEADERS[m],
          align: 'right',
          format: (v, row) => {
            if (v === null || v === undefined) return '';
            const std = row[`${m}_std`];
            return m === 'seconds' || typeof std !== 'number' ? show(v) : `${show(v)} ± ${show(std)}`;
          },
        },
        { key: `${m}_std`, formats: ['csv', 'json'] },
      ];
    }),
  ];
  const rows: Row[] = groups.map((g) => ({
    ...g.key,
    n: g.runs.length,
    ...Object.fromEntries(GROUP_METRICS.flatMap((m) => [[`${m}_mean`, g.stats[m].mean], [`${m}_std`, g.stats[m].std]])),
  }));
  return { columns, rows };
}
