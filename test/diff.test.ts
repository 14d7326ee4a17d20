import { describe, expect, it } from 'vitest';
import { UsageError } from '../src/errors.js';
import { diffConfigs, diffMetrics, formatDiff, type RunDiff } from '../src/report/diff.js';
import type { MetricsRow } from '../src/store/metrics-row.js';

function row(epoch: number, acc: number, loss: number): MetricsRow {
  return {
    epoch,
    train_loss: loss * 0.9,
    train_accuracy: acc + 0.01,
    test_loss: loss,
    test_accuracy: acc,
    epoch_seconds: 12.5,
    elapsed_seconds: 12.5 * epoch,
  };
}

describe('diffConfigs', () => {
  it('reports changed, added and removed leaves with dotted paths', () => {
    const a = { seed: 1, models: { lstm: { hidden: 64, layers: 1 } }, name: 'mnist', dropout: null };
    const b = { seed: 2, models: { lstm: { hidden: 128 }, gru: { hidden: 32 } }, name: 'mnist', dropout: null };
    expect(diffConfigs(a, b)).toEqual([
      { path: 'seed', a: 1, b: 2 },
      { path: 'models.lstm.hidden', a: 64, b: 128 },
      { path: 'models.lstm.layers', a: 1, b: undefined },
      { path: 'models.gru.hidden', a: undefined, b: 32 },
    ]);
  });

  it('compares arrays element-wise', () => {
    expect(diffConfigs({ x: [1, 2, 3] }, { x: [1, 5] })).toEqual([
      { path: 'x.1', a: 2, b: 5 },
      { path: 'x.2', a: 3, b: undefined },
    ]);
    expect(diffConfigs({ l: [{ units: 8 }] }, { l: [{ units: 16 }] })).toEqual([
      { path: 'l.0.units', a: 8, b: 16 },
    ]);
  });

  it('treats type changes as one change and identical configs as none', () => {
    expect(diffConfigs({ x: [1] }, { x: { 0: 1 } })).toEqual([{ path: 'x', a: [1], b: { 0: 1 } }]);
    expect(diffConfigs({ x: null }, { x: 0 })).toEqual([{ path: 'x', a: null, b: 0 }]);
    expect(diffConfigs({ x: '1' }, { x: 1 })).toHaveLength(1);
    const c = { a: { b: [1, { c: 'd' }] }, n: Number.NaN };
    expect(diffConfigs(c, structuredClone(c))).toEqual([]);
    expect(diffConfigs({ a: 1, u: undefined }, { a: 1 })).toEqual([]);
    expect(diffConfigs({}, { e: {} })).toEqual([{ path: 'e', a: undefined, b: {} }]);
  });
});

describe('diffMetrics', () => {
  const a = [row(1, 0.9, 0.3), row(2, 0.95, 0.2), row(3, 0.97, 0.1)];
  const b = [row(2, 0.96, 0.25), row(1, 0.88, 0.35)];

  it('gives a, b and b - a per epoch and metric, union of epochs', () => {
    const d = diffMetrics(a, b, ['test_accuracy', 'test_loss']);
    expect(d).toEqual([
      { epoch: 1, metric: 'test_accuracy', a: 0.9, b: 0.88, delta: -0.02 },
      { epoch: 1, metric: 'test_loss', a: 0.3, b: 0.35, delta: 0.05 },
      { epoch: 2, metric: 'test_accuracy', a: 0.95, b: 0.96, delta: 0.01 },
      { epoch: 2, metric: 'test_loss', a: 0.2, b: 0.25, delta: 0.05 },
      { epoch: 3, metric: 'test_accuracy', a: 0.97, b: null, delta: null },
      { epoch: 3, metric: 'test_loss', a: 0.1, b: null, delta: null },
    ]);
  });

  it('defaults to the five per-epoch metrics and rejects unknown names', () => {
    const d = diffMetrics(a, b);
    expect(d.filter((x) => x.epoch === 1).map((x) => x.metric)).toEqual([
      'train_loss',
      'train_accuracy',
      'test_loss',
      'test_accuracy',
      'epoch_seconds',
    ]);
    expect(() => diffMetrics(a, b, ['accuracy'])).toThrow(UsageError);
  });

  it('has no delta when a value is NaN', () => {
    const bad = [{ ...row(1, 0.5, 0.1), test_loss: Number.NaN }];
    const [loss] = diffMetrics(bad, [row(1, 0.5, 0.2)], ['test_loss']);
    expect(loss?.delta).toBeNull();
  });
});

describe('formatDiff', () => {
  const diff: RunDiff = {
    a: { label: 'runs/mnist/001-lstm' },
    b: { label: 'runs/mnist/002-lstm' },
    config: diffConfigs({ hidden: 64, seed: 1 }, { hidden: 128, seed: 1, dropout: 0.2 }),
    metrics: diffMetrics(
      [row(1, 0.9, 0.3), row(2, 0.95, 0.2)],
      [row(1, 0.91234, 0.28)],
      ['test_accuracy', 'test_loss'],
    ),
  };

  it('table: config first, then aligned per-epoch a, b, signed delta', () => {
    const text = formatDiff(diff, 'table');
    const lines = text.split('\n');
    expect(lines.slice(0, 4)).toEqual(['a: runs/mnist/001-lstm', 'b: runs/mnist/002-lstm', '', 'config: 2 values differ']);
    expect(lines[4]).toMatch(/^ {2}path\s+a\s+b$/);
    expect(lines[5]).toMatch(/^ {2}hidden\s+64\s+128$/);
    expect(lines[6]).toMatch(/^ {2}dropout\s+\(missing\)\s+0\.2$/);
    const header = lines.findIndex((l) => l.trim().startsWith('epoch'));
    expect(lines[header - 1]).toMatch(/^\s+test_accuracy\s+test_loss$/);
    expect(lines[header]!.trim().split(/\s+/)).toEqual(['epoch', 'a', 'b', 'delta', 'a', 'b', 'delta']);
    expect(lines[header + 1]!.trim().split(/\s+/)).toEqual(['1', '0.9000', '0.9123', '+0.0123', '0.3000', '0.2800', '-0.0200']);
    expect(lines[header + 2]!.trim().split(/\s+/)).toEqual(['2', '0.9500', '0.2000']);
    // Right-aligned: every body line ends where the header line ends, or earlier when cells are blank.
    expect(lines[header + 1]!.length).toBe(lines[header]!.length);
  });

  it('table: says when configs are identical', () => {
    const text = formatDiff({ ...diff, config: [] }, 'table');
    expect(text.split('\n')[3]).toBe('config: identical');
  });

  it('csv: one wide row per epoch, full precision, blanks for a missing epoch', () => {
    const lines = formatDiff(diff, 'csv').trimEnd().split('\n');
    expect(lines[0]).toBe('epoch,test_accuracy.a,test_accuracy.b,test_accuracy.delta,test_loss.a,test_loss.b,test_loss.delta');
    expect(lines[1]).toBe('1,0.9,0.91234,0.01234,0.3,0.28,-0.02');
    expect(lines[2]).toBe('2,0.95,,,0.2,,');
  });

  it('json: config changes and a structured object per epoch', () => {
    const doc = JSON.parse(formatDiff(diff, 'json'));
    expect(doc.a).toEqual({ label: 'runs/mnist/001-lstm' });
    expect(doc.config).toEqual([
      { path: 'hidden', change: 'changed', a: 64, b: 128 },
      { path: 'dropout', change: 'added', b: 0.2 },
    ]);
    expect(doc.metrics).toEqual(['test_accuracy', 'test_loss']);
    expect(doc.epochs[0]).toEqual({
      epoch: 1,
      test_accuracy: { a: 0.9, b: 0.91234, delta: 0.01234 },
      test_loss: { a: 0.3, b: 0.28, delta: -0.02 },
    });
    expect(doc.epochs[1].test_loss).toEqual({ a: 0.2, b: null, delta: null });
  });

  it('md: a config table and a wide metrics table', () => {
    const md = formatDiff(diff, 'md');
    expect(md).toContain('### config: 2 values differ');
    expect(md).toContain('| hidden | 64 | 128 |');
    expect(md).toContain('| dropout | (missing) | 0.2 |');
    expect(md).toContain(
      '| epoch | test_accuracy.a | test_accuracy.b | test_accuracy.delta | test_loss.a | test_loss.b | test_loss.delta |',
    );
    expect(md).toContain('| 1 | 0.9000 | 0.9123 | +0.0123 | 0.3000 | 0.2800 | -0.0200 |');
    expect(md).toContain('| 2 | 0.9500 |  |  | 0.2000 |  |  |');
  });

  it('handles runs without epochs', () => {
    const empty = { ...diff, metrics: diffMetrics([], []) };
    expect(formatDiff(empty, 'table')).toContain('metrics: no epochs recorded');
    expect(JSON.parse(formatDiff(empty, 'json')).epochs).toEqual([]);
    expect(formatDiff(empty, 'csv')).toBe('epoch\n');
  });
});
