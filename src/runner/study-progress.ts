/**
 * Progress of the whole study: runs done out of the total and an ETA for all of them.
 * The ETA extrapolates the work done since this invocation started (fractions of runs,
 * counted by batches) to the work left, so `--jobs` and resumed runs are accounted for;
 * it assumes the runs still to come cost what the ones so far did.
 */
import type { BatchProgress } from '../train/trainer.js';
import { formatDuration } from '../report/summary.js';

export class StudyProgress {
  private total = 0;
  private done = 0;
  private readonly fraction = new Map<string, number>();
  private readonly startFraction = new Map<string, number>();
  private started = 0;
  /** When the first batch ended: the ETA's clock starts there, not at process start-up. */
  private firstBatch: number | undefined;

  constructor(private readonly now: () => number = () => performance.now()) {}

  /** `todo` runs to train this time; `finished` runs already done (skipped). */
  start(todo: readonly string[], finished: number) {
    this.total = todo.length + finished;
    this.done = finished;
    for (const id of todo) this.fraction.set(id, 0);
    this.started = this.now();
  }

  batch(id: string, p: BatchProgress) {
    this.firstBatch ??= this.now();
    const f = (p.epoch - 1 + p.batch / p.batches) / p.epochs;
    // A resumed run starts part way; only what is trained from here on says how fast
    // training goes (its first batch, like start-up, falls before the clock).
    if (!this.startFraction.has(id)) this.startFraction.set(id, f);
    this.fraction.set(id, f);
  }

  /** A run that stopped part way (interrupted) is not done and keeps its fraction. */
  ended(id: string, status: string) {
    if (status === 'interrupted') return;
    this.done += 1;
    this.fraction.set(id, 1);
    if (!this.startFraction.has(id)) this.startFraction.set(id, 1);
  }

  /** Seconds left for the whole study, or undefined before there is anything to go by. */
  etaSeconds(): number | undefined {
    let trained = 0;
    let left = 0;
    for (const [id, f] of this.fraction) {
      trained += f - (this.startFraction.get(id) ?? f);
      left += 1 - f;
    }
    if (trained <= 0 || this.firstBatch === undefined) return undefined;
    return (((this.now() - this.firstBatch) / 1000) * left) / trained;
  }

  line(): string {
    const eta = this.etaSeconds();
    const elapsed = formatDuration((this.now() - this.started) / 1000);
    const left = this.done >= this.total ? 'all done' : `ETA ${eta === undefined ? '--:--' : formatDuration(eta)}`;
    return `overall: ${this.done}/${this.total} runs done, ${elapsed} elapsed, ${left}`;
  }
}
