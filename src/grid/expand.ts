/**
 * Expansion of an experiment's searches into runs: the `sweep` grid, `search.paired`,
 * `search.random` and `search.repeats` (see strategy.ts), composed as a product, one cell
 * per combined point. Pure data in, data out; validation and error positions are the
 * config layer's job, with the file positions each value carries in `at`.
 *
 * Each cell becomes a self-contained run config: the values are written into their
 * paths, `model` names the model the run trains, and `models` keeps only that model. An
 * axis under `models.<name>` does not apply to runs of another model, so it is left out
 * of their values and id, and the cells that then coincide are merged: sweeping
 * `model: [cnn, lstm]` with `models.lstm.hidden: [64, 128]` gives 3 runs, not 4.
 */
import { GridSearch } from './grid.js';
import { PairedSearch } from './paired.js';
import { RandomSearch, type RandomSpec } from './random.js';
import { Repeats } from './repeats.js';
import { composePoints, type AxisValue, type SearchProblem, type SearchStrategy } from './strategy.js';

export type { AxisValue } from './strategy.js';

export interface GridCell {
  id: string;
  /** The values that apply to this run (sweep, paired, trial and drawn values, seed), model first. */
  values: AxisValue[];
  /** The model this run trains, when one can be determined. */
  model: string | undefined;
  /** The run's config: the experiment with the values applied, no `sweep`/`search`, one model. */
  config: Record<string, unknown>;
}

export interface Grid {
  cells: GridCell[];
  /** Product of the strategies' sizes. */
  total: number;
  /** Cells merged because they only differed in axes that do not apply to their model. */
  merged: number;
}

type Json = Record<string, unknown>;

export interface SearchSpec {
  paired?: Record<string, unknown[]>;
  random?: RandomSpec;
  repeats?: number;
}

/** The strategies an experiment declares, in the order their values appear in run ids. */
export function searchStrategies(experiment: Json, defaultSeed: number): SearchStrategy[] {
  const search = (experiment.search ?? {}) as SearchSpec;
  const seed = typeof experiment.seed === 'number' ? experiment.seed : defaultSeed;
  const strategies: SearchStrategy[] = [new GridSearch((experiment.sweep ?? {}) as Record<string, unknown[]>)];
  if (search.paired) strategies.push(new PairedSearch(search.paired));
  if (search.random) strategies.push(new RandomSearch(search.random, seed));
  if (search.repeats !== undefined && search.repeats > 1) strategies.push(new Repeats(search.repeats, seed));
  return strategies;
}

/** Keys a search may not set: they change where or how runs go, not what they compute. */
const UNSEARCHABLE = ['name', 'output', 'sweep', 'search', 'runtime', 'description'];

/**
 * Problems with the search settings themselves (paired lists of different lengths, empty
 * ranges, an axis set by two strategies), for the config layer to report with positions.
 */
export function checkSearch(experiment: Json, defaultSeed: number): SearchProblem[] {
  const search = (experiment.search ?? {}) as SearchSpec;
  const out: SearchProblem[] = [];
  if (search.paired) out.push(...new PairedSearch(search.paired).problems());
  if (search.random) out.push(...new RandomSearch(search.random, defaultSeed).problems());
  const owner = new Map<string, string>();
  const keyPath = (key: string, axis: string) =>
    key === 'sweep' ? ['sweep', axis] : key === 'search.random' ? ['search', 'random', 'space', axis] : key === 'search.repeats' ? ['search', 'repeats'] : ['search', 'paired', axis];
  for (const strategy of searchStrategies(experiment, defaultSeed)) {
    for (const axis of strategy.axes()) {
      const first = owner.get(axis);
      if (first !== undefined) {
        const what = strategy.key === 'search.repeats' ? 'search.repeats sets the seed of every run' : `'${axis}' is also set by ${strategy.key}`;
        out.push({
          path: keyPath(strategy.key, axis),
          at: 'key',
          message: `${what}, but ${first} already varies '${axis}'; an axis can belong to one search only`,
        });
      } else {
        owner.set(axis, strategy.key);
      }
      if (strategy.key !== 'sweep' && strategy.key !== 'search.repeats' && UNSEARCHABLE.includes(axis.split('.')[0]!)) {
        out.push({ path: keyPath(strategy.key, axis), at: 'key', message: `'${axis}' cannot be searched: it changes where or how runs go, not what they compute` });
      }
    }
  }
  return out;
}

export function expandGrid(experiment: Json, defaultSeed = 42): Grid {
  const points = composePoints(searchStrategies(experiment, defaultSeed));
  const axes = [...new Set(points.flatMap((p) => p.map((v) => v.axis)))];
  const shortNames = shortAxisNames(axes);
  const byId = new Map<string, GridCell>();
  for (const point of points) {
    const config = structuredClone(experiment);
    delete config.sweep;
    delete config.search;
    // The model goes first: `models.*.x` needs to know which model it addresses.
    const ordered = [...point].sort((a, b) => Number(b.axis === 'model') - Number(a.axis === 'model'));
    const values: AxisValue[] = [];
    for (const v of ordered) {
      if (v.label) {
        values.push(v);
        continue;
      }
      const model = selectedModel(config);
      const path = v.axis.split('.').map((seg, j) => (j === 1 && seg === '*' && v.axis.startsWith('models.') ? (model ?? '*') : seg));
      if (!appliesTo(path, model)) continue;
      setPath(config, path, structuredClone(v.value));
      values.push({ ...v, path });
    }
    const model = selectedModel(config);
    if (model !== undefined) {
      config.model = model;
      const models = config.models as Json | undefined;
      if (models && model in models) config.models = { [model]: models[model] };
    }
    const id = runId(values, shortNames, model);
    if (!byId.has(id)) byId.set(id, { id, values, model, config });
  }
  return { cells: [...byId.values()], total: points.length, merged: points.length - byId.size };
}

/** The run's model: `model` if set, else the only entry of `models`. */
function selectedModel(config: Json): string | undefined {
  if (typeof config.model === 'string') return config.model;
  const names = Object.keys((config.models as Json | undefined) ?? {});
  return names.length === 1 ? names[0] : undefined;
}

function appliesTo(path: string[], model: string | undefined): boolean {
  return !(path[0] === 'models' && path.length > 2 && model !== undefined && path[1] !== model && path[1] !== '*');
}

function setPath(target: Json, path: string[], value: unknown): void {
  let node = target;
  for (const [i, seg] of path.slice(0, -1).entries()) {
    const next = node[seg];
    // A list is kept when the path goes on by index (`models.s.layers.0.filters`).
    const intoList = Array.isArray(next) && /^\d+$/.test(path[i + 1]!);
    if (next === null || typeof next !== 'object' || (Array.isArray(next) && !intoList)) node[seg] = {};
    node = node[seg] as Json;
  }
  node[path[path.length - 1]!] = value;
}

/** `models.*.hidden` -> `hidden`, unless two axes end the same; then the full key. */
function shortAxisNames(axes: string[]): Map<string, string> {
  const last = (a: string) => a.split('.').pop()!;
  const counts = new Map<string, number>();
  for (const a of axes) counts.set(last(a), (counts.get(last(a)) ?? 0) + 1);
  return new Map(axes.map((a) => [a, counts.get(last(a))! > 1 ? a : last(a)]));
}

/** A readable, filesystem-safe id from the run's sweep values: `model=lstm,hidden=128`. */
function runId(values: AxisValue[], shortNames: Map<string, string>, model: string | undefined): string {
  const parts = values.map((v) => `${shortNames.get(v.axis)}=${formatValue(v.value)}`);
  if (!values.some((v) => v.axis === 'model') && model !== undefined && parts.length === 0) parts.push(`model=${model}`);
  const id = parts.join(',') || 'run';
  return id.replace(/[^A-Za-z0-9._=,+*-]/g, '_');
}

export function formatValue(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}
