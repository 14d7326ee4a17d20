/**
 * A dataset split lives in one GPU buffer, and every batch binds all of it (a batch is a
 * gather by index). An adapter refuses a binding over its limit only through an
 * asynchronous error, so the size is checked up front, with a message that says what to do.
 */
import type { LoadedDataset } from '../data/datasets.js';
import { XrunError } from '../errors.js';
import type { GpuAdapter } from './gpu-adapters.js';

const MiB = 1024 * 1024;

export function assertFitsAdapter(data: LoadedDataset, adapter: GpuAdapter): void {
  const limit = adapter.limits.maxStorageBufferBindingSize;
  if (!limit) return;
  for (const [name, split] of [['training', data.train], ['test', data.test]] as const) {
    const bytes = split.x.size * 4;
    if (bytes > limit) {
      throw new XrunError(
        `the ${name} images take ${(bytes / MiB).toFixed(0)} MiB, more than GPU adapter ${adapter.index} (${adapter.name}) can bind at once (${(limit / MiB).toFixed(0)} MiB)`,
        {
          hint: `use at most ${Math.floor(limit / (split.x.size / split.count) / 4)} ${name} examples (dataset.subset), or another adapter or backend`,
        },
      );
    }
  }
}
