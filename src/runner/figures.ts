/**
 * Training figures of finished runs, drawn by the parent process while its workers train
 * the next runs. Drawing one costs about as much as training a few hundred images; the
 * parent is otherwise idle, so on a machine with a core to spare for it (`--jobs 1` on
 * two cores) the figures cost no wall time at all. Figures are drawn one at a time, in
 * the order their runs finished; `drain()` waits for the last.
 */
import { trainingPlotSpec } from '../report/plots.js';
import { writePlot } from '../report/write-plot.js';
import { RunDir } from '../store/run-dir.js';

export class FigureQueue {
  private tail: Promise<void> = Promise.resolve();

  /** Draws `plots/training.*` of the run in `dir` from its metrics.csv, after those queued before. */
  add(dir: string, title: string): void {
    this.tail = this.tail.then(() => drawTrainingFigure(dir, title));
  }

  drain(): Promise<void> {
    return this.tail;
  }
}

/** A figure that cannot be drawn is noted in run.json under `warnings`; it never fails the run. */
export async function drawTrainingFigure(dir: string, title: string): Promise<void> {
  const store = new RunDir(dir);
  try {
    const rows = await store.readMetrics();
    if (rows.length === 0) return;
    await writePlot(store.plotsDir, 'training', trainingPlotSpec(rows, title));
  } catch (err) {
    const warning = `plots/training could not be rendered: ${(err as Error).message}`;
    const record = await store.readRecord().catch(() => undefined);
    if (record && !record.warnings?.includes(warning)) {
      await store.writeRecord({ ...record, warnings: [...(record.warnings ?? []), warning] }).catch(() => {});
    }
  }
}
