/** One row of a run's `metrics.csv`: the metrics of one finished epoch. */
export interface MetricsRow {
  epoch: number;
  train_loss: number;
  train_accuracy: number;
  test_loss: number;
  test_accuracy: number;
  /** Wall time of this epoch's training and evaluation. */
  epoch_seconds: number;
  /** Wall time since the run started, summed over resumed segments. */
  elapsed_seconds: number;
}

/** Column order of `metrics.csv`; the header line is exactly these names. */
export const METRICS_COLUMNS = [
  'epoch',
  'train_loss',
  'train_accuracy',
  'test_loss',
  'test_accuracy',
  'epoch_seconds',
  'elapsed_seconds',
] as const satisfies readonly (keyof MetricsRow)[];
