/**
 * One run's folder. `run.json` is the single source of truth for the run's state;
 * every file is replaced atomically or appended a whole line at a time, so a crash
 * leaves each file either as it was or as it was meant to become.
 *
 *   <run>/config.yaml       resolved config; `xrun <run>/config.yaml` reruns it alone
 *   <run>/metrics.csv       one row per finished epoch
 *   <run>/run.json          status, times, backend, versions, final metrics
 *   <run>/checkpoints/last  model.json + weights.bin (+ optimiser state) after each epoch
 *   <run>/checkpoints/best  the same, at the best validation accuracy (with dataset.validation only)
 *   <run>/plots/            training.vl.json, training.svg, training.png
 */
import { mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify as csvStringify } from 'csv-stringify/sync';
import { stringify as yamlStringify } from 'yaml';
import type { RunConfig } from '../config/resolve.js';
import { RunStoreError } from '../errors.js';
import { appendLineDurable, recoverDir, removeStaleTemps, writeFileAtomic } from './atomic.js';
import { columnsOfRow, METRICS_COLUMNS, type MetricsRow } from './metrics-row.js';
import type { MachineInfo } from '../util/machine.js';

export type RunStatus = 'pending' | 'running' | 'completed' | 'failed' | 'interrupted';

export interface RunRecord {
  id: string;
  experiment: string;
  status: RunStatus;
  /** Hash of everything that changes the numbers (see config/resolve.ts). */
  hash: string;
  /** The sweep values of this run. */
  values: Record<string, unknown>;
  seed: number;
  epochs: number;
  epochsCompleted: number;
  createdAt: string;
  startedAt?: string;
  endedAt?: string;
  /** Sum of epoch times (training + evaluation), across resumes: the study's "time". */
  trainingSeconds: number;
  /** Wall time of the last attempt, start to end, data loading and plotting included. */
  durationSeconds?: number;
  /** Epochs at which the run was resumed. */
  resumedAt?: number[];
  backend?: {
    requested: string;
    name: string;
    notes: string[];
    /** For webgpu: the GPU adapter the run trained on. */
    adapter?: { index: number; vendor: string; architecture: string; device: string; description: string; software: boolean };
  };
  versions?: Record<string, string>;
  /** Host, OS, CPU and memory of the machine the last attempt ran on. */
  machine?: MachineInfo;
  pid?: number;
  final?: MetricsRow;
  /**
   * The epoch with the best validation accuracy, and its test metrics (checkpoints/best).
   * Absent without a validation split: nothing is selected on the test set.
   */
  best?: { epoch: number; val_accuracy: number; test_accuracy: number; test_loss: number };
  /** Set when early stopping ended the run before its last epoch (status stays 'completed'). */
  stoppedEarly?: { epoch: number; bestEpoch: number; reason: string };
  error?: { message: string; stack?: string };
  /** Problems that did not stop the run (a plot that failed to render). */
  warnings?: string[];
}

export class RunDir {
  constructor(readonly path: string) {}

  get configFile() {
    return join(this.path, 'config.yaml');
  }
  get metricsFile() {
    return join(this.path, 'metrics.csv');
  }
  get recordFile() {
    return join(this.path, 'run.json');
  }
  get plotsDir() {
    return join(this.path, 'plots');
  }
  checkpoint(which: 'last' | 'best') {
    return join(this.path, 'checkpoints', which);
  }

  /** `undefined` when there is no run.json; a RunStoreError when it cannot be trusted. */
  async readRecord(): Promise<RunRecord | undefined> {
    let text: string;
    try {
      text = await readFile(this.recordFile, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    try {
      const record = JSON.parse(text) as RunRecord;
      if (typeof record.status !== 'string' || typeof record.hash !== 'string') throw new Error('missing status or hash');
      return record;
    } catch (err) {
      throw new RunStoreError(`${this.recordFile} is corrupt: ${(err as Error).message}`, {
        hint: 'rerun with --force to start this run again from scratch',
      });
    }
  }

  async writeRecord(record: RunRecord): Promise<void> {
    await mkdir(this.path, { recursive: true });
    await writeFileAtomic(this.recordFile, JSON.stringify(record, null, 2) + '\n');
  }

  async writeConfig(config: RunConfig, header: string): Promise<void> {
    await mkdir(this.path, { recursive: true });
    const comment = header
      .split('\n')
      .map((l) => `# ${l}`)
      .join('\n');
    await writeFileAtomic(this.configFile, `${comment}\n${yamlStringify(config)}`);
  }

  async readConfigText(): Promise<string | undefined> {
    try {
      return await readFile(this.configFile, 'utf8');
    } catch {
      return undefined;
    }
  }

  /**
   * A fresh metrics.csv holding only the header (plus `rows`, when rebuilding after a
   * resume). `columns` defaults to those of the rows, or the base columns.
   */
  async resetMetrics(rows: MetricsRow[] = [], columns?: (keyof MetricsRow)[]): Promise<void> {
    await mkdir(this.path, { recursive: true });
    await writeFileAtomic(this.metricsFile, formatMetrics(rows, true, columns));
  }

  async appendMetrics(row: MetricsRow): Promise<void> {
    await appendLineDurable(this.metricsFile, formatMetrics([row], false));
  }

  async readMetrics(): Promise<MetricsRow[]> {
    let text: string;
    try {
      text = await readFile(this.metricsFile, 'utf8');
    } catch {
      return [];
    }
    return parseMetricsCsv(text, this.metricsFile);
  }

  /**
   * Tidies up after an attempt that was killed mid-write, before resuming it: finishes or
   * rolls back a half-swapped checkpoint folder and removes temporaries of dead processes.
   * Reading `checkpoints/last` recovers that one, but `best` is only touched again when
   * accuracy improves, and nothing else looks at the run folder's own temporaries.
   */
  async recover(): Promise<void> {
    await removeStaleTemps(this.path);
    await removeStaleTemps(this.plotsDir);
    for (const which of ['last', 'best'] as const) await recoverDir(this.checkpoint(which));
  }

  /** Removes everything a previous attempt wrote (for --force and failed runs). */
  async clear(): Promise<void> {
    await rm(this.path, { recursive: true, force: true });
  }
}

export function formatMetrics(rows: MetricsRow[], header: boolean, columns?: (keyof MetricsRow)[]): string {
  const cols = columns ?? (rows[0] ? columnsOfRow(rows[0]) : [...METRICS_COLUMNS]);
  return csvStringify(rows, { header, columns: cols });
}

/**
 * Parses a metrics CSV (ours, or any CSV with an `epoch` column). A torn last line,
 * left by a hard kill mid-append, is dropped rather than trusted.
 */
export function parseMetricsCsv(text: string, file: string): MetricsRow[] {
  // Whole lines end in '\n': the last piece is either '' or a torn line; drop it either way.
  const complete = text.split('\n').slice(0, -1);
  const header = complete[0]?.split(',').map((h) => h.trim());
  if (!header || !header.includes('epoch')) {
    throw new RunStoreError(`${file} has no 'epoch' column in its header`, {
      hint: 'pass a metrics.csv written by xrun, or a run folder',
    });
  }
  return complete
    .slice(1)
    .filter((l) => l.trim() !== '')
    .map((line, i) => {
      const cells = line.split(',');
      if (cells.length !== header.length) {
        throw new RunStoreError(`${file}:${i + 2}: expected ${header.length} values, found ${cells.length}`);
      }
      return Object.fromEntries(header.map((h, j) => [h, Number(cells[j])])) as unknown as MetricsRow;
    });
}
