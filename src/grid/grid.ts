/** `sweep`: the Cartesian product of every axis' list of values. */
import { axisValue, type Point, type SearchStrategy } from './strategy.js';

export class GridSearch implements SearchStrategy {
  readonly key = 'sweep';
  constructor(private readonly sweep: Record<string, unknown[]>) {}

  axes(): string[] {
    return Object.keys(this.sweep);
  }

  points(): Point[] {
    let points: Point[] = [[]];
    for (const axis of this.axes()) {
      const values = this.sweep[axis]!;
      points = points.flatMap((head) => values.map((v, i) => [...head, axisValue(axis, v, i, ['sweep', axis, i])]));
    }
    return points;
  }
}
