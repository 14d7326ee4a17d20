/**
 * The one way runs are grouped and summarised, whatever makes the groups: `xrun compare`
 * and the report page group by chosen axes (axis-groups.ts), the summary and `status` by
 * configuration without its seed (seed-groups.ts). Both keep groups in the order of their
 * first run and give each metric the statistics of stats.ts.
 */
import { meanStd } from './stats.js';

export type Stat = ReturnType<typeof meanStd>;

/** Items grouped by `keyOf`, each group in item order, groups in order of their first item. */
export function groupBy<T>(items: Iterable<T>, keyOf: (item: T) => string): T[][] {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const key = keyOf(item);
    const group = groups.get(key);
    if (group) group.push(item);
    else groups.set(key, [item]);
  }
  return [...groups.values()];
}

/** Mean, sample standard deviation and count of each metric over the members. */
export function metricStats<T, M extends string>(
  members: readonly T[],
  metrics: readonly M[],
  valueOf: (member: T, metric: M) => number | null | undefined,
): Record<M, Stat> {
  return Object.fromEntries(metrics.map((m) => [m, meanStd(members.map((member) => valueOf(member, m)))])) as Record<M, Stat>;
}
