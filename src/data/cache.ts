/**
 * Loaded datasets kept between runs of a long-lived worker, so a grid of short runs
 * decodes and normalises its data once instead of once per run.
 *
 * The key is everything `loadDataset` reads: the dataset config, and the seed only when a
 * subset is drawn (the whole split does not depend on it), so runs that differ only in
 * their seed share one copy of the full data. Tensors are identical to a fresh load, so a
 * cached run computes exactly what a run in a fresh process would.
 */
import { loadDataset, type DatasetConfig, type LoadedDataset } from './datasets.js';

export interface DatasetSource {
  /** The dataset for a run; its `dispose()` is the cache's business, calling it is harmless. */
  load(cfg: DatasetConfig, opts: { seed: number; baseDir: string }): Promise<LoadedDataset>;
}

interface Entry {
  key: string;
  data: LoadedDataset;
  bytes: number;
}

export class DatasetCache implements DatasetSource {
  private entries: Entry[] = [];
  hits = 0;
  misses = 0;

  /** @param maxBytes tensors kept beyond the most recent dataset; older ones are freed first. */
  constructor(private readonly maxBytes = 512 * 1024 * 1024) {}

  async load(cfg: DatasetConfig, opts: { seed: number; baseDir: string }): Promise<LoadedDataset> {
    const key = cacheKey(cfg, opts);
    const found = this.entries.findIndex((e) => e.key === key);
    if (found >= 0) {
      const [entry] = this.entries.splice(found, 1);
      this.entries.push(entry!);
      this.hits++;
      return borrowed(entry!.data);
    }
    this.misses++;
    const data = await loadDataset(cfg, opts);
    this.entries.push({ key, data, bytes: bytesOf(data) });
    this.evict();
    return borrowed(data);
  }

  /** Frees every cached tensor (a worker closing down, or tests). */
  clear(): void {
    for (const e of this.entries) e.data.dispose();
    this.entries = [];
  }

  get size(): number {
    return this.entries.length;
  }

  private evict(): void {
    let total = this.entries.reduce((n, e) => n + e.bytes, 0);
    // The newest entry always stays: it is the one the current run is using.
    while (this.entries.length > 1 && total > this.maxBytes) {
      const oldest = this.entries.shift()!;
      total -= oldest.bytes;
      oldest.data.dispose();
    }
  }
}

export function cacheKey(cfg: DatasetConfig, opts: { seed: number; baseDir: string }): string {
  const seedMatters = cfg.subset?.train !== undefined || cfg.subset?.test !== undefined;
  return JSON.stringify({ cfg, baseDir: opts.baseDir, seed: seedMatters ? opts.seed : null });
}

function bytesOf(data: LoadedDataset): number {
  return [data.train.x, data.train.y, data.test.x, data.test.y].reduce((n, t) => n + t.size * 4, 0);
}

/** The same dataset with a `dispose()` that leaves the tensors to the cache. */
function borrowed(data: LoadedDataset): LoadedDataset {
  return { ...data, dispose() {} };
}
