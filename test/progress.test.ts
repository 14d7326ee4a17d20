import { describe, expect, it, vi } from 'vitest';
import { PlainProgress } from '../src/runner/progress.js';

const batch = (b: number) => ({
  type: 'batch' as const,
  progress: { epoch: 1, epochs: 2, batch: b, batches: 10, loss: 0.5, accuracy: 0.75, seconds: b },
});

describe('plain progress (CI, pipes)', () => {
  it('prints one line per epoch and per outcome, skips listed first', () => {
    const lines: string[] = [];
    let clock = 0;
    const view = new PlainProgress((l) => lines.push(l), 60, () => clock);
    view.start([
      { id: 'a', action: 'skip', reason: 'completed, same config' },
      { id: 'b', action: 'run', reason: 'new' },
    ]);
    view.runStarted('b');
    view.event('b', batch(1));
    view.event('b', {
      type: 'epoch',
      epochs: 2,
      row: { epoch: 1, train_loss: 0.5, train_accuracy: 0.8, test_loss: 0.4, test_accuracy: 0.85, epoch_seconds: 3.21, elapsed_seconds: 3.21 },
    });
    clock = 5_000;
    view.runEnded('b', 'completed', 'test accuracy 0.8500');
    expect(lines).toEqual([
      '2 run(s): 1 to train, 1 skipped',
      '[a] skipped: completed, same config',
      '[b] started',
      '[b] epoch 1/2  train loss 0.5000 acc 80.0%  test loss 0.4000 acc 85.0%  3.2s',
      '[b] completed: test accuracy 0.8500',
      'overall: 2/2 runs done, 00:05 elapsed, all done',
    ]);
  });

  it('a long epoch gets a batch line at most once per interval', () => {
    vi.useFakeTimers({ toFake: ['performance'] });
    try {
      const lines: string[] = [];
      const view = new PlainProgress((l) => lines.push(l), 60);
      view.event('b', batch(1));
      vi.advanceTimersByTime(30_000);
      view.event('b', batch(2));
      vi.advanceTimersByTime(31_000);
      view.event('b', batch(3));
      view.event('b', batch(4));
      expect(lines).toEqual(['[b] epoch 1/2  batch 3/10  loss 0.5000 acc 75.0%  epoch ETA 00:07']);
    } finally {
      vi.useRealTimers();
    }
  });
});
