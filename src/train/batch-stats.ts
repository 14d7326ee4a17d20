/**
 * Reading per-batch [loss, correct] pairs without stalling a GPU. Each pair stays on the
 * device; every `every` batches the pending pairs are stacked and read in one asynchronous
 * transfer, and that read is only awaited at the next reading point, so the GPU always has
 * the following batches queued while the values travel back. The values themselves are
 * the very float32 numbers a per-batch read would give, handed out in batch order, so the
 * caller's sums (and a wasm/cpu run's metrics) are unchanged.
 */
import * as tf from '@tensorflow/tfjs';
import { throwIfDeviceFailed } from './device-errors.js';

export interface BatchStat {
  /** 1-based batch number within the epoch. */
  batch: number;
  /** Examples in the batch. */
  size: number;
  /** Mean loss of the batch. */
  loss: number;
  /** Correct predictions in the batch. */
  hits: number;
}

interface Group {
  stats: Array<Omit<BatchStat, 'loss' | 'hits'>>;
  values: Promise<Float32Array | Int32Array | Uint8Array>;
}

/** One transfer for all pairs; the tensors are disposed once their values are back. */
export async function readPairs(pairs: tf.Tensor[]): Promise<Float32Array | Int32Array | Uint8Array> {
  if (pairs.length === 0) return new Float32Array(0);
  const stacked = pairs.length === 1 ? pairs[0]! : tf.stack(pairs);
  try {
    return await stacked.data();
  } finally {
    if (stacked !== pairs[0]) stacked.dispose();
    for (const p of pairs) p.dispose();
  }
}

export class BatchStatsReader {
  private pending: tf.Tensor[] = [];
  private pendingStats: Group['stats'] = [];
  private inFlight: Group | undefined;

  /** `every`: batches per read (1 on wasm/cpu, where a read costs nothing). */
  constructor(private readonly every: number) {}

  /** Queues batch `batch`'s [loss, correct] pair; the reader owns it from now on. */
  add(pair: tf.Tensor, batch: number, size: number): void {
    this.pending.push(pair);
    this.pendingStats.push({ batch, size });
  }

  /** True when enough pairs are pending for a read. */
  get due(): boolean {
    return this.pending.length >= this.every;
  }

  /** Starts reading the pending pairs and returns the values of the read started before, if any. */
  async rotate(): Promise<BatchStat[]> {
    const previous = this.inFlight;
    this.inFlight = this.start();
    return previous ? this.finish(previous) : [];
  }

  /** Every value not yet returned, in batch order; nothing is left in flight. */
  async drain(): Promise<BatchStat[]> {
    const previous = this.inFlight;
    const last = this.start();
    this.inFlight = undefined;
    const out = previous ? await this.finish(previous) : [];
    return last ? [...out, ...(await this.finish(last))] : out;
  }

  /** Abandons the values (a stopped or failed epoch); no tensor outlives this. */
  dispose(): void {
    for (const p of this.pending) p.dispose();
    this.pending = [];
    this.pendingStats = [];
    // Its tensors are freed when the read settles; the values are no longer wanted.
    this.inFlight?.values.catch(() => undefined);
    this.inFlight = undefined;
  }

  private start(): Group | undefined {
    if (this.pending.length === 0) return undefined;
    const group: Group = { stats: this.pendingStats, values: readPairs(this.pending) };
    // Seen by whoever awaits it; until then an early failure must not count as unhandled.
    group.values.catch(() => undefined);
    this.pending = [];
    this.pendingStats = [];
    return group;
  }

  private async finish(group: Group): Promise<BatchStat[]> {
    let values;
    try {
      values = await group.values;
      throwIfDeviceFailed();
    } catch (err) {
      // The epoch ends here: free what is still queued.
      this.dispose();
      throw err;
    }
    return group.stats.map((s, i) => ({ ...s, loss: values[2 * i]!, hits: values[2 * i + 1]! }));
  }
}
