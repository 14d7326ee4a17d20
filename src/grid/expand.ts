/**
 * Sweep expansion: the Cartesian product of the sweep axes, one cell per combination.
 * Pure data in, data out; validation and error positions are the config layer's job.
 *
 * Each cell becomes a self-contained run config: the sweep values are written into
 * their paths, `model` names the model the run trains, and `models` keeps only that
 * model. An axis under `models.<name>` does not apply to runs of another model, so it
 * is left out of their values and id, and the cells that then coincide are merged:
 * sweeping `model: [cnn, lstm]` with `models.lstm.hidden: [64, 128]` gives 3 runs, not 4.
 */

export interface AxisValue {
  /** The sweep key as written, e.g. `models.*.hidden`. */
  axis: string;
  /** The path this value was written to, `*` replaced by the run's model. */
  path: string[];
  value: unknown;
  /** Position of the value in the axis' list, for pointing at it in the file. */
  valueIndex: number;
}

export interface GridCell {
  id: string;
  /** The sweep values that apply to this run, in axis order. */
  values: AxisValue[];
  /** The model this run trains, when one can be determined. */
  model: string | undefined;
  /** The run's config: the experiment with sweep values applied, no `sweep`, one model. */
  config: Record<string, unknown>;
}

export interface Grid {
  cells: GridCell[];
  /** Product of the axis lengths. */
  total: number;
  /** Cells merged because they only differed in axes that do not apply to their model. */
  merged: number;
}

type Json = Record<string, unknown>;

export function expandGrid(experiment: Json): Grid {
  const sweep = (experiment.sweep ?? {}) as Record<string, unknown[]>;
  // The model axis goes first: `models.*.x` needs to know which model it addresses.
  const axes = Object.keys(sweep).sort((a, b) => Number(b === 'model') - Number(a === 'model'));
  const total = axes.reduce((n, a) => n * sweep[a]!.length, 1);
  const shortNames = shortAxisNames(axes);
  const byId = new Map<string, GridCell>();
  for (const combo of product(axes.map((a) => sweep[a]!.length))) {
    const config = structuredClone(experiment);
    delete config.sweep;
    const values: AxisValue[] = [];
    axes.forEach((axis, i) => {
      const valueIndex = combo[i]!;
      const value = sweep[axis]![valueIndex];
      const model = selectedModel(config);
      const path = axis.split('.').map((seg, j) => (j === 1 && seg === '*' && axis.startsWith('models.') ? (model ?? '*') : seg));
      if (!appliesTo(path, model)) return;
      setPath(config, path, structuredClone(value));
      values.push({ axis, path, value, valueIndex });
    });
    const model = selectedModel(config);
    if (model !== undefined) {
      config.model = model;
      const models = config.models as Json | undefined;
      if (models && model in models) config.models = { [model]: models[model] };
    }
    const id = runId(values, shortNames, model);
    if (!byId.has(id)) byId.set(id, { id, values, model, config });
  }
  // Axis order in the file is the order users expect in ids; `model` was only moved for resolution.
  return { cells: [...byId.values()], total, merged: total - byId.size };
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

function* product(lengths: number[]): Generator<number[]> {
  if (lengths.some((n) => n === 0)) return;
  const idx = lengths.map(() => 0);
  while (true) {
    yield [...idx];
    let k = lengths.length - 1;
    while (k >= 0 && ++idx[k]! === lengths[k]) idx[k--] = 0;
    if (k < 0) return;
  }
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
