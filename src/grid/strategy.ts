/**
 * Search strategies: each turns one part of the experiment file into a list of points,
 * a point being the values one run takes on that strategy's axes. Strategies compose as
 * a product (every grid point with every paired point with every random trial with every
 * repeat), and `expand.ts` turns each combined point into a run config.
 *
 * Implementations sit side by side in this folder: grid.ts (`sweep`, the Cartesian
 * product), paired.ts (`search.paired`, axes that vary together), random.ts
 * (`search.random`, seeded trials from a space) and repeats.ts (`search.repeats`, seeds).
 */

/** A path into the experiment file, as the config layer's diagnostics take it. */
export type FilePath = (string | number)[];

export interface AxisValue {
  /** The axis as written, e.g. `models.*.hidden`; `trial` for a random trial's number. */
  axis: string;
  /** The path this value was written to, `*` replaced by the run's model; empty for labels such as `trial`. */
  path: string[];
  value: unknown;
  /** Position of the value in the axis' list (grid and paired axes; 0 otherwise). */
  valueIndex: number;
  /** Where in the file this value comes from, for pointing at it in an error. */
  at?: FilePath;
  /** A label for the run (trial number) rather than a value written into its config. */
  label?: boolean;
}

/** One run's values on one strategy's axes, before `*` is resolved (path holds the axis split on dots). */
export type Point = AxisValue[];

export interface SearchStrategy {
  /** The file key the strategy reads, for messages: `sweep`, `search.paired`, ... */
  readonly key: string;
  /** The axes (dotted paths) it sets; two strategies may not set the same one. */
  axes(): string[];
  /** Its points, in a stable order; a strategy with nothing to vary has the one empty point. */
  points(): Point[];
}

/** A problem with a strategy's own settings, found before anything is expanded. */
export interface SearchProblem {
  path: FilePath;
  at: 'key' | 'value';
  message: string;
}

/** Every combination of one point from each strategy, in order (the last varies fastest). */
export function composePoints(strategies: readonly SearchStrategy[]): Point[] {
  let combined: Point[] = [[]];
  for (const strategy of strategies) {
    const points = strategy.points();
    combined = combined.flatMap((head) => points.map((p) => [...head, ...p]));
  }
  return combined;
}

export function axisValue(axis: string, value: unknown, valueIndex: number, at: FilePath): AxisValue {
  return { axis, path: axis.split('.'), value, valueIndex, at };
}
