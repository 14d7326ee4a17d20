/**
 * What the report and `xrun compare` read: the run folders of one or more experiments,
 * as they are on disk. Nothing here needs the experiment file or a finished study: a
 * run still training or stopped shows what it has recorded so far.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { UsageError } from '../errors.js';
import { readConfusion } from '../store/confusion-csv.js';
import { RunDir, type RunRecord } from '../store/run-dir.js';
import type { MachineInfo } from '../util/machine.js';
import { processAlive } from '../util/process-alive.js';

export type Scalar = string | number | boolean | null;

export interface StudyRun {
  experiment: string;
  /** Run id (its folder name). */
  id: string;
  dir: string;
  status: string;
  /** Sweep values by axis as written (`models.*.hidden`), from run.json. */
  values: Record<string, Scalar>;
  seed: number | null;
  epochs: number | null;
  epochsCompleted: number;
  /** The run's resolved config.yaml (empty when it has none yet). */
  config: Record<string, unknown>;
  /** metrics.csv rows: every column it has (validation columns included when present). */
  metrics: Record<string, number>[];
  final: Record<string, number> | null;
  /** Test accuracy at the epoch with the best validation accuracy; null without a validation split. */
  bestTestAccuracy: number | null;
  seconds: number | null;
  backend: string | null;
  backendNotes: string[];
  machine: MachineInfo | null;
  versions: Record<string, string>;
  confusion: number[][] | null;
  error: string | null;
}

export interface StudyExperiment {
  name: string;
  dir: string;
  description: string | null;
  /** `--set` overrides of the last invocation, read from experiment.yaml's header. */
  overrides: string[];
  runs: StudyRun[];
}

/** The line experiment.yaml's header uses to record `--set` overrides. */
export const OVERRIDES_PREFIX = '# --set overrides: ';

function scalar(value: unknown): Scalar {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return value;
  return JSON.stringify(value);
}

function readYaml(file: string): Record<string, unknown> {
  try {
    const doc = parseYaml(readFileSync(file, 'utf8')) as unknown;
    return doc && typeof doc === 'object' && !Array.isArray(doc) ? (doc as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** A 'running' record whose process is gone was stopped hard; it resumes on the next run. */
function statusOf(record: RunRecord): string {
  if (record.status !== 'running') return record.status;
  return record.pid === undefined || processAlive(record.pid) ? 'running' : 'stopped';
}

export function isRunDir(dir: string): boolean {
  return existsSync(join(dir, 'run.json'));
}

export function isExperimentDir(dir: string): boolean {
  return existsSync(dir) && statSync(dir).isDirectory() && !isRunDir(dir) && readdirSync(dir).some((name) => isRunDir(join(dir, name)));
}

export async function readRun(dir: string, experiment: string): Promise<StudyRun | null> {
  const store = new RunDir(dir);
  let record: RunRecord | undefined;
  try {
    record = await store.readRecord();
  } catch {
    return null;
  }
  if (!record) return null;
  const metrics = (await store.readMetrics().catch(() => [])) as unknown as Record<string, number>[];
  // The best epoch is chosen on validation accuracy; without a validation split none is.
  let best: Record<string, number> | undefined;
  for (const r of metrics) if (Number.isFinite(r.val_accuracy) && (!best || r.val_accuracy! > best.val_accuracy!)) best = r;
  const last = metrics.at(-1);
  return {
    experiment,
    id: basename(dir),
    dir,
    status: statusOf(record),
    values: Object.fromEntries(Object.entries(record.values ?? {}).map(([k, v]) => [k, scalar(v)])),
    seed: typeof record.seed === 'number' ? record.seed : null,
    epochs: typeof record.epochs === 'number' ? record.epochs : null,
    epochsCompleted: metrics.length,
    config: readYaml(store.configFile),
    metrics,
    final: last ? { ...last } : null,
    bestTestAccuracy: best && Number.isFinite(best.test_accuracy) ? best.test_accuracy! : null,
    seconds: metrics.length > 0 && Number.isFinite(record.trainingSeconds) ? record.trainingSeconds : null,
    backend: record.backend?.name ?? null,
    backendNotes: record.backend?.notes ?? [],
    machine: record.machine ?? null,
    versions: record.versions ?? {},
    confusion: await readConfusion(dir),
    error: record.error?.message ?? null,
  };
}

export async function readExperiment(dir: string): Promise<StudyExperiment> {
  const abs = resolve(dir);
  const header = existsSync(join(abs, 'experiment.yaml')) ? readFileSync(join(abs, 'experiment.yaml'), 'utf8') : '';
  const doc = header ? readYaml(join(abs, 'experiment.yaml')) : {};
  const name = typeof doc.name === 'string' ? doc.name : basename(abs);
  const overrides = header
    .split('\n')
    .filter((l) => l.startsWith(OVERRIDES_PREFIX))
    .flatMap((l) => JSON.parse(l.slice(OVERRIDES_PREFIX.length)) as string[]);
  const runs: StudyRun[] = [];
  const names = readdirSync(abs).filter((n) => isRunDir(join(abs, n)));
  for (const n of names.sort()) {
    const run = await readRun(join(abs, n), name);
    if (run) runs.push(run);
  }
  // Folder order is alphabetical; the sweep's order (creation time) reads more naturally.
  runs.sort((a, b) => createdAt(a.dir) - createdAt(b.dir) || a.id.localeCompare(b.id));
  return { name, dir: abs, description: typeof doc.description === 'string' ? doc.description : null, overrides, runs };
}

function createdAt(dir: string): number {
  try {
    const record = JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8')) as { createdAt?: string };
    return Date.parse(record.createdAt ?? '') || 0;
  } catch {
    return 0;
  }
}

/**
 * Experiments and single runs named on the command line: an experiment folder gives all
 * its runs, a run folder itself. Runs are grouped under their experiment, in the order given.
 */
export async function readTargets(targets: string[]): Promise<StudyExperiment[]> {
  const out: StudyExperiment[] = [];
  for (const target of targets) {
    if (!existsSync(target) || !statSync(target).isDirectory()) {
      throw new UsageError(`${target}: no such folder`, { hint: 'pass an experiment folder (runs/<name>) or a run folder (runs/<name>/<run-id>)' });
    }
    if (isRunDir(target)) {
      const parent = resolve(target, '..');
      const experiment = await readExperimentShell(parent);
      const run = await readRun(resolve(target), experiment.name);
      if (!run) throw new UsageError(`${target}: run.json cannot be read`);
      const same = out.find((e) => e.dir === experiment.dir);
      if (same) same.runs.push(run);
      else out.push({ ...experiment, runs: [run] });
      continue;
    }
    if (!isExperimentDir(target)) {
      throw new UsageError(`${target} holds no runs (no <run>/run.json inside)`, { hint: 'pass an experiment folder (runs/<name>) or a run folder' });
    }
    out.push(await readExperiment(target));
  }
  return out;
}

async function readExperimentShell(dir: string): Promise<StudyExperiment> {
  const doc = existsSync(join(dir, 'experiment.yaml')) ? readYaml(join(dir, 'experiment.yaml')) : {};
  return { name: typeof doc.name === 'string' ? doc.name : basename(dir), dir, description: null, overrides: [], runs: [] };
}
