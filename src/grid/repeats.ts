/**
 * `search.repeats: N`: every configuration trained with N seeds, the experiment's seed and
 * the N - 1 after it. Repeat 1 is therefore the very run the file would train without
 * repeats (same config, same identity), and raising N only adds runs.
 */
import { axisValue, type Point, type SearchStrategy } from './strategy.js';

export class Repeats implements SearchStrategy {
  readonly key = 'search.repeats';
  constructor(
    private readonly count: number,
    private readonly baseSeed: number,
  ) {}

  axes(): string[] {
    return ['seed'];
  }

  points(): Point[] {
    return Array.from({ length: this.count }, (_, r) => [axisValue('seed', this.baseSeed + r, r, ['search', 'repeats'])]);
  }
}
