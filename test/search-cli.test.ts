/**
 * Searches end to end through the built CLI: a random search with repeats is planned,
 * trained, summarised as mean ± std per trial, and extended without retraining; paired
 * axes give one run per position.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempProject, tinyExperiment, xrun } from './helpers/cli.js';

const RANDOM = tinyExperiment(
  'rs',
  `model: gru
search:
  random:
    trials: 8
    seed: 1
    space:
      training.learningRate: { loguniform: [1.0e-3, 3.0e-2] }
      models.*.hidden: { choice: [4, 8] }
  repeats: 2
`,
  { models: '\n  gru: { type: gru, hidden: 4, layers: 1 }', training: 'batchSize: 32, epochs: 1' },
).replace('subset: { train: 192, test: 96 }', 'subset: { train: 64, test: 32 }');

describe('random search with repeats', () => {
  it('plans 16 runs, trains them, summarises each trial as mean ± std; 10 trials add exactly 4 runs', () => {
    const dir = tempProject({ 'exp.yaml': RANDOM });
    const plan = xrun(['plan', 'exp.yaml'], dir);
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.stdout).toContain('rs: 16 run(s)');
    const planned = plan.stdout.split('\n').filter((l) => /^\s*\d+\s+trial=/.test(l));
    expect(planned).toHaveLength(16);
    expect(planned.every((l) => /\bnew\s*$/.test(l))).toBe(true);

    const run = xrun(['exp.yaml', '--jobs', '2'], dir);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('16 run(s): 16 to train, 0 skipped');
    // The terminal's last table is one row per trial.
    const last = run.stdout.slice(run.stdout.indexOf('mean ± std over seeds:'));
    expect(last.split('\n').filter((l) => /^trial=\d/.test(l))).toHaveLength(8);
    const out = join(dir, 'runs/rs');
    const csv = readFileSync(join(out, 'summary.csv'), 'utf8').trim().split('\n');
    expect(csv[0]).toMatch(/^config,trial,training\.learningRate,models\.\*\.hidden,runs,completed,seeds,test_accuracy_mean,test_accuracy_std,/);
    expect(csv).toHaveLength(1 + 8);
    for (const line of csv.slice(1)) expect(line).toMatch(/^"trial=\d+,learningRate=[\d.e-]+,hidden=[48]",\d+,[\d.e-]+,[48],2,2,3 4,0\.\d+,\d/);
    // The per-run table is kept beside it, and the means agree with it.
    const runs = readFileSync(join(out, 'summary-runs.csv'), 'utf8').trim().split('\n');
    expect(runs).toHaveLength(1 + 16);
    const accuracy = runs[0]!.split(',').indexOf('test_accuracy');
    const first = runs.slice(1, 3).map((l) => Number(l.match(/^"[^"]*"(.*)$/)![1]!.split(',')[accuracy]));
    const mean = Number(csv[1]!.match(/^"[^"]*"(.*)$/)![1]!.split(',')[7]);
    expect(mean).toBeCloseTo((first[0]! + first[1]!) / 2, 12);
    const md = readFileSync(join(out, 'summary.md'), 'utf8');
    expect(md).toMatch(/\| trial=1,learningRate=[\d.e-]+,hidden=[48] \| 1 \| [\d.e-]+ \| [48] \| 2\/2 \| 0\.\d{4} ± 0\.\d{4} \|/);
    expect(md).toContain('### Runs');

    const status = xrun(['status', 'exp.yaml'], dir);
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toContain('by configuration (over seeds):');
    expect(status.stdout).toMatch(/trial=8,learningRate=[\d.e-]+,hidden=[48]\s.*2\/2\s+0\.\d{4} ± 0\.\d{4}/);

    const more = xrun(['exp.yaml', '--set', 'search.random.trials=10'], dir);
    expect(more.code, more.stderr).toBe(0);
    expect(more.stdout).toContain('20 run(s): 4 to train, 16 skipped');
    expect(more.stdout.match(/\] started/g)).toHaveLength(4);
    expect(more.stdout).toMatch(/\[trial=9,[^\]]*,seed=3\] started/);
    expect(more.stdout).toMatch(/\[trial=10,[^\]]*,seed=4\] started/);
  }, 240_000);
});

describe('paired axes', () => {
  it('3 values on two paired axes train 3 runs, not 9', () => {
    const dir = tempProject({
      'exp.yaml': tinyExperiment(
        'pair',
        `model: gru
search:
  paired:
    models.*.hidden: [4, 6, 8]
    training.learningRate: [0.01, 0.005, 0.002]
`,
        { models: '\n  gru: { type: gru, layers: 1 }', training: 'batchSize: 32, epochs: 1' },
      ).replace('subset: { train: 192, test: 96 }', 'subset: { train: 64, test: 32 }'),
    });
    const r = xrun(['exp.yaml'], dir);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('3 run(s): 3 to train, 0 skipped');
    const summary = readFileSync(join(dir, 'runs/pair/summary.csv'), 'utf8').trim().split('\n');
    expect(summary.slice(1).map((l) => l.split(',').slice(0, 2).join(','))).toEqual([
      '"hidden=4', '"hidden=6', '"hidden=8',
    ].map((h, i) => `${h},learningRate=${[0.01, 0.005, 0.002][i]}"`));
    const config = readFileSync(join(dir, 'runs/pair/hidden=6,learningRate=0.005/config.yaml'), 'utf8');
    expect(config).toMatch(/hidden: 6/);
    expect(config).toMatch(/learningRate: 0\.005/);
  }, 120_000);
});
