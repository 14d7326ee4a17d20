/**
 * --executor slurm against a real one-node Slurm (munged, slurmctld, slurmd) that these
 * tests start on loopback; skipped, saying why, where Slurm is not installed or not root.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempProject, tinyExperiment, xrun } from './helpers/cli.js';
import { startSlurm, type Server } from './helpers/servers.js';
import { compareMetrics, readRecord, waitFor } from './helpers/runs.js';

let slurm: Server | undefined;
let skipped: string | undefined;

beforeAll(async () => {
  const started = await startSlurm();
  if ('skip' in started) {
    skipped = started.skip;
    console.log(`slurm tests skipped: ${skipped}`);
  } else slurm = started.server;
}, 120_000);

afterAll(async () => {
  await slurm?.stop();
}, 60_000);

const squeue = (env: Record<string, string>) =>
  spawnSync('squeue', ['-h', '-r', '-o', '%i %T'], { env: { ...process.env, ...env }, encoding: 'utf8' }).stdout.trim();

describe('--executor slurm', () => {
  it('a 4-run sweep as one job array with --wait: the same metrics as a local run', async (ctx) => {
    if (!slurm) return ctx.skip();
    const dir = tempProject({
      'exp.yaml': tinyExperiment('arr', 'sweep:\n  model: [cnn, lstm]\n  training.batchSize: [32, 64]\n'),
    });
    const env = slurm.env;
    const submitted = xrun(['exp.yaml', '--executor', 'slurm', '--wait'], dir, env);
    expect(submitted.code, `${submitted.stdout}\n${submitted.stderr}\n${slurm.logs()}`).toBe(0);
    expect(submitted.stdout).toMatch(/4 run\(s\): 4 to submit, 0 skipped/);
    const jobId = /submitted job array (\d+) \(4 task\(s\)\)/.exec(submitted.stdout)?.[1];
    expect(jobId).toBeDefined();
    // Exact ids with commas, one per array index.
    expect(submitted.stdout).toContain(`${jobId}_3  model=lstm,batchSize=64`);
    const out = join(dir, 'runs/arr');
    const ids = ['model=cnn,batchSize=32', 'model=cnn,batchSize=64', 'model=lstm,batchSize=32', 'model=lstm,batchSize=64'];
    for (const id of ids) expect(readRecord(join(out, id)).status).toBe('completed');
    expect(readFileSync(join(out, 'summary.csv'), 'utf8').trim().split('\n')).toHaveLength(5);
    const submission = readdirSync(join(out, 'slurm'));
    expect(submission).toHaveLength(1);
    const script = readFileSync(join(out, 'slurm', submission[0]!, 'job.sbatch'), 'utf8');
    expect(script).toContain('#SBATCH --array=0-3');
    // Each task wrote its log into the submission folder.
    expect(readdirSync(join(out, 'slurm', submission[0]!)).filter((f) => f.endsWith('.log'))).toHaveLength(4);

    const local = xrun(['exp.yaml', '--set', 'output=runs/local', '--jobs', '2'], dir);
    expect(local.code, local.stderr).toBe(0);
    for (const id of ids) compareMetrics(join(out, id), join(dir, 'runs/local', id));

    // Submitting again: every run is complete, nothing is submitted.
    const again = xrun(['exp.yaml', '--executor', 'slurm'], dir, env);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/4 run\(s\): 0 to submit, 4 skipped/);
    expect(readdirSync(join(out, 'slurm'))).toHaveLength(1);
  }, 300_000);

  it('scancel of a running task, then submitting again: the finished run is skipped, the cancelled one resumes to the same metrics', async (ctx) => {
    if (!slurm) return ctx.skip();
    const dir = tempProject({
      'exp.yaml': tinyExperiment('cancel', 'sweep:\n  dataset.subset.train: [192, 3000]\n', {
        models: '\n  cnn: { type: cnn, filters: [4, 8], dense: 16, dropout: 0.2 }',
        // Adam (the default): its state, beta powers included, resumes exactly.
        training: 'batchSize: 32, epochs: 6, learningRate: 0.005',
      }),
    });
    const env = slurm.env;
    const out = join(dir, 'runs/cancel');
    // Long enough (6 epochs of 3,000 images) that scancel lands mid-run on an idle machine too.
    // One task at a time (%1): the second waits, pending, while the first trains.
    const submitted = xrun(['exp.yaml', '--executor', 'slurm', '--set', 'runtime.slurm.parallel=1'], dir, env);
    expect(submitted.code, submitted.stderr).toBe(0);
    const jobId = /submitted job array (\d+)/.exec(submitted.stdout)![1]!;
    expect(submitted.stdout).toContain(`${jobId}_1  train=3000`);
    const pending = xrun(['status', 'exp.yaml'], dir, env);
    expect(pending.stdout).toMatch(/train=3000 +not run, slurm: pending \(\d+_1\)/);
    const long = join(out, 'train=3000');
    await waitFor('train=3000 to finish epoch 1', () => existsSync(join(long, 'run.json')) && readRecord(long).epochsCompleted >= 1, 180_000);
    const status = xrun(['status', 'exp.yaml'], dir, env);
    expect(status.stdout).toMatch(/train=3000 +running.*slurm: running \(\d+_1\)/);
    const cancel = spawnSync('scancel', [`${jobId}_1`], { env: { ...process.env, ...env }, encoding: 'utf8' });
    expect(cancel.status, cancel.stderr).toBe(0);
    await waitFor('the job to leave the queue', () => !squeue(env).includes(jobId), 120_000);
    const cancelled = readRecord(long);
    // SIGTERM from scancel: checkpointed and marked resumable, not finished.
    expect(cancelled.status).toBe('interrupted');
    expect(cancelled.epochsCompleted).toBeLessThan(6);
    expect(readRecord(join(out, 'train=192')).status).toBe('completed');

    const resubmitted = xrun(['exp.yaml', '--executor', 'slurm', '--wait'], dir, env);
    expect(resubmitted.code, `${resubmitted.stdout}\n${resubmitted.stderr}`).toBe(0);
    expect(resubmitted.stdout).toMatch(/2 run\(s\): 1 to submit, 1 skipped/);
    const resumed = readRecord(long);
    expect(resumed.status).toBe('completed');
    expect(resumed.resumedAt).toEqual([cancelled.epochsCompleted]);

    const clean = xrun(['exp.yaml', '--only', 'train=3000', '--set', 'output=runs/clean'], dir);
    expect(clean.code, clean.stderr).toBe(0);
    compareMetrics(long, join(dir, 'runs/clean/train=3000'));
  }, 400_000);
});
