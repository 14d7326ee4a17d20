import { describe, expect, it } from 'vitest';
import { formatMeanStd, groupLabel, groupRows, groupsCsv, groupsMarkdown, hasRepeats, type GroupInput } from '../src/report/seed-groups.js';
import { meanStd as stat } from '../src/report/stats.js';
import type { SummaryRow } from '../src/report/summary.js';

function row(run: string, status: string, accuracy: number | null, loss: number | null, seconds = 10): SummaryRow {
  return {
    run,
    status,
    epochs: 1,
    values: Object.fromEntries(run.split(',').map((p) => p.split('='))),
    test_accuracy: accuracy,
    test_loss: loss,
    train_accuracy: accuracy,
    train_loss: loss,
    best_test_accuracy: accuracy,
    time: '',
    seconds,
  };
}

describe('mean and standard deviation over seeds', () => {
  it('uses the sample standard deviation; one value has no spread; non-finite values are left out', () => {
    expect(stat([0.9, 0.92, 0.94])).toEqual({ mean: expect.closeTo(0.92, 12), std: expect.closeTo(0.02, 12), n: 3 });
    expect(stat([2, 4, 4, 4, 5, 5, 7, 9]).std).toBeCloseTo(2.13808993529939, 12);
    expect(stat([0.5])).toEqual({ mean: 0.5, std: null, n: 1 });
    expect(stat([])).toEqual({ mean: null, std: null, n: 0 });
    expect(stat([1, Number.NaN, 3])).toEqual({ mean: 2, std: expect.closeTo(Math.SQRT2, 12), n: 2 });
    expect(formatMeanStd(stat([0.9, 0.92, 0.94]))).toBe('0.9200 ± 0.0200');
    expect(formatMeanStd(stat([0.5]))).toBe('0.5000');
  });

  it('groups runs by config key, counts completed runs only, and drops the seed from the label and values', () => {
    const inputs: GroupInput[] = [
      { key: 'a', seed: 1, row: row('trial=1,hidden=64,seed=1', 'completed', 0.8, 0.6) },
      { key: 'a', seed: 2, row: row('trial=1,hidden=64,seed=2', 'completed', 0.9, 0.4) },
      { key: 'b', seed: 1, row: row('trial=2,hidden=128,seed=1', 'completed', 0.7, 0.9) },
      // Interrupted after one epoch: its numbers are not comparable with finished runs'.
      { key: 'b', seed: 2, row: row('trial=2,hidden=128,seed=2', 'interrupted', 0.1, 2.3) },
    ];
    const groups = groupRows(inputs);
    expect(hasRepeats(groups)).toBe(true);
    expect(groups.map((g) => [g.config, g.runs.length, g.completed, g.seeds])).toEqual([
      ['trial=1,hidden=64', 2, 2, [1, 2]],
      ['trial=2,hidden=128', 2, 1, [1, 2]],
    ]);
    expect(groups[0]!.values).toEqual({ trial: '1', hidden: '64' });
    expect(groups[0]!.stats.test_accuracy.mean).toBeCloseTo(0.85, 12);
    expect(groups[0]!.stats.test_accuracy.std).toBeCloseTo(Math.sqrt(0.005), 12);
    expect(groups[1]!.stats.test_accuracy).toEqual({ mean: 0.7, std: null, n: 1 });

    const csv = groupsCsv(groups).trim().split('\n');
    expect(csv[0]).toBe(
      'config,trial,hidden,runs,completed,seeds,test_accuracy_mean,test_accuracy_std,test_loss_mean,test_loss_std,' +
        'best_test_accuracy_mean,best_test_accuracy_std,train_accuracy_mean,train_accuracy_std,train_loss_mean,train_loss_std,seconds_mean,seconds_std',
    );
    expect(csv[1]!.startsWith('"trial=1,hidden=64",1,64,2,2,1 2,0.85')).toBe(true);
    expect(csv[2]).toMatch(/^"trial=2,hidden=128",2,128,2,1,1 2,0\.7,,0\.9,,/);

    const md = groupsMarkdown(groups);
    expect(md).toContain('| trial=1,hidden=64 | 1 | 64 | 2/2 | 0.8500 ± 0.0707 | 0.5000 ± 0.1414 |');
    expect(md).toContain('| trial=2,hidden=128 | 2 | 128 | 1/2 | 0.7000 | 0.9000 |');
  });

  it('runs of distinct configs are not repeats', () => {
    const groups = groupRows([
      { key: 'a', seed: 1, row: row('lr=1', 'completed', 0.8, 0.6) },
      { key: 'b', seed: 1, row: row('lr=2', 'completed', 0.8, 0.6) },
    ]);
    expect(hasRepeats(groups)).toBe(false);
  });

  it('labels: the seed part goes, everything else stays', () => {
    expect(groupLabel('trial=3,learningRate=0.00123,hidden=64,seed=43')).toBe('trial=3,learningRate=0.00123,hidden=64');
    expect(groupLabel('seed=1')).toBe('all');
    expect(groupLabel('model=cnn,seeds=x')).toBe('model=cnn,seeds=x');
  });
});
