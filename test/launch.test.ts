import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadPlan } from '../src/config/load.js';
import { sbatchScript } from '../src/launch/slurm.js';
import { tempProject, tinyExperiment, xrun } from './helpers/cli.js';

describe('naming runs exactly', () => {
  it("--only '<an id with commas>' selects exactly that run", () => {
    const dir = tempProject({
      'exp.yaml': tinyExperiment('ids', 'sweep:\n  model: [cnn, lstm]\n  training.batchSize: [32, 64]\n', { training: 'batchSize: 32, epochs: 1' }),
    });
    const r = xrun(['exp.yaml', '--only', 'model=lstm,batchSize=64'], dir);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('1 run(s): 1 to train, 0 skipped');
    expect(r.stdout).toContain('[model=lstm,batchSize=64] completed');
    expect(readdirSync(join(dir, 'runs/ids')).filter((f) => f.startsWith('model='))).toEqual(['model=lstm,batchSize=64']);
    // A comma-separated list is one pattern that matches no id: a clear error, nothing run.
    const list = xrun(['exp.yaml', '--only', 'model=cnn*,model=gru*'], dir);
    expect(list.code).toBe(2);
    expect(list.stderr).toContain('no run of ids matches');
  }, 120_000);
});

describe('sbatch script', () => {
  it('carries runtime.slurm: partition, account, time, cpus, gpus, %K, extra lines, setup', () => {
    const dir = tempProject({
      'exp.yaml': tinyExperiment(
        'sl',
        `sweep:\n  model: [cnn, lstm]\n`,
      ).replace(
        'runtime: { backend: wasm }',
        `runtime:
  backend: wasm
  executor: slurm
  slurm:
    partition: gpu
    account: "lab's"
    time: "2:00:00"
    cpusPerRun: 4
    gpusPerRun: 1
    memory: 8G
    parallel: 3
    sbatch: ["--qos=short", "#SBATCH --constraint=a100"]
    setup: ["module load nodejs/20"]`,
      ),
    });
    const plan = loadPlan(join(dir, 'exp.yaml'));
    const script = sbatchScript(plan, plan.experiment.runtime!.slurm!, 2, '/shared/out/slurm/1', '/shared/out/slurm/1/runs.json');
    for (const line of [
      '#SBATCH --array=0-1%3',
      '#SBATCH --partition=gpu',
      `#SBATCH --account='lab'\\''s'`,
      '#SBATCH --time=2:00:00',
      '#SBATCH --cpus-per-task=4',
      '#SBATCH --gpus-per-task=1',
      '#SBATCH --mem=8G',
      '#SBATCH --qos=short',
      '#SBATCH --constraint=a100',
      '#SBATCH --output=/shared/out/slurm/1/%A_%a.log',
      'module load nodejs/20',
    ]) {
      expect(script.split('\n')).toContain(line);
    }
    expect(script).toMatch(/exec "\$\{XRUN_NODE:-.*\}" \S+bin\/xrun\.js run-one \/shared\/out\/slurm\/1\/runs\.json --index "\$SLURM_ARRAY_TASK_ID"/);
  });

  it('sbatch missing or failing: exit 2, nothing written', () => {
    const dir = tempProject({ 'exp.yaml': tinyExperiment('nosub', 'model: cnn\n') });
    // An empty slurm.conf: sbatch gives up at once (a missing one makes it retry for a minute).
    const r = xrun(['exp.yaml', '--executor', 'slurm'], dir, { SLURM_CONF: '/dev/null' });
    expect(r.code, r.stdout).toBe(2);
    expect(r.stderr).toMatch(/sbatch (failed|.*not on PATH)/);
    expect(existsSync(join(dir, 'runs'))).toBe(false);
  });

  it('bad runtime.slurm values are errors with their position; nothing is written', () => {
    const dir = tempProject({
      'exp.yaml': tinyExperiment('bad').replace('runtime: { backend: wasm }', 'runtime: { backend: wasm, slurm: { cpusPerRun: 0, partiton: x } }'),
    });
    const r = xrun(['exp.yaml', '--executor', 'slurm'], dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/exp\.yaml:3:\d+: error: .*cpusPerRun/);
    expect(r.stderr).toMatch(/unknown key 'partiton'.*did you mean 'partition'/);
    expect(existsSync(join(dir, 'runs'))).toBe(false);
  });
});
