/**
 * `search.paired`: axes that vary together. The i-th run takes the i-th value of every
 * list, so three lists of three values give three runs, not 27.
 */
import { axisValue, type Point, type SearchProblem, type SearchStrategy } from './strategy.js';

export class PairedSearch implements SearchStrategy {
  readonly key = 'search.paired';
  constructor(private readonly paired: Record<string, unknown[]>) {}

  axes(): string[] {
    return Object.keys(this.paired);
  }

  points(): Point[] {
    const axes = this.axes();
    if (axes.length === 0) return [[]];
    const n = Math.min(...axes.map((a) => this.paired[a]!.length));
    return Array.from({ length: n }, (_, i) =>
      axes.map((axis) => axisValue(axis, this.paired[axis]![i], i, ['search', 'paired', axis, i])),
    );
  }

  problems(): SearchProblem[] {
    const axes = this.axes();
    if (axes.length < 2) return [];
    const first = axes[0]!;
    const n = this.paired[first]!.length;
    return axes
      .filter((a) => this.paired[a]!.length !== n)
      .map((a) => ({
        path: ['search', 'paired', a],
        at: 'value' as const,
        message:
          `search.paired: '${a}' has ${this.paired[a]!.length} value(s) but '${first}' has ${n}; ` +
          'paired lists vary together, so give every list the same length (use sweep for a product)',
      }));
  }
}
