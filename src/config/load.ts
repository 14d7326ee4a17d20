/**
 * Experiment file -> validated plan of runs. Everything that can be wrong with the
 * input is found here, before any run starts and before anything is written, and is
 * reported as one `file:line:col` diagnostic per problem.
 */
import { existsSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { ConfigError, type Diagnostic } from '../errors.js';
import { checkSearch, expandGrid, formatValue, type AxisValue } from '../grid/expand.js';
import { applyOverrides, overrideFor, parseOverride, type Override } from './overrides.js';
import { configHash, resolveRunConfig, type RunConfig } from './resolve.js';
import { DEFAULTS, type Experiment } from './schema.js';
import { runProblems } from './semantics.js';
import { diagnosticForPath, readSource, toPlainData, type SourceFile } from './source.js';
import { didYouMean } from './suggest.js';
import { validateExperiment, type PathSegment, type Problem } from './validate.js';

export interface PlannedRun {
  id: string;
  /** The sweep values of this run. */
  values: AxisValue[];
  config: RunConfig;
  /** Hash of everything that changes the run's numbers. */
  hash: string;
  /** Hashes the same run had before values read from the data were filled in (see `withDerivedClasses`). */
  previousHashes?: string[];
}

/**
 * An idx run without dataset.classes gets the class count its labels give (read when the
 * data is checked), so config.yaml states it. The hash changes with it; the one it had
 * before still finds runs recorded without it.
 */
export function withDerivedClasses(run: PlannedRun, classes: number): void {
  const dataset = run.config.dataset;
  if (dataset.name !== 'idx' || dataset.classes !== undefined) return;
  run.previousHashes = [...(run.previousHashes ?? []), run.hash];
  run.config = { ...run.config, dataset: { ...dataset, classes } };
  run.hash = configHash(run.config);
}

export interface ExperimentPlan {
  file: string;
  name: string;
  /** Absolute; a relative `output` (and the default `runs/<name>`) is resolved against `projectRoot`. */
  outputDir: string;
  /** The nearest folder above the experiment file holding package.json or .git; else the file's folder. */
  projectRoot: string;
  /** The file is a run's own config.yaml inside the output folder, not the full experiment. */
  isRunConfig: boolean;
  experiment: Experiment;
  runs: PlannedRun[];
  /** Product of the sweep axes, before merging cells an axis does not apply to. */
  gridSize: number;
  merged: number;
}

export interface LoadOptions {
  sets?: string[];
  /** Where a relative `output` is resolved (default: the project root of the file, see `projectRootOf`). */
  root?: string;
}

/**
 * Where `runs/` lives: relative to the project, never the shell's current folder, so the
 * same file plans the same runs from anywhere. The project is the nearest folder above
 * the experiment file that holds a package.json or .git; without one, the file's folder.
 */
export function projectRootOf(file: string): string {
  const start = dirname(resolve(file));
  for (let dir = start; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json')) || existsSync(join(dir, '.git'))) return dir;
    if (dirname(dir) === dir) return start;
  }
}

/** Sweeping these would change where or how runs go, not what they compute. */
const UNSWEEPABLE = ['name', 'output', 'sweep', 'search', 'runtime', 'description'];

export function loadPlan(file: string, options: LoadOptions = {}): ExperimentPlan {
  const overrides = (options.sets ?? []).map(parseOverride);
  const source = readSource(file);
  applyOverrides(source, overrides);
  const experiment = toPlainData(source) as Experiment;
  // Every problem is collected before anything is thrown: the base file, the sweep axes and
  // every expanded cell, reported together in line order.
  const diagnostics: Diagnostic[] = [];
  const seen = new Set<string>();
  const push = (d: Diagnostic) => {
    const key = `${d.file}:${d.line}:${d.col}:${d.message}`;
    if (seen.has(key)) return;
    seen.add(key);
    diagnostics.push(d);
  };
  const report = (path: PathSegment[], at: 'key' | 'value', message: string) => push(diagnose(source, overrides, path, at, message));

  const nonFinite = nonFinitePaths(experiment);
  for (const path of nonFinite) report(path, 'value', `${path.join('.')}: must be a finite number (YAML .inf, .nan and numbers beyond 1.8e308 are not)`);
  const isNonFinite = (p: Problem) => nonFinite.some((path) => overlaps(path.map(String), p.path));
  const problems = validateExperiment(experiment).filter((p) => !isNonFinite(p));
  for (const p of problems) report(p.path, p.at, withPath(p));
  const badAxes = checkSweepAxes(experiment, problems, report);
  const searchProblems = checkSearch(withoutBrokenSearches(experiment, problems), DEFAULTS.seed);
  for (const p of searchProblems) report(p.path, p.at, p.message);
  const baseBroken = diagnostics.length > 0;
  // Without a usable `models` map no cell can be built, nor without a usable `search`;
  // everything else still expands, minus the sweep axes that are themselves broken.
  const searchBroken = searchProblems.length > 0 || problems.some((p) => p.path[0] === 'search');
  if (searchBroken || problems.some((p) => p.path[0] === 'models' && p.path.length === 1) || !isRecord(experiment.models)) {
    throw new ConfigError(inLineOrder(diagnostics));
  }
  const sweep = expandableSweep(experiment, badAxes);

  const projectRoot = options.root ?? projectRootOf(file);
  const outputDir = resolve(projectRoot, typeof experiment.output === 'string' ? experiment.output : `runs/${experiment.name}`);
  const grid = expandGrid({ ...(experiment as unknown as Record<string, unknown>), sweep }, DEFAULTS.seed);
  const modelNames = Object.keys(experiment.models);
  const cellProblems = new Map<string, { diagnostic: Diagnostic; runs: string[] }>();
  const runs: PlannedRun[] = [];
  for (const cell of grid.cells) {
    const found: { diagnostic: Diagnostic; key: string }[] = [];
    const add = (path: PathSegment[], at: 'key' | 'value', message: string) => {
      const axis = cell.values.find((v) => v.path.length > 0 && overlaps(v.path, path));
      const diagnostic = axis
        ? diagnose(source, overrides, axis.at ?? ['sweep', axis.axis, axis.valueIndex], 'value', `${message} (${axis.at?.[0] === 'search' ? 'search' : 'sweep'} value ${axis.axis}=${formatValue(axis.value)})`)
        : diagnose(source, overrides, path, at, message);
      const key = `${diagnostic.file}:${diagnostic.line}:${diagnostic.col}:${diagnostic.message}`;
      // The same problem found in the base file is already reported, once.
      if (!seen.has(key)) found.push({ diagnostic, key });
    };
    if (cell.model === undefined) {
      add(['models'], 'key', `models declares ${modelNames.length} models (${modelNames.join(', ')}): choose one with 'model: <name>' or train several with 'sweep: {model: [...]}'`);
    } else if (!modelNames.includes(cell.model)) {
      add(['model'], 'value', `model '${cell.model}' is not declared under models${didYouMean(cell.model, modelNames) || ` (declared: ${modelNames.join(', ')})`}`);
    }
    // The rest of the cell is checked even when its model is missing, so a bad sweep value
    // is not held back until the model is fixed; only what a `models.*` axis wrote into
    // the missing model's entry is meaningless.
    const declared = cell.model !== undefined && modelNames.includes(cell.model);
    const schemaProblems = validateExperiment(cell.config);
    for (const p of schemaProblems) {
      if (isNonFinite(p) || (!declared && p.path[0] === 'models' && (p.path[1] === cell.model || p.path[1] === '*'))) continue;
      add(p.path, p.at, withPath(p));
    }
    // Layer shapes and recipe needs are only checked on a config that fits the schema.
    if (declared && schemaProblems.length === 0) {
      for (const p of runProblems(cell.config as Experiment & { model: string })) add(p.path, p.at, withPath(p));
    }
    for (const { diagnostic, key } of found) {
      const known = cellProblems.get(key);
      if (known) known.runs.push(cell.id);
      else cellProblems.set(key, { diagnostic, runs: [cell.id] });
    }
    if (found.length === 0 && !baseBroken) {
      const config = resolveRunConfig(cell.config as Experiment & { model: string }, dirname(resolve(file)));
      // Written into config.yaml as an absolute folder, so the run's own file finds its experiment from anywhere.
      config.output = outputDir;
      runs.push({ id: cell.id, values: cell.values, config, hash: configHash(config) });
    }
  }
  if (baseBroken || cellProblems.size > 0) {
    throw new ConfigError(
      inLineOrder([
        ...diagnostics,
        ...[...cellProblems.values()].map(({ diagnostic, runs }) => ({
          ...diagnostic,
          message: `${diagnostic.message}; in run ${runs[0]}${runs.length > 1 ? ` and ${runs.length - 1} more` : ''}`,
        })),
      ]),
    );
  }
  const rel = relative(outputDir, resolve(file));
  const isRunConfig = rel !== '' && !rel.startsWith('..') && rel.includes(sep);
  return { file: resolve(file), name: experiment.name, outputDir, projectRoot, isRunConfig, experiment, runs, gridSize: grid.total, merged: grid.merged };
}

/**
 * The sweep to expand despite problems, so every other cell is still checked: a broken
 * axis is left out, except a single value written without a list (`model: cnn`), which
 * is expanded as the one value it evidently means.
 */
function expandableSweep(experiment: Experiment, badAxes: Set<string>): Record<string, unknown[]> {
  const out: Record<string, unknown[]> = {};
  for (const [axis, values] of Object.entries(isRecord(experiment.sweep) ? experiment.sweep : {})) {
    if (!badAxes.has(axis)) out[axis] = values as unknown[];
    else if (isScalar(values) && !UNSWEEPABLE.includes(axis.split('.')[0]!) && !axis.startsWith('models.')) out[axis] = [values];
  }
  return out;
}

function isScalar(value: unknown): boolean {
  return value !== null && typeof value !== 'object';
}

/** --set problems first (they have no line), then by position in the file. */
function inLineOrder(diagnostics: Diagnostic[]): Diagnostic[] {
  return diagnostics
    .map((d, i) => ({ d, i }))
    .sort((a, b) => a.d.line - b.d.line || a.d.col - b.d.col || a.i - b.i)
    .map(({ d }) => d);
}

function isRecord(value: unknown): value is Record<string, any> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Paths of numbers YAML read as Infinity or NaN (`.inf`, `.nan`, `1e309`): JSON, and so the run hash, cannot hold them. */
function nonFinitePaths(value: unknown, path: PathSegment[] = []): PathSegment[][] {
  if (typeof value === 'number') return Number.isFinite(value) ? [] : [path];
  if (Array.isArray(value)) return value.flatMap((v, i) => nonFinitePaths(v, [...path, i]));
  if (isRecord(value)) return Object.entries(value).flatMap(([k, v]) => nonFinitePaths(v, [...path, k]));
  return [];
}

/** The experiment without the searches the schema already rejected, so the rest is still checked. */
function withoutBrokenSearches(experiment: Experiment, problems: Problem[]): Record<string, unknown> {
  const copy = { ...(experiment as unknown as Record<string, unknown>) };
  const search = copy.search;
  if (problems.some((p) => p.path[0] === 'search' && p.path.length === 1) || !search || typeof search !== 'object') {
    delete copy.search;
    return copy;
  }
  const kept: Record<string, unknown> = { ...(search as Record<string, unknown>) };
  const under = (...prefix: PathSegment[]) => problems.filter((p) => prefix.every((seg, i) => p.path[i] === seg));
  const random = kept.random as { space?: Record<string, unknown> } | undefined;
  const spaceOnly = under('search', 'random').every((p) => p.path[2] === 'space' && p.path.length > 3);
  if (random && typeof random.space === 'object' && random.space !== null && spaceOnly) {
    // A bad distribution drops that parameter only: the others still get their range checks.
    const space = { ...random.space };
    for (const p of under('search', 'random', 'space')) delete space[String(p.path[3])];
    kept.random = { ...random, space };
  } else if (under('search', 'random').length > 0) {
    delete kept.random;
  }
  for (const key of ['paired', 'repeats']) if (under('search', key).length > 0) delete kept[key];
  copy.search = kept;
  return copy;
}

function withPath(p: Problem): string {
  return p.at === 'value' && p.path.length > 0 ? `${p.path.join('.')}: ${p.message}` : p.message;
}

/** A problem at or under the path a sweep value was written to is that value's doing. */
function overlaps(axisPath: string[], problemPath: PathSegment[]): boolean {
  if (problemPath.length < axisPath.length) return false;
  for (let i = 0; i < axisPath.length; i++) if (axisPath[i] !== String(problemPath[i])) return false;
  return true;
}

/**
 * Problems of the sweep axes themselves; returns the axes that cannot be expanded (not a
 * list, or not allowed), so the rest of the grid is still expanded and checked.
 */
function checkSweepAxes(
  experiment: Experiment,
  problems: Problem[],
  report: (path: PathSegment[], at: 'key' | 'value', message: string) => void,
): Set<string> {
  const bad = new Set<string>();
  const sweep = isRecord(experiment.sweep) ? experiment.sweep : {};
  for (const p of problems) if (p.path[0] === 'sweep' && p.path.length >= 2) bad.add(String(p.path[1]));
  const modelNames = isRecord(experiment.models) ? Object.keys(experiment.models) : [];
  for (const axis of Object.keys(sweep)) {
    const segments = axis.split('.');
    const root = segments[0]!;
    if (UNSWEEPABLE.includes(root)) {
      report(['sweep', axis], 'key', `'${axis}' cannot be swept: it changes where or how runs go, not what they compute`);
      bad.add(axis);
    } else if (root === 'models' && segments.length > 1 && segments[1] !== '*' && !modelNames.includes(segments[1]!)) {
      // Such an axis would apply to no run at all and silently vanish from the grid.
      const name = segments[1]!;
      const rest = segments.slice(2).join('.');
      report(
        ['sweep', axis],
        'key',
        `sweep axis '${axis}' names model '${name}', which is not declared under models` +
          (didYouMean(name, modelNames) || ` (declared: ${modelNames.join(', ')})`) +
          (rest ? ` (use 'models.*.${rest}' for whichever model a run trains)` : ''),
      );
      bad.add(axis);
    }
  }
  return bad;
}

function diagnose(source: SourceFile, overrides: Override[], path: PathSegment[], at: 'key' | 'value', message: string): Diagnostic {
  const override = overrideFor(overrides, path);
  if (override) return { file: '--set', line: 0, col: 0, message: `${override.arg}: ${message}` };
  return diagnosticForPath(source, path, at, message);
}
