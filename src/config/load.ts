/**
 * Experiment file -> validated plan of runs. Everything that can be wrong with the
 * input is found here, before any run starts and before anything is written, and is
 * reported as one `file:line:col` diagnostic per problem.
 */
import { dirname, resolve } from 'node:path';
import { ConfigError, type Diagnostic } from '../errors.js';
import { expandGrid, formatValue, type AxisValue } from '../grid/expand.js';
import { applyOverrides, overrideFor, parseOverride, type Override } from './overrides.js';
import { configHash, resolveRunConfig, type RunConfig } from './resolve.js';
import type { Experiment } from './schema.js';
import { diagnosticForPath, readSource, type SourceFile } from './source.js';
import { didYouMean } from './suggest.js';
import { validateExperiment, type PathSegment, type Problem } from './validate.js';

export interface PlannedRun {
  id: string;
  /** The sweep values of this run. */
  values: AxisValue[];
  config: RunConfig;
  /** Hash of everything that changes the run's numbers. */
  hash: string;
}

export interface ExperimentPlan {
  file: string;
  name: string;
  outputDir: string;
  experiment: Experiment;
  runs: PlannedRun[];
  /** Product of the sweep axes, before merging cells an axis does not apply to. */
  gridSize: number;
  merged: number;
}

export interface LoadOptions {
  sets?: string[];
  /** Where a relative `output` is resolved (default: the current directory). */
  cwd?: string;
}

/** Sweeping these would change where or how runs go, not what they compute. */
const UNSWEEPABLE = ['name', 'output', 'sweep', 'runtime', 'description'];

export function loadPlan(file: string, options: LoadOptions = {}): ExperimentPlan {
  const overrides = (options.sets ?? []).map(parseOverride);
  const source = readSource(file);
  applyOverrides(source, overrides);
  const experiment = source.doc.toJS() as Experiment;
  const diagnostics: Diagnostic[] = [];
  const report = (path: PathSegment[], at: 'key' | 'value', message: string) =>
    diagnostics.push(diagnose(source, overrides, path, at, message));

  const problems = validateExperiment(experiment);
  for (const p of problems) report(p.path, p.at, withPath(p));
  checkSweepAxes(experiment, report);
  // Sweep values are checked cell by cell below even when the rest of the file has
  // problems, so one pass reports everything; a broken `sweep` itself cannot be expanded.
  const baseBroken = diagnostics.length > 0;
  const unexpandable = (p: Problem) => p.path[0] === 'sweep' || (p.path[0] === 'models' && p.path.length === 1);
  if (problems.some(unexpandable)) {
    throw new ConfigError(diagnostics);
  }

  const grid = expandGrid(experiment as unknown as Record<string, unknown>);
  const modelNames = Object.keys(experiment.models);
  const cellProblems = new Map<string, { diagnostic: Diagnostic; runs: string[] }>();
  const runs: PlannedRun[] = [];
  for (const cell of grid.cells) {
    const found: { diagnostic: Diagnostic; key: string }[] = [];
    const add = (path: PathSegment[], at: 'key' | 'value', message: string) => {
      const axis = cell.values.find((v) => overlaps(v.path, path));
      // Without a sweep value to blame, the same problem was already reported for the file.
      if (!axis && baseBroken) return;
      const diagnostic = axis
        ? diagnose(source, overrides, ['sweep', axis.axis, axis.valueIndex], 'value', `${message} (sweep value ${axis.axis}=${formatValue(axis.value)})`)
        : diagnose(source, overrides, path, at, message);
      found.push({ diagnostic, key: `${diagnostic.file}:${diagnostic.line}:${diagnostic.col}:${diagnostic.message}` });
    };
    if (cell.model === undefined) {
      add(['models'], 'key', `models declares ${modelNames.length} models (${modelNames.join(', ')}): choose one with 'model: <name>' or train several with 'sweep: {model: [...]}'`);
    } else if (!modelNames.includes(cell.model)) {
      add(['model'], 'value', `model '${cell.model}' is not declared under models${didYouMean(cell.model, modelNames) || ` (declared: ${modelNames.join(', ')})`}`);
    } else {
      for (const p of validateExperiment(cell.config)) add(p.path, p.at, withPath(p));
    }
    for (const { diagnostic, key } of found) {
      const seen = cellProblems.get(key);
      if (seen) seen.runs.push(cell.id);
      else cellProblems.set(key, { diagnostic, runs: [cell.id] });
    }
    if (found.length === 0 && !baseBroken) {
      const config = resolveRunConfig(cell.config as Experiment & { model: string }, dirname(resolve(file)));
      runs.push({ id: cell.id, values: cell.values, config, hash: configHash(config) });
    }
  }
  if (baseBroken || cellProblems.size > 0) {
    throw new ConfigError([
      ...diagnostics,
      ...[...cellProblems.values()].map(({ diagnostic, runs }) => ({
        ...diagnostic,
        message: `${diagnostic.message}; in run ${runs[0]}${runs.length > 1 ? ` and ${runs.length - 1} more` : ''}`,
      })),
    ]);
  }
  const outputDir = resolve(options.cwd ?? process.cwd(), experiment.output ?? `runs/${experiment.name}`);
  return { file: resolve(file), name: experiment.name, outputDir, experiment, runs, gridSize: grid.total, merged: grid.merged };
}

function withPath(p: Problem): string {
  return p.at === 'value' && p.path.length > 0 ? `${p.path.join('.')}: ${p.message}` : p.message;
}

function overlaps(axisPath: string[], problemPath: PathSegment[]): boolean {
  const n = Math.min(axisPath.length, problemPath.length);
  for (let i = 0; i < n; i++) if (axisPath[i] !== String(problemPath[i])) return false;
  return true;
}

function checkSweepAxes(experiment: Experiment, report: (path: PathSegment[], at: 'key' | 'value', message: string) => void) {
  for (const axis of Object.keys(experiment.sweep ?? {})) {
    const root = axis.split('.')[0]!;
    if (UNSWEEPABLE.includes(root)) {
      report(['sweep', axis], 'key', `'${axis}' cannot be swept: it changes where or how runs go, not what they compute`);
    }
  }
}

function diagnose(source: SourceFile, overrides: Override[], path: PathSegment[], at: 'key' | 'value', message: string): Diagnostic {
  const override = overrideFor(overrides, path);
  if (override) return { file: '--set', line: 0, col: 0, message: `${override.arg}: ${message}` };
  return diagnosticForPath(source, path, at, message);
}
