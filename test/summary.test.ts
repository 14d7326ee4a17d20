import { describe, expect, it } from 'vitest';
import {
  formatDuration,
  summaryCsv,
  summaryMarkdown,
  summaryTable,
  type RunSummaryInput,
} from '../src/report/summary.js';
import type { MetricsRow } from '../src/store/metrics-row.js';

function row(epoch: number, testAccuracy: number, testLoss: number, valAccuracy?: number): MetricsRow {
  return {
    epoch,
    train_loss: testLoss - 0.01,
    train_accuracy: testAccuracy + 0.005,
    ...(valAccuracy === undefined ? {} : { val_loss: 1 - valAccuracy, val_accuracy: valAccuracy }),
    test_loss: testLoss,
    test_accuracy: testAccuracy,
    epoch_seconds: 10,
    elapsed_seconds: 10 * epoch,
  };
}

/** RFC 4180 reader, enough to check that the output round-trips. */
function parseCsv(text: string): string[][] {
  const out: string[][] = [];
  let rowCells: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      rowCells.push(cell);
      cell = '';
    } else if (ch === '\n') {
      rowCells.push(cell);
      out.push(rowCells);
      rowCells = [];
      cell = '';
    } else if (ch !== '\r') cell += ch;
  }
  if (cell !== '' || rowCells.length > 0) out.push([...rowCells, cell]);
  return out;
}

const runs: RunSummaryInput[] = [
  {
    id: '001-cnn',
    status: 'done',
    // Out of order on purpose: the final epoch is the highest, not the last given.
    // The best epoch is chosen on validation (epoch 1), not on test (epoch 2).
    rows: [row(2, 0.9871, 0.0412, 0.96), row(1, 0.97, 0.09, 0.97), row(3, 0.9855, 0.0398, 0.95)],
    trainingSeconds: 526.4,
    values: { model: 'cnn', hidden: 64 },
    stoppedEarly: { epoch: 3, reason: 'early stopping: val_loss did not improve' },
  },
  {
    id: '002-lstm',
    status: 'done',
    rows: [row(1, 0.95, 0.16), row(2, 0.9912345, 0.05)],
    trainingSeconds: 3723,
    values: { model: 'lstm', hidden: 128, layers: [64, 32] },
  },
  {
    id: '003-gru',
    status: 'failed',
    rows: [],
    trainingSeconds: 0,
    values: { model: 'a,"quoted"|pipe', hidden: 128 },
  },
];

describe('formatDuration', () => {
  it('formats MM:SS and H:MM:SS', () => {
    expect(formatDuration(0)).toBe('00:00');
    expect(formatDuration(526)).toBe('08:46');
    expect(formatDuration(59.6)).toBe('01:00');
    expect(formatDuration(3599.4)).toBe('59:59');
    expect(formatDuration(3600)).toBe('1:00:00');
    expect(formatDuration(3723)).toBe('1:02:03');
    expect(formatDuration(36_000 + 61)).toBe('10:01:01');
    expect(formatDuration(Number.NaN)).toBe('');
    expect(formatDuration(-3)).toBe('00:00');
  });
});

describe('summaryTable', () => {
  it('takes the final epoch, the best-on-validation epoch and the training time', () => {
    const [cnn, lstm, gru] = summaryTable(runs);
    expect(cnn).toMatchObject({
      run: '001-cnn',
      status: 'done',
      epochs: 3,
      test_accuracy: 0.9855,
      test_loss: 0.0398,
      best_epoch: 1,
      best_test_accuracy: 0.97,
      time: '08:46',
      seconds: 526.4,
      values: { model: 'cnn', hidden: 64 },
    });
    expect(lstm?.time).toBe('1:02:03');
    // Without validation nothing is selected on test.
    expect(lstm).toMatchObject({ best_epoch: null, best_test_accuracy: null });
    expect(gru).toMatchObject({
      status: 'failed',
      epochs: 0,
      test_accuracy: null,
      test_loss: null,
      best_epoch: null,
      best_test_accuracy: null,
      time: '',
      seconds: null,
    });
  });
});

describe('summaryMarkdown', () => {
  const md = summaryMarkdown(summaryTable(runs), 'MNIST results');
  const lines = md.trimEnd().split('\n').slice(0, 7);

  it('has a heading and a GitHub table with the sweep columns', () => {
    expect(lines[0]).toBe('## MNIST results');
    expect(lines[2]).toBe(
      '| run | status | epochs | model | hidden | layers | test accuracy | test loss | train accuracy | train loss | best epoch | test accuracy at best | time |',
    );
    expect(lines[3]).toMatch(/^\| --- \| --- \| ---: \| --- \| ---: \| --- \|( ---: \|){7}$/);
    expect(lines).toHaveLength(7);
  });

  it('says which epoch the numbers come from, and which runs stopped early', () => {
    expect(md).toContain("Test metrics are from each run's final epoch. *best epoch* is chosen on the validation split");
    expect(md).toContain('- 001-cnn: stopped after epoch 3; early stopping: val_loss did not improve.');
    const plain = summaryMarkdown(summaryTable([runs[1]!]), '');
    expect(plain).toContain('No epoch is selected: without a validation split');
  });

  it('bolds the best test accuracy and the lowest test loss only', () => {
    const lstm = lines[5]!;
    const cnn = lines[4]!;
    expect(lstm).toContain('| **0.9912** | 0.0500 |');
    expect(cnn).toContain('| 0.9855 | **0.0398** |');
    expect(md.match(/\*\*/g)).toHaveLength(4);
    expect(lstm).toContain('| [64,32] |');
    expect(lstm).toContain('| 1:02:03 |');
  });

  it('keeps a failed run with its status and blank metrics, escaping pipes', () => {
    expect(lines[6]).toBe('| 003-gru | failed | 0 | a,"quoted"\\|pipe | 128 |  |  |  |  |  |  |  |  |');
  });
});

describe('summaryCsv', () => {
  it('parses back with a header and full precision', () => {
    const parsed = parseCsv(summaryCsv(summaryTable(runs)));
    expect(parsed[0]).toEqual([
      'run',
      'status',
      'epochs',
      'model',
      'hidden',
      'layers',
      'test_accuracy',
      'test_loss',
      'train_accuracy',
      'train_loss',
      'best_epoch',
      'best_test_accuracy',
      'time',
      'seconds',
    ]);
    expect(parsed).toHaveLength(4);
    const [, cnn, lstm, gru] = parsed;
    expect(cnn).toEqual([
      '001-cnn', 'done', '3', 'cnn', '64', '',
      '0.9855', '0.0398', String(0.9855 + 0.005), String(0.0398 - 0.01), '1', '0.97', '08:46', '526.4',
    ]);
    expect(lstm?.[5]).toBe('[64,32]');
    expect(Number(lstm?.[6])).toBe(0.9912345);
    expect(gru?.slice(0, 4)).toEqual(['003-gru', 'failed', '0', 'a,"quoted"|pipe']);
    expect(gru?.slice(6)).toEqual(['', '', '', '', '', '', '', '']);
  });

  it('renames a sweep key that collides with a fixed column', () => {
    const rows = summaryTable([{ ...runs[0]!, values: { epochs: 3, model: 'cnn' } }]);
    const [header] = parseCsv(summaryCsv(rows));
    expect(header?.slice(0, 5)).toEqual(['run', 'status', 'epochs', 'values.epochs', 'model']);
  });
});
