/**
 * Loaded datasets kept between runs of a long-lived worker, so a grid of short runs
 * decodes and normalises its data once instead of once per run.
 *
 * Two levels. The decoded files (the raw splits, bytes as stored) are kept by the files
 * they came from: every run over the same files reads them once per worker, whatever its
 * subset or seed. The tensors are kept by everything `loadDataset` reads: the dataset
 * config, and the seed only when a subset is drawn (the whole split does not depend on it),
 * so runs that differ only in their seed share one copy of the full data, and runs with
 * drawn subsets only redo the draw. Tensors are identical to a fresh load, so a cached run
 * computes exactly what a run in a fresh process would.
 */
import { loadDataset, type DatasetConfig, type LoadedDataset, type SplitReader } from './datasets.js';
import { readSplits } from './raw-split.js';

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
  /** Decoded files by the paths they were read from; the most recent few. */
  private raw = new Map<string, ReturnType<SplitReader>>();
  hits = 0;
  misses = 0;
  /** Times files were decoded (tests check that drawn subsets do not decode again). */
  reads = 0;

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
    const data = await loadDataset(cfg, { ...opts, read: this.readRaw });
    this.entries.push({ key, data, bytes: bytesOf(data) });
    this.evict();
    return borrowed(data);
  }

  private readonly readRaw: SplitReader = (source) => {
    const key = JSON.stringify(source.files);
    let found = this.raw.get(key);
    if (found) {
      this.raw.delete(key);
    } else {
      this.reads++;
      // A failed read is not kept: the next run reports the problem afresh.
      found = readSplits(source).catch((err) => {
        this.raw.delete(key);
        throw err;
      });
    }
    this.raw.set(key, found);
    // MNIST's decoded files are ~55 MB; two datasets side by side is what a study uses.
    while (this.raw.size > RAW_KEPT) this.raw.delete(this.raw.keys().next().value!);
    return found;
  };

  /** Frees every cached tensor and decoded file (a worker closing down, or tests). */
  clear(): void {
    for (const e of this.entries) e.data.dispose();
    this.entries = [];
    this.raw.clear();
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

const RAW_KEPT = 2;

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
