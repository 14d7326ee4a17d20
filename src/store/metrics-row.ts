/** One row of a run's `metrics.csv`: the metrics of one finished epoch. */
export interface MetricsRow {
  epoch: number;
  train_loss: number;
  train_accuracy: number;
  test_loss: number;
  test_accuracy: number;
  /** Only with a validation split (dataset.validation). */
  val_loss?: number;
  val_accuracy?: number;
  /** Learning rate of the epoch; only when a schedule or warm-up changes it. */
  lr?: number;
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

/** Every column a row may have, in file order: the base columns plus validation and rate. */
const ALL_COLUMNS = [
  'epoch',
  'train_loss',
  'train_accuracy',
  'val_loss',
  'val_accuracy',
  'test_loss',
  'test_accuracy',
  'lr',
  'epoch_seconds',
  'elapsed_seconds',
] as const satisfies readonly (keyof MetricsRow)[];

/**
 * The columns of a run's metrics.csv. Runs without a validation split or a schedule keep
 * exactly the base columns, so their files (and resumes of older runs) stay as they were.
 */
export function metricsColumns(has: { validation?: boolean; lr?: boolean }): (keyof MetricsRow)[] {
  return ALL_COLUMNS.filter((c) => ((c === 'val_loss' || c === 'val_accuracy') ? has.validation === true : c === 'lr' ? has.lr === true : true));
}

/** The columns a row carries, in file order. */
export function columnsOfRow(row: MetricsRow): (keyof MetricsRow)[] {
  return ALL_COLUMNS.filter((c) => row[c] !== undefined);
}
