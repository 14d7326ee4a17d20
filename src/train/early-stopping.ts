/**
 * Early stopping decided from the metrics history alone, so a resumed run stops exactly
 * where an unbroken one would (the history is metrics.csv).
 */
import type { ResolvedTraining } from '../config/resolve.js';
import type { MetricsRow } from '../store/metrics-row.js';

export interface EarlyStop {
  /** The epoch after which training ended. */
  epoch: number;
  /** The epoch with the best value of the watched metric. */
  bestEpoch: number;
  reason: string;
}

type Spec = NonNullable<ResolvedTraining['earlyStopping']>;

/** Whether training should end after the last row of `rows`, and why. */
export function earlyStopAfter(rows: readonly MetricsRow[], spec: Spec): EarlyStop | undefined {
  const metric = spec.metric as keyof MetricsRow;
  const higherIsBetter = spec.metric.endsWith('accuracy');
  let best: number | undefined;
  let bestEpoch = 0;
  for (const row of rows) {
    const value = row[metric];
    if (typeof value !== 'number' || Number.isNaN(value)) continue;
    const improved =
      best === undefined || (higherIsBetter ? value > best + spec.minDelta : value < best - spec.minDelta);
    if (improved) {
      best = value;
      bestEpoch = row.epoch;
    } else if (row.epoch - bestEpoch >= spec.patience) {
      return {
        epoch: row.epoch,
        bestEpoch,
        reason:
          `early stopping: ${spec.metric} did not improve by more than ${spec.minDelta} for ${spec.patience} epoch(s) ` +
          `(best ${best!.toFixed(4)} at epoch ${bestEpoch})`,
      };
    }
  }
  return undefined;
}
