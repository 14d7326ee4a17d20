/** Runs `work` over `items`, at most `limit` at a time, in order of the list. */
export async function runPool<T>(
  items: T[],
  limit: number,
  work: (item: T, lane: number) => Promise<void>,
  stop: () => boolean,
): Promise<void> {
  let next = 0;
  const lane = async (_: unknown, index: number) => {
    while (next < items.length && !stop()) await work(items[next++]!, index);
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, lane));
}
