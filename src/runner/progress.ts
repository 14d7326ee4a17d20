/**
 * Progress views. On a terminal, a listr2 task per run shows epoch i/N, batch progress,
 * running loss/accuracy and an ETA; elsewhere (CI, pipes, files) one plain line per
 * epoch and per run outcome, which reads well in logs and diffs.
 */
import { Listr, type ListrTaskWrapper } from 'listr2';
import type { BackendInfo } from '../train/backend.js';
import type { BatchProgress } from '../train/trainer.js';
import type { RunEvent } from './execute-run.js';
import { formatDuration } from '../report/summary.js';
import { StudyProgress } from './study-progress.js';

export interface RunLine {
  id: string;
  action: 'run' | 'resume' | 'skip';
  reason: string;
}

export interface ProgressView {
  start(runs: RunLine[]): void;
  runStarted(id: string): void;
  event(id: string, event: RunEvent): void;
  runEnded(id: string, status: string, message?: string): void;
  note(message: string): void;
  /** Resolves once the view has drawn its last frame. */
  close(): Promise<void>;
}

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

function epochLine(event: Extract<RunEvent, { type: 'epoch' }>): string {
  const r = event.row;
  return (
    `epoch ${r.epoch}/${event.epochs}  train loss ${r.train_loss.toFixed(4)} acc ${pct(r.train_accuracy)}` +
    `  test loss ${r.test_loss.toFixed(4)} acc ${pct(r.test_accuracy)}  ${r.epoch_seconds.toFixed(1)}s`
  );
}

function batchLine(p: BatchProgress): string {
  const remaining = p.batches - p.batch;
  const eta = p.batch > 0 ? formatDuration((p.seconds / p.batch) * remaining) : '--:--';
  return `epoch ${p.epoch}/${p.epochs}  batch ${p.batch}/${p.batches}  loss ${p.loss.toFixed(4)} acc ${pct(p.accuracy)}  epoch ETA ${eta}`;
}

function backendLine(info: BackendInfo): string {
  return `backend ${info.name}${info.notes.length ? ` (${info.notes.join('; ')})` : ''}`;
}

export class PlainProgress implements ProgressView {
  private readonly backends = new Set<string>();
  private readonly lastBatchLine = new Map<string, number>();
  private readonly study: StudyProgress;
  /**
   * @param batchEverySeconds a long epoch also gets a batch-progress line this often, so a
   *   log shows signs of life (a full-MNIST BiLSTM epoch is many minutes on a CPU).
   */
  constructor(
    private readonly out: (line: string) => void = (l) => process.stdout.write(`${l}\n`),
    private readonly batchEverySeconds = 60,
    now?: () => number,
  ) {
    this.study = new StudyProgress(now);
  }
  start(runs: RunLine[]) {
    const todo = runs.filter((r) => r.action !== 'skip').length;
    this.study.start(
      runs.filter((r) => r.action !== 'skip').map((r) => r.id),
      runs.length - todo,
    );
    this.out(`${runs.length} run(s): ${todo} to train, ${runs.length - todo} skipped`);
    for (const r of runs) if (r.action === 'skip') this.out(`[${r.id}] skipped: ${r.reason}`);
  }
  runStarted(id: string) {
    this.out(`[${id}] started`);
  }
  event(id: string, event: RunEvent) {
    if (event.type === 'backend') {
      const line = backendLine(event.info);
      // Every run reports its backend; saying it once is enough unless it differs.
      if (!this.backends.has(line)) this.out(`[${id}] ${line}`);
      this.backends.add(line);
    } else if (event.type === 'resumed') this.out(`[${id}] resuming after epoch ${event.epoch}`);
    else if (event.type === 'epoch') this.out(`[${id}] ${epochLine(event)}`);
    else if (event.type === 'batch') {
      this.study.batch(id, event.progress);
      const now = performance.now();
      const last = this.lastBatchLine.get(id) ?? now;
      if (!this.lastBatchLine.has(id)) this.lastBatchLine.set(id, now);
      if (now - last < this.batchEverySeconds * 1000) return;
      this.lastBatchLine.set(id, now);
      this.out(`[${id}] ${batchLine(event.progress)}`);
    }
  }
  runEnded(id: string, status: string, message?: string) {
    this.out(`[${id}] ${status}${message ? `: ${message}` : ''}`);
    this.study.ended(id, status);
    this.out(this.study.line());
  }
  note(message: string) {
    this.out(message);
  }
  async close() {}
}

interface TaskState {
  task?: ListrTaskWrapper<unknown, any, any>;
  done?: (error?: Error) => void;
  started: number;
  lastEpoch?: string;
}

export class TerminalProgress implements ProgressView {
  private readonly tasks = new Map<string, TaskState>();
  private running: Promise<unknown> = Promise.resolve();
  private readonly study = new StudyProgress();
  private readonly backends: string[] = [];
  private overall?: ListrTaskWrapper<unknown, any, any>;
  private overallDone?: () => void;
  private lastOverall = 0;

  start(runs: RunLine[]) {
    const todo = runs.filter((r) => r.action !== 'skip');
    this.study.start(
      todo.map((r) => r.id),
      runs.length - todo.length,
    );
    // The first task is the whole study: runs done / total and its ETA, and the backend
    // note, said once here rather than under every run.
    const overall = {
      title: this.study.line(),
      task: (_: unknown, task: ListrTaskWrapper<unknown, any, any>) =>
        new Promise<void>((resolve) => {
          this.overall = task;
          this.overallDone = resolve;
        }),
      rendererOptions: { persistentOutput: true, outputBar: Infinity },
    };
    const list = new Listr(
      [overall, ...runs.map((r) => ({
        title: r.action === 'skip' ? r.id : `${r.id}  queued${r.action === 'resume' ? ` (resume: ${r.reason})` : ''}`,
        skip: () => (r.action === 'skip' ? `${r.id}: ${r.reason}` : false),
        task: (_: unknown, task: ListrTaskWrapper<unknown, any, any>) =>
          new Promise<void>((resolve, reject) => {
            const state = this.state(r.id);
            state.task = task;
            state.done = (error) => (error ? reject(error) : resolve());
          }),
        rendererOptions: { persistentOutput: true, outputBar: 1 },
      }))],
      { concurrent: true, exitOnError: false, rendererOptions: { collapseSkips: false, collapseErrors: false } },
    );
    this.running = list.run().catch(() => undefined);
  }

  private state(id: string): TaskState {
    let s = this.tasks.get(id);
    if (!s) this.tasks.set(id, (s = { started: performance.now() }));
    return s;
  }

  runStarted(id: string) {
    const s = this.state(id);
    s.started = performance.now();
    if (s.task) s.task.title = `${id}  starting`;
  }

  event(id: string, event: RunEvent) {
    const s = this.state(id);
    if (!s.task) return;
    if (event.type === 'backend') {
      const line = backendLine(event.info);
      if (!this.backends.includes(line)) {
        this.backends.push(line);
        if (this.overall) this.overall.output = this.backends.join('\n');
      }
    } else if (event.type === 'epoch') {
      s.lastEpoch = epochLine(event);
      s.task.output = s.lastEpoch;
    } else if (event.type === 'batch') {
      const p = event.progress;
      const doneFraction = (p.epoch - 1 + p.batch / p.batches) / p.epochs;
      const elapsed = (performance.now() - s.started) / 1000;
      const eta = doneFraction > 0 ? formatDuration((elapsed * (1 - doneFraction)) / doneFraction) : '--:--';
      s.task.title = `${id}  epoch ${p.epoch}/${p.epochs}  batch ${p.batch}/${p.batches}  loss ${p.loss.toFixed(4)}  acc ${pct(p.accuracy)}  ETA ${eta}`;
      this.study.batch(id, p);
      // The study's ETA moves slowly; once a second is plenty.
      if (performance.now() - this.lastOverall > 1000) this.updateOverall();
    }
  }

  private updateOverall() {
    this.lastOverall = performance.now();
    if (this.overall) this.overall.title = this.study.line();
  }

  runEnded(id: string, status: string, message?: string) {
    const s = this.state(id);
    if (!s.task) return;
    s.task.title = `${id}  ${status}${message ? ` (${message})` : ''}`;
    if (s.lastEpoch) s.task.output = s.lastEpoch;
    this.study.ended(id, status);
    this.updateOverall();
    s.done?.(status === 'failed' || status === 'interrupted' ? new Error(message ?? status) : undefined);
  }

  note(message: string) {
    process.stderr.write(`${message}\n`);
  }

  async close() {
    // Runs that never started (stopped early) still hold their task open.
    for (const s of this.tasks.values()) s.done?.(new Error('not run'));
    this.updateOverall();
    this.overallDone?.();
    await this.running;
  }
}
