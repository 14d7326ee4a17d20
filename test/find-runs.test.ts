/**
 * Runs are found by their config, wherever their folder is and wherever xrun is started:
 * the output folder is resolved against the project (not the shell's folder), a run's
 * own config.yaml and a grown sweep find finished runs instead of training them again,
 * the study's summary never shrinks, and raising training.epochs continues finished runs
 * to exactly the metrics of a run trained that long from the start.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempProject, tinyExperiment, xrun } from './helpers/cli.js';

function metricText(runDir: string): string {
  const lines = readFileSync(join(runDir, 'metrics.csv'), 'utf8').trimEnd().split('\n');
  const keep = lines[0]!.split(',').map((h) => h !== 'epoch_seconds' && h !== 'elapsed_seconds');
  return lines.map((l) => l.split(',').filter((_, i) => keep[i]).join(',')).join('\n');
}

/** The run column of summary.csv (ids hold commas, so they are quoted). */
const summaryRuns = (out: string) =>
  readFileSync(join(out, 'summary.csv'), 'utf8').trimEnd().split('\n').slice(1).map((l) => /^"([^"]*)"|^([^,]*)/.exec(l)!.slice(1).find((x) => x !== undefined));

describe('runs found by config hash, wherever they live', () => {
  it('project-relative output; a run config.yaml, a new sweep axis and more epochs all find the finished runs', () => {
    const dir = tempProject({ 'package.json': '{"name": "my-study", "private": true}\n' });
    mkdirSync(join(dir, 'experiments'));
    writeFileSync(join(dir, 'experiments/exp.yaml'), tinyExperiment('find', 'sweep:\n  model: [cnn, lstm]\n  seed: [3]\n'));
    const out = join(dir, 'runs/find');

    // Started from inside experiments/: the runs still go to <project>/runs/find.
    const planned = xrun(['plan', 'exp.yaml'], join(dir, 'experiments'));
    expect(planned.code, planned.stderr).toBe(0);
    expect(planned.stdout).toContain(`output: ${out} (runs/find relative to the project root ${dir})`);
    const first = xrun(['exp.yaml'], join(dir, 'experiments'));
    expect(first.code, first.stderr).toBe(0);
    expect(summaryRuns(out)).toEqual(['model=cnn,seed=3', 'model=lstm,seed=3']);
    const summary = readFileSync(join(out, 'summary.md'), 'utf8');
    const experimentYaml = readFileSync(join(out, 'experiment.yaml'), 'utf8');

    // From the project root: the same runs, all skipped.
    const again = xrun(['experiments/exp.yaml'], dir);
    expect(again.stdout).toContain('2 run(s): 0 to train, 2 skipped');
    const csvPlan = xrun(['plan', 'experiments/exp.yaml', '--format', 'csv'], dir).stdout.trimEnd().split('\n');
    expect(csvPlan[0]).toBe('index,run,model,seed,params,action,why,hash,dir');
    expect(csvPlan[1]).toMatch(new RegExp(`^1,"model=cnn,seed=3",cnn,3,\\d+,skip,"completed, same config",[0-9a-f]{16},"${out}/model=cnn,seed=3"$`));

    // A run's own config.yaml, from an unrelated folder: found by its hash in its folder,
    // not retrained as 'model=lstm'; the study's summary and experiment.yaml stay whole.
    const own = xrun([join(out, 'model=lstm,seed=3/config.yaml')], tmpdir());
    expect(own.code, own.stderr).toBe(0);
    expect(own.stdout).toContain('[model=lstm] skipped: completed, same config (found in model=lstm,seed=3)');
    expect(readFileSync(join(out, 'summary.md'), 'utf8')).toBe(summary);
    expect(readFileSync(join(out, 'experiment.yaml'), 'utf8')).toBe(experimentYaml);
    expect(summaryRuns(out)).toEqual(['model=cnn,seed=3', 'model=lstm,seed=3']);

    // config.yaml spells out the defaults it promises.
    const config = readFileSync(join(out, 'model=lstm,seed=3/config.yaml'), 'utf8');
    expect(config).toContain(`output: ${out}\n`);
    expect(config).toMatch(/runtime:\n  backend: wasm\n  jobs: 1\n/);

    // A new sweep axis renames every run id; its value is the file's own, so nothing is new.
    const grown = ['experiments/exp.yaml', '--set', 'sweep.training.learningRate=[0.005]'];
    const plan = xrun(['plan', ...grown, '--format', 'json'], dir);
    const actions = JSON.parse(plan.stdout).runs.map((r: { id: string; action: string; reason: string }) => [r.id, r.action, r.reason]);
    expect(actions).toEqual([
      ['model=cnn,seed=3,learningRate=0.005', 'skip', 'completed, same config (found in model=cnn,seed=3)'],
      ['model=lstm,seed=3,learningRate=0.005', 'skip', 'completed, same config (found in model=lstm,seed=3)'],
    ]);
    const grownRun = xrun(grown, dir);
    expect(grownRun.stdout).toContain('2 run(s): 0 to train, 2 skipped');
    expect(summaryRuns(out)).toEqual(['model=cnn,seed=3', 'model=lstm,seed=3']);

    // Raising training.epochs continues the finished run from its last checkpoint...
    const longer = xrun(['experiments/exp.yaml', '--set', 'training.epochs=3', '--only', 'model=cnn*'], dir);
    expect(longer.code, longer.stderr).toBe(0);
    expect(longer.stdout).toContain('[model=cnn,seed=3] resuming after epoch 2');
    const cnn = join(out, 'model=cnn,seed=3');
    expect(JSON.parse(readFileSync(join(cnn, 'run.json'), 'utf8'))).toMatchObject({ status: 'completed', epochs: 3, epochsCompleted: 3, resumedAt: [2] });
    expect(readFileSync(join(cnn, 'config.yaml'), 'utf8')).toContain('epochs: 3');
    // ... to the very metrics of a run trained for 3 epochs from the start.
    const fresh = xrun(['experiments/exp.yaml', '--set', 'training.epochs=3', '--only', 'model=cnn*', '--set', 'output=runs/fresh'], dir);
    expect(fresh.code, fresh.stderr).toBe(0);
    expect(fresh.stdout).toContain('[model=cnn,seed=3] epoch 1/3');
    expect(metricText(cnn)).toBe(metricText(join(dir, 'runs/fresh/model=cnn,seed=3')));
    expect(metricText(cnn).split('\n')).toHaveLength(4);

    // status: every folder, in any format.
    const status = xrun(['status', 'experiments/exp.yaml', '--format', 'json'], dir);
    expect(status.code, status.stderr).toBe(0);
    const rows = JSON.parse(status.stdout);
    expect(rows.map((r: { run: string; epochs_done: number; epochs: number }) => [r.run, r.epochs_done, r.epochs])).toEqual([
      ['model=cnn,seed=3', 3, 3],
      ['model=lstm,seed=3', 2, 2],
    ]);
    expect(typeof rows[0].test_accuracy).toBe('number');
    const csv = xrun(['status', out, '--format', 'csv'], dir);
    expect(csv.stdout.split('\n')[0]).toBe('run,status,epochs_done,epochs,best_test_accuracy,test_accuracy,seconds');
    const table = xrun(['status', out], dir);
    expect(table.stdout).toMatch(/model=cnn,seed=3\s+completed\s+3\/3/);
    const bad = xrun(['status', out, '--format', 'yaml'], dir);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--format must be one of table, csv, json, md');
  });

  it('a cosine schedule spreads over every epoch: more epochs are a different run, not a continuation', () => {
    const dir = tempProject({ 'package.json': '{"name": "cosine", "private": true}\n' });
    writeFileSync(
      join(dir, 'exp.yaml'),
      tinyExperiment('cos', '', { models: '\n  cnn: { type: cnn, filters: [4], dense: 8 }', training: 'batchSize: 32, epochs: 1, schedule: { type: cosine }' }),
    );
    const first = xrun(['exp.yaml'], dir);
    expect(first.code, first.stderr).toBe(0);
    const plan = xrun(['plan', 'exp.yaml', '--set', 'training.epochs=2', '--format', 'json'], dir);
    expect(plan.code, plan.stderr).toBe(0);
    const [run] = JSON.parse(plan.stdout).runs;
    expect(run.action).toBe('conflict');
    expect(run.reason).toContain('training.epochs: 1 -> 2');
  });
});
