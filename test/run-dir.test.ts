import { appendFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RunStoreError } from '../src/errors.js';
import type { MetricsRow } from '../src/store/metrics-row.js';
import { parseMetricsCsv, RunDir } from '../src/store/run-dir.js';

const row = (epoch: number): MetricsRow => ({
  epoch,
  train_loss: 1 / epoch,
  train_accuracy: 0.5 + epoch / 100,
  test_loss: 0.123456789012345,
  test_accuracy: 0.9,
  epoch_seconds: 1.5,
  elapsed_seconds: 1.5 * epoch,
});

describe('run folder files', () => {
  it('metrics.csv: exact header, one full-precision row per epoch, read back equal', async () => {
    const store = new RunDir(mkdtempSync(join(tmpdir(), 'xrun-run-')));
    await store.resetMetrics();
    await store.appendMetrics(row(1));
    await store.appendMetrics(row(2));
    const text = readFileSync(store.metricsFile, 'utf8');
    expect(text.split('\n')[0]).toBe('epoch,train_loss,train_accuracy,test_loss,test_accuracy,epoch_seconds,elapsed_seconds');
    expect(text.split('\n')[2]).toBe('2,0.5,0.52,0.123456789012345,0.9,1.5,3');
    expect(await store.readMetrics()).toEqual([row(1), row(2)]);
  });

  it('a torn last line (kill during append) is dropped, not trusted', async () => {
    const store = new RunDir(mkdtempSync(join(tmpdir(), 'xrun-run-')));
    await store.resetMetrics([row(1)]);
    appendFileSync(store.metricsFile, '2,0.5,0.5');
    expect(await store.readMetrics()).toEqual([row(1)]);
    await store.appendMetrics(row(2));
    expect(await store.readMetrics()).toEqual([row(1), row(2)]);
  });

  it('a CSV without an epoch column is rejected with the file named', () => {
    expect(() => parseMetricsCsv('a,b\n1,2\n', 'x.csv')).toThrow(/x\.csv has no 'epoch' column/);
  });

  it('run.json round-trips; a corrupt one is reported, never trusted', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'xrun-run-'));
    const store = new RunDir(dir);
    expect(await store.readRecord()).toBeUndefined();
    const record = {
      id: 'model=cnn',
      experiment: 'e',
      status: 'completed' as const,
      hash: 'abc',
      values: { model: 'cnn' },
      seed: 1,
      epochs: 2,
      epochsCompleted: 2,
      createdAt: 'now',
      trainingSeconds: 3,
    };
    await store.writeRecord(record);
    expect(await store.readRecord()).toEqual(record);
    writeFileSync(join(dir, 'run.json'), '{"id": "model=cnn", "stat');
    await expect(store.readRecord()).rejects.toThrow(RunStoreError);
    await expect(store.readRecord()).rejects.toThrow(/run\.json is corrupt/);
  });
});
