/**
 * Runs `work` over `items`, at most `limit` at a time, in order of the list. A lane that
 * throws stops the others from taking more items, and the pool settles only once every
 * lane has finished its item in hand: a lane left running after the caller moved on would
 * start work (a worker process) that nothing ever closes.
 */
export async function runPool<T>(
  items: T[],
  limit: number,
  work: (item: T, lane: number) => Promise<void>,
  stop: () => boolean,
): Promise<void> {
  let next = 0;
  let failed = false;
  const lane = async (_: unknown, index: number) => {
    try {
      while (next < items.length && !stop() && !failed) await work(items[next++]!, index);
    } catch (err) {
      failed = true;
      throw err;
    }
  };
  const lanes = await Promise.allSettled(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, lane));
  const rejected = lanes.find((l): l is PromiseRejectedResult => l.status === 'rejected');
  if (rejected) throw rejected.reason;
}
