/**
 * `search.random`: `trials` runs, each drawing every parameter of `space` at random.
 *
 * Trial i's value of a parameter depends only on (seed, i, parameter path): the same file
 * always draws the same trials, raising `trials` keeps the trials already drawn (so their
 * finished runs are reused), and adding a parameter leaves the others' draws alone.
 * Continuous draws are rounded to 3 significant digits, so run ids and tables stay
 * readable and the id says exactly which value ran.
 */
import { deriveSeed, Rng } from '../util/random.js';
import { axisValue, type AxisValue, type Point, type SearchProblem, type SearchStrategy } from './strategy.js';

export type Distribution =
  | { choice: unknown[] }
  | { uniform: [number, number] }
  | { loguniform: [number, number] }
  | { int: [number, number] }
  | { logint: [number, number] };

export interface RandomSpec {
  trials: number;
  seed?: number;
  space: Record<string, Distribution>;
}

export const DIGITS = 3;

export class RandomSearch implements SearchStrategy {
  readonly key = 'search.random';
  /** @param fallbackSeed the experiment's seed, used when the spec names none. */
  constructor(
    private readonly spec: RandomSpec,
    private readonly fallbackSeed: number,
  ) {}

  axes(): string[] {
    return Object.keys(this.spec.space);
  }

  points(): Point[] {
    const seed = this.spec.seed ?? this.fallbackSeed;
    return Array.from({ length: this.spec.trials }, (_, t) => {
      const trial = t + 1;
      const label: AxisValue = { axis: 'trial', path: [], value: trial, valueIndex: t, at: ['search', 'random', 'trials'], label: true };
      const drawn = this.axes().map((axis) => {
        const dist = this.spec.space[axis]!;
        const value = draw(dist, new Rng(deriveSeed(seed, 'trial', trial, axis)));
        return axisValue(axis, value, t, ['search', 'random', 'space', axis, kindOf(dist)]);
      });
      return [label, ...drawn];
    });
  }

  problems(): SearchProblem[] {
    const out: SearchProblem[] = [];
    for (const [axis, dist] of Object.entries(this.spec.space)) {
      const kind = kindOf(dist);
      if (kind === 'choice') continue;
      const [lo, hi] = (dist as Record<string, [number, number]>)[kind]!;
      const at = ['search', 'random', 'space', axis, kind];
      const fail = (message: string) => out.push({ path: at, at: 'value', message: `search.random.space.${axis}.${kind}: ${message}` });
      if (kind === 'int' || kind === 'logint' ? lo > hi : lo >= hi) {
        fail(`the range must be [low, high] with low ${kind === 'int' || kind === 'logint' ? '<=' : '<'} high, got [${lo}, ${hi}]`);
      } else if ((kind === 'loguniform' || kind === 'logint') && lo <= 0) {
        fail(`a log scale needs low > 0, got ${lo}; use uniform or int for ranges that include 0`);
      }
    }
    return out;
  }
}

export function kindOf(dist: Distribution): keyof (Distribution & object) & string {
  return Object.keys(dist)[0] as never;
}

/** One draw; `rng` is fresh for each (trial, parameter), so draws never shift one another. */
export function draw(dist: Distribution, rng: Rng): unknown {
  if ('choice' in dist) return structuredClone(dist.choice[rng.int(dist.choice.length)]);
  if ('uniform' in dist) return round(dist.uniform[0] + rng.next() * (dist.uniform[1] - dist.uniform[0]));
  if ('loguniform' in dist) {
    const [lo, hi] = dist.loguniform.map(Math.log) as [number, number];
    // Rounding can step just outside the range at its ends; clamp back in.
    return clamp(round(Math.exp(lo + rng.next() * (hi - lo))), dist.loguniform);
  }
  if ('int' in dist) return dist.int[0] + rng.int(dist.int[1] - dist.int[0] + 1);
  const [lo, hi] = [Math.log(dist.logint[0]), Math.log(dist.logint[1] + 1)];
  return Math.min(dist.logint[1], Math.floor(Math.exp(lo + rng.next() * (hi - lo))));
}

function round(x: number): number {
  return Number(x.toPrecision(DIGITS));
}

function clamp(x: number, [lo, hi]: [number, number]): number {
  return Math.min(hi, Math.max(lo, x));
}
