/** The CLI end to end, as a user runs it, on a tiny real-MNIST experiment. */
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { METRICS_COLUMNS } from '../src/store/metrics-row.js';

/** Processes whose working folder is `dir`: what a command run there left behind. */
function processesIn(dir: string): number[] {
  const found: number[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      if (readlinkSync(`/proc/${pid}/cwd`) === dir) found.push(Number(pid));
    } catch {
      // Gone meanwhile, or not ours to look at.
    }
  }
  return found;
}
import { tempProject, tinyExperiment, xrun } from './helpers/cli.js';

const RUN_FILES = [
  'config.yaml',
  'metrics.csv',
  'run.json',
  'confusion.csv',
  'checkpoints/last/model.json',
  'checkpoints/last/weights.bin',
  'plots/training.svg',
  'plots/training.png',
  'plots/training.vl.json',
];

describe('xrun run', () => {
  let dir: string;
  let first: ReturnType<typeof xrun>;
  beforeAll(() => {
    dir = tempProject({ 'exp.yaml': tinyExperiment('tiny', 'sweep:\n  model: [cnn, lstm]\n') });
    first = xrun(['exp.yaml'], dir);
  }, 300_000);

  it('trains every run and writes every file', () => {
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    const out = join(dir, 'runs/tiny');
    expect(readdirSync(out).sort()).toEqual(['experiment.yaml', 'model=cnn', 'model=lstm', 'plots', 'report.html', 'summary.csv', 'summary.md']);
    for (const run of ['model=cnn', 'model=lstm']) {
      for (const f of RUN_FILES) expect(existsSync(join(out, run, f)), `${run}/${f}`).toBe(true);
      const csv = readFileSync(join(out, run, 'metrics.csv'), 'utf8').trim().split('\n');
      expect(csv[0]).toBe(METRICS_COLUMNS.join(','));
      expect(csv.slice(1).map((l) => l.split(',')[0])).toEqual(['1', '2']);
      const record = JSON.parse(readFileSync(join(out, run, 'run.json'), 'utf8'));
      expect(record.status).toBe('completed');
      expect(record.backend.name).toBe('wasm');
      expect(record.versions['@tensorflow/tfjs-core']).toMatch(/^4\./);
      expect(record.final.epoch).toBe(2);
      expect(record.final.test_accuracy).toBeGreaterThan(0.1);
      expect(Date.parse(record.endedAt)).toBeGreaterThanOrEqual(Date.parse(record.startedAt));
      // No validation split: no epoch is selected, so there is no best checkpoint.
      expect(existsSync(join(out, run, 'checkpoints/best'))).toBe(false);
      expect(record.best).toBeUndefined();
      const png = readFileSync(join(out, run, 'plots/training.png'));
      expect(png.subarray(1, 4).toString()).toBe('PNG');
    }
    for (const f of ['plots/comparison.png', 'plots/comparison.svg', 'plots/comparison.vl.json']) expect(existsSync(join(out, f))).toBe(true);
    const summary = readFileSync(join(out, 'summary.md'), 'utf8');
    expect(summary).toContain('model=cnn');
    expect(summary).toMatch(/\| \d\d:\d\d \|/);
    expect(summary).toContain("Test metrics are from each run's final epoch. No epoch is selected");
    expect(first.stdout).toMatch(/\[model=cnn\] epoch 1\/2 .*test loss/);
  });

  it('confusion.csv counts the test set with the final model', () => {
    for (const run of ['model=cnn', 'model=lstm']) {
      const lines = readFileSync(join(dir, 'runs/tiny', run, 'confusion.csv'), 'utf8').trim().split('\n');
      expect(lines[0]).toBe('true,0,1,2,3,4,5,6,7,8,9');
      const counts = lines.slice(1).map((l) => l.split(',').slice(1).map(Number));
      expect(counts).toHaveLength(10);
      const total = counts.flat().reduce((a, b) => a + b, 0);
      const diagonal = counts.reduce((a, row, i) => a + row[i]!, 0);
      expect(total).toBe(96);
      // The last epoch's test accuracy was measured on the same model and images.
      const record = JSON.parse(readFileSync(join(dir, 'runs/tiny', run, 'run.json'), 'utf8'));
      expect(diagonal / total).toBe(record.final.test_accuracy);
      expect(record.machine.cores).toBeGreaterThan(0);
    }
  });

  it('the terminal gets an overall line, the backend once and an aligned table within 80 columns', () => {
    expect(first.stdout).toMatch(/overall: 1\/2 runs done, \d\d:\d\d elapsed, ETA \d\d:\d\d/);
    expect(first.stdout).toContain('overall: 2/2 runs done');
    expect(first.stdout.match(/backend wasm/g)).toHaveLength(1);
    const lines = first.stdout.split('\n');
    const header = lines.findIndex((l) => /^run\s+.*test acc\s+test loss.*time$/.test(l));
    expect(header).toBeGreaterThan(0);
    const table = lines.slice(header, header + 3);
    // test accuracy and loss first; no best-val column, as these runs have no validation split.
    expect(table[1]).toMatch(/^model=cnn\s+completed\s+2\s+0\.\d{4}\s+\d+\.\d{4}\s.*\d\d:\d\d$/);
    expect(lines[header]).not.toContain('best-val acc');
    for (const l of table) expect(l.length).toBeLessThanOrEqual(80);
    expect(first.stdout).not.toContain('| --- |');
  });

  it('config.yaml of a run is a complete experiment that runs on its own', () => {
    const configFile = join(dir, 'runs/tiny/model=lstm/config.yaml');
    const config = parseYaml(readFileSync(configFile, 'utf8'));
    expect(config.model).toBe('lstm');
    expect(Object.keys(config.models)).toEqual(['lstm']);
    expect(config.training).toEqual({ batchSize: 32, epochs: 2, optimizer: 'adam', learningRate: 0.005 });
    expect(config.dataset.normalise).toEqual({ mean: 0.1307, std: 0.3081 });
    const v = xrun(['validate', configFile], dir);
    expect(v.code).toBe(0);
    expect(v.stdout).toContain('1 run(s)');
  });

  it('running again skips completed runs', () => {
    const again = xrun(['exp.yaml'], dir);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('[model=cnn] skipped: completed, same config');
    expect(again.stdout).toContain('0 to train, 2 skipped');
    // The worker started while the plan loaded had nothing to train and is gone.
    if (process.platform === 'linux') expect(processesIn(dir)).toEqual([]);
  });

  it('plan lists the runs and what a run would do', () => {
    const plan = xrun(['plan', 'exp.yaml'], dir);
    expect(plan.code).toBe(0);
    expect(plan.stdout).toContain('tiny: 2 run(s)');
    expect(plan.stdout).toMatch(/model=lstm\s+lstm\s+[\d,]+\s+skip/);
    const json = JSON.parse(xrun(['plan', 'exp.yaml', '--format', 'json', '--set', 'sweep.training.epochs=[1,2,3]'], dir).stdout);
    expect(json.runs).toHaveLength(6);
  });

  it('status shows each run with epochs and accuracy', () => {
    const status = xrun(['status', 'runs/tiny'], dir);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/model=cnn\s+completed\s+2\/2\s+0\.\d{4}/);
  });

  it('diff prints differing config values and per-epoch deltas', () => {
    const d = xrun(['diff', 'runs/tiny/model=cnn', 'runs/tiny/model=lstm'], dir);
    expect(d.code).toBe(0);
    expect(d.stdout).toMatch(/config: \d+ values? differ/);
    expect(d.stdout).toContain('model');
    expect(d.stdout).toContain('test_accuracy');
    const rows = JSON.parse(xrun(['diff', 'runs/tiny/model=cnn/metrics.csv', 'runs/tiny/model=lstm', '--format', 'json'], dir).stdout);
    expect(rows.epochs).toHaveLength(2);
    const cnn = readFileSync(join(dir, 'runs/tiny/model=cnn/metrics.csv'), 'utf8').split('\n')[1]!.split(',');
    const lstm = readFileSync(join(dir, 'runs/tiny/model=lstm/metrics.csv'), 'utf8').split('\n')[1]!.split(',');
    const testAcc = rows.epochs[0].test_accuracy;
    expect(testAcc.a).toBeCloseTo(Number(cnn[4]), 12);
    expect(testAcc.b).toBeCloseTo(Number(lstm[4]), 12);
    expect(testAcc.delta).toBeCloseTo(Number(lstm[4]) - Number(cnn[4]), 12);
    const csv = xrun(['diff', 'runs/tiny/model=cnn', 'runs/tiny/model=lstm', '--format', 'csv'], dir).stdout;
    expect(csv.split('\n')[0]).toContain('test_accuracy');
  });
});

describe('bad input', () => {
  it('a misspelt key, a wrong type and a bad sweep value: one file:line:col each, exit 2, nothing written', () => {
    const dir = tempProject({
      'bad.yaml': tinyExperiment('bad', 'sweep:\n  model: [cnn, lstm]\n  training.batchSize: [32, 0]\n')
        .replace('hidden: 8', 'hiden: 8')
        .replace('epochs: 2', 'epochs: two'),
    });
    const r = xrun(['bad.yaml'], dir);
    expect(r.code).toBe(2);
    const lines = r.stderr.split('\n').filter((l) => /^bad\.yaml:\d+:\d+: error:/.test(l));
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^bad\.yaml:9:23: error: unknown key 'hiden'.*did you mean 'hidden'/);
    expect(lines[1]).toMatch(/^bad\.yaml:10:\d+: error: training\.epochs: must be an integer/);
    expect(lines[2]).toMatch(/^bad\.yaml:13:\d+: error: training\.batchSize: must be >= 1/);
    expect(existsSync(join(dir, 'runs'))).toBe(false);
    // Nor a worker left running: the one started early is ended with the command.
    if (process.platform === 'linux') expect(processesIn(dir)).toEqual([]);
  });

  it('an explicitly requested backend that is not installed: exit 2 before anything is written', () => {
    const dir = tempProject({ 'exp.yaml': tinyExperiment('gpu', 'model: cnn\n') });
    const r = xrun(['exp.yaml', '--backend', 'tensorflow-gpu'], dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('@tensorflow/tfjs-node-gpu');
    expect(existsSync(join(dir, 'runs'))).toBe(false);
  });

  it('a missing experiment file and a bad flag exit 2', () => {
    const dir = tempProject({});
    expect(xrun(['nope.yaml'], dir).code).toBe(2);
    const bad = xrun(['run', 'nope.yaml', '--jobz', '2'], dir);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("Unknown option '--jobz'");
  });

  it('a missing data file: exit 2 naming the file, before anything is written', () => {
    const dir = tempProject({
      'idx.yaml': tinyExperiment('idx', 'model: cnn\n').replace(
        /dataset:\n  name: mnist\n/,
        'dataset:\n  name: idx\n  train: { images: no-such-images.idx, labels: l.idx }\n  test: { images: t.idx, labels: tl.idx }\n',
      ),
    });
    const r = xrun(['idx.yaml'], dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`dataset file not found: ${join(dir, 'no-such-images.idx')}`);
    expect(r.stderr).toContain('point dataset.train.images at');
    expect(existsSync(join(dir, 'runs'))).toBe(false);
  });
});
