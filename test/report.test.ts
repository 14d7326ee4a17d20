/** Grouping, the compare table, terminal fitting, the study's ETA and confusion.csv, on hand-made runs. */
import { describe, expect, it } from 'vitest';
import { compareGroups, compareRuns } from '../src/report/compare.js';
import { fitRows } from '../src/report/fit.js';
import { groupRuns, groupingOver, valueAt } from '../src/report/axis-groups.js';
import { renderRows } from '../src/report/rows.js';
import { meanStd } from '../src/report/stats.js';
import type { StudyRun } from '../src/report/study.js';
import { summaryTerminalTable } from '../src/report/summary-rows.js';
import { summaryTable } from '../src/report/summary.js';
import { StudyProgress } from '../src/runner/study-progress.js';
import { formatConfusion, parseConfusion, writeConfusion } from '../src/store/confusion-csv.js';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RunDir } from '../src/store/run-dir.js';
import { readExperiment } from '../src/report/study.js';
import { reportData } from '../src/report/html/data.js';
import { reportHtml } from '../src/report/html/page.js';

function run(id: string, values: Record<string, string | number>, accuracy: number, seconds: number, experiment = 'exp'): StudyRun {
  const model = String(values.model ?? 'cnn');
  return {
    experiment,
    id,
    dir: `/x/${id}`,
    status: 'completed',
    values,
    seed: Number(values.seed ?? 42),
    epochs: 2,
    epochsCompleted: 2,
    config: { seed: values.seed ?? 42, model, models: { [model]: { type: model, hidden: values['models.*.hidden'] ?? 8 } }, training: { learningRate: 0.001 } },
    metrics: [],
    final: { epoch: 2, test_accuracy: accuracy, test_loss: 1 - accuracy },
    bestTestAccuracy: accuracy,
    seconds,
    backend: 'wasm',
    backendNotes: [],
    machine: null,
    versions: {},
    confusion: null,
    error: null,
  };
}

const RUNS = [
  run('model=cnn,seed=1', { model: 'cnn', seed: 1 }, 0.9, 10),
  run('model=cnn,seed=2', { model: 'cnn', seed: 2 }, 0.8, 20),
  run('model=lstm,seed=1', { model: 'lstm', seed: 1 }, 0.7, 30),
  run('model=lstm,seed=2', { model: 'lstm', seed: 2 }, 0.5, 50),
];

describe('mean ± std', () => {
  it('sample standard deviation over the finite values', () => {
    expect(meanStd([1, 2, 3, 4])).toEqual({ mean: 2.5, std: Math.sqrt(5 / 3), n: 4 });
    expect(meanStd([0.5, null, NaN, undefined])).toEqual({ mean: 0.5, std: null, n: 1 });
    expect(meanStd([])).toEqual({ mean: null, std: null, n: 0 });
  });
});

describe('grouping', () => {
  it('finds values by axis, short label or config path', () => {
    const r = run('a', { model: 'lstm', 'models.*.hidden': 64 }, 0.5, 1);
    expect(valueAt(r, 'model')).toBe('lstm');
    expect(valueAt(r, 'models.*.hidden')).toBe(64);
    expect(valueAt(r, 'hidden')).toBe(64);
    expect(valueAt(r, 'training.learningRate')).toBe(0.001);
    expect(valueAt(r, 'model.type')).toBe('lstm');
    expect(valueAt(r, 'no.such.path')).toBeUndefined();
  });

  it('--over seed groups by the other axes: n and mean ± std per configuration', () => {
    expect(groupingOver(RUNS, ['seed'])).toEqual(['model']);
    const groups = groupRuns(RUNS, ['model']);
    expect(groups.map((g) => [g.key.model, g.runs.length])).toEqual([['cnn', 2], ['lstm', 2]]);
    expect(groups[0]!.stats.test_accuracy.mean).toBeCloseTo(0.85, 12);
    expect(groups[0]!.stats.test_accuracy.std).toBeCloseTo(Math.sqrt(0.005), 12);
    expect(groups[1]!.stats.seconds.mean).toBe(40);
  });

  it('runs of several experiments are told apart by experiment unless averaged over', () => {
    const other = RUNS.map((r) => ({ ...r, experiment: 'other' }));
    expect(groupingOver([...RUNS, ...other], ['seed'])).toEqual(['experiment', 'model']);
    expect(groupingOver([...RUNS, ...other], ['seed', 'experiment'])).toEqual(['model']);
  });
});

describe('xrun compare tables', () => {
  it('one row per run with its sweep values, in every format', () => {
    const table = compareRuns(RUNS);
    const text = renderRows(table, 'table').split('\n');
    expect(text[0]).toMatch(/^run\s+model\s+seed\s+status\s+epochs\s+test acc/);
    expect(text[1]).toMatch(/^model=cnn,seed=1\s+cnn\s+1\s+completed\s+2\/2\s+0\.9000/);
    const json = JSON.parse(renderRows(table, 'json'));
    expect(json[3]).toMatchObject({ run: 'model=lstm,seed=2', model: 'lstm', seed: 2, test_accuracy: 0.5, seconds: 50 });
  });

  it('grouped: mean ± std in text, separate mean and std columns in csv and json', () => {
    const table = compareGroups(RUNS, ['model']);
    const text = renderRows(table, 'table');
    expect(text).toMatch(/cnn\s+2\s+0\.8500 ± 0\.0707/);
    expect(text).toMatch(/lstm\s+2\s+0\.6000 ± 0\.1414/);
    expect(renderRows(table, 'md')).toContain('| cnn | 2 | 0.8500 ± 0.0707 |');
    const csv = renderRows(table, 'csv').split('\n');
    expect(csv[0]).toBe('model,n,test_accuracy_mean,test_accuracy_std,test_loss_mean,test_loss_std,best_test_accuracy_mean,best_test_accuracy_std,seconds_mean,seconds_std');
    const json = JSON.parse(renderRows(table, 'json'));
    expect(json[1].test_accuracy_mean).toBeCloseTo(0.6, 12);
    expect(json[1].test_accuracy_std).toBeCloseTo(Math.sqrt(0.02), 12);
  });
});

describe('terminal table', () => {
  it('drops columns, then shortens run ids, until it fits', () => {
    const long = summaryTable(
      ['model=bilstm,hidden=256,learningRate=0.001,epochs=6', 'model=cnn,hidden=64,learningRate=0.01,epochs=3'].map((id) => ({
        id,
        status: 'completed',
        rows: [{ epoch: 1, train_loss: 0.5, train_accuracy: 0.8, test_loss: 0.4, test_accuracy: 0.85, epoch_seconds: 3, elapsed_seconds: 63 }],
        trainingSeconds: 63,
        values: { model: 'x', hidden: 64, learningRate: 0.001, epochs: 3 },
      })),
    );
    const wide = summaryTerminalTable(long, 200).split('\n');
    expect(wide[0]).toMatch(/^run\s+status\s+epochs\s+model\s+hidden\s+learningRate\s+values\.epochs\s+test acc/);
    const narrow = summaryTerminalTable(long, 80).split('\n');
    for (const line of narrow) expect([...line].length).toBeLessThanOrEqual(80);
    expect(narrow[0]).toMatch(/test acc\s+test loss.*time$/);
    expect(narrow[1]).toMatch(/0\.8500\s+0\.4000.*01:03$/);
    const tiny = fitRows({ columns: [{ key: 'run' }, { key: 'acc' }], rows: [{ run: 'x'.repeat(60), acc: 0.5 }] }, 30, []);
    expect(tiny.text.split('\n')[1]).toMatch(/^x+… +0\.5$/);
    expect([...tiny.text.split('\n')[1]!].length).toBeLessThanOrEqual(30);
  });
});

describe('the study ETA', () => {
  it('extrapolates the work done so far to the runs left', () => {
    let now = 0;
    const study = new StudyProgress(() => now);
    study.start(['a', 'b'], 1);
    expect(study.line()).toBe('overall: 1/3 runs done, 00:00 elapsed, ETA --:--');
    const batch = (b: number) => ({ epoch: 1, epochs: 2, batch: b, batches: 10, loss: 1, accuracy: 0.5, seconds: 1 });
    // Start-up (workers, data loading) before the first batch does not count as training time.
    now = 5_000;
    study.batch('a', batch(1));
    now = 14_000;
    // 9 batches of run a (0.45 of it) in 9 s: 1.5 runs' work left at that pace is 30 s.
    study.batch('a', batch(10));
    expect(study.etaSeconds()).toBeCloseTo(30, 9);
    now = 20_000;
    study.ended('a', 'completed');
    expect(study.line()).toMatch(/^overall: 2\/3 runs done, 00:20 elapsed, ETA 00:\d\d$/);
    expect(study.etaSeconds()).toBeCloseTo((15 * 1) / 0.95, 9);
    study.ended('b', 'interrupted');
    expect(study.line()).toMatch(/^overall: 2\/3 runs done/);
  });
});

describe('confusion.csv', () => {
  it('round-trips, and rejects what is not a square matrix of counts', () => {
    const counts = [
      [5, 1, 0],
      [0, 7, 2],
      [1, 0, 9],
    ];
    const text = formatConfusion(counts);
    expect(text).toBe('true,0,1,2\n0,5,1,0\n1,0,7,2\n2,1,0,9\n');
    expect(parseConfusion(text)).toEqual(counts);
    expect(parseConfusion('true,0,1\n0,1\n')).toBeNull();
    expect(parseConfusion('true,0\n0,-1\n')).toBeNull();
    expect(parseConfusion('')).toBeNull();
  });
});

describe('reading an experiment that is still running or was stopped', () => {
  it('reads every run folder as it is, and the page embeds them', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'xrun-report-'));
    writeFileSync(join(dir, 'experiment.yaml'), '# header\n# --set overrides: ["training.epochs=3"]\nname: live\ndescription: "half done </script><!-- x"\n');
    const row = (epoch: number, acc: number) => ({ epoch, train_loss: 1, train_accuracy: 0.5, test_loss: 0.9, test_accuracy: acc, epoch_seconds: 2, elapsed_seconds: 2 * epoch });
    const base = { experiment: 'live', hash: 'h', seed: 1, epochs: 3, createdAt: '2026-01-01T00:00:00Z', trainingSeconds: 4 };
    const done = new RunDir(join(dir, 'model=cnn'));
    await done.writeRecord({ ...base, id: 'model=cnn', status: 'completed', values: { model: 'cnn' }, epochsCompleted: 3 });
    await done.resetMetrics([row(1, 0.5), row(2, 0.7), row(3, 0.6)]);
    await writeConfusion(done.path, [[3, 1], [0, 4]]);
    // Killed mid-run: its record still says running, but its process is gone.
    const killed = new RunDir(join(dir, 'model=lstm'));
    await killed.writeRecord({ ...base, id: 'model=lstm', status: 'running', values: { model: 'lstm' }, epochsCompleted: 1, pid: 2 ** 22 + 7 });
    await killed.resetMetrics([row(1, 0.4)]);
    const fresh = new RunDir(join(dir, 'model=gru'));
    await fresh.writeRecord({ ...base, id: 'model=gru', status: 'running', values: { model: 'gru' }, epochsCompleted: 0, trainingSeconds: 0, pid: process.pid });

    const experiment = await readExperiment(dir);
    expect(experiment).toMatchObject({ name: 'live', description: 'half done </script><!-- x', overrides: ['training.epochs=3'] });
    const byId = Object.fromEntries(experiment.runs.map((r) => [r.id, r]));
    // No validation split: no epoch is selected (the highest test accuracy would be a selection on test).
    expect(byId['model=cnn']).toMatchObject({ status: 'completed', epochsCompleted: 3, bestTestAccuracy: null, confusion: [[3, 1], [0, 4]] });
    expect(byId['model=cnn']!.final?.test_accuracy).toBe(0.6);
    expect(byId['model=lstm']).toMatchObject({ status: 'stopped', epochsCompleted: 1, confusion: null });
    expect(byId['model=gru']).toMatchObject({ status: 'running', epochsCompleted: 0, final: null, seconds: null });

    const html = reportHtml(reportData([experiment]));
    const json = /<script type="application\/json" id="xrun-data">([^<]*)<\/script>/.exec(html)?.[1];
    const data = JSON.parse(json!);
    expect(data.runs.map((r: { key: string }) => r.key).sort()).toEqual(['live/model=cnn', 'live/model=gru', 'live/model=lstm']);
    expect(data.experiments[0].description).toBe('half done </script><!-- x');
    expect(data.axes).toEqual([{ key: 'model', label: 'model', numeric: false }]);
    expect(html).toContain('--set training.epochs=3');
  });
});
