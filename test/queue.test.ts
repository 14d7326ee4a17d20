/**
 * --executor queue and `xrun worker` against a real redis-server that these tests start
 * on loopback; skipped, saying why, where redis-server is not installed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { XRUN, tempProject, tinyExperiment, xrun } from './helpers/cli.js';
import { startRedis, type Server } from './helpers/servers.js';
import { compareMetrics, readRecord, waitFor } from './helpers/runs.js';

let redis: Server | undefined;
const workers: ChildProcess[] = [];

beforeAll(async () => {
  const started = await startRedis();
  if ('skip' in started) console.log(`queue tests skipped: ${started.skip}`);
  else redis = started.server;
}, 60_000);

afterEach(() => {
  for (const w of workers.splice(0)) if (w.exitCode === null && w.signalCode === null) w.kill('SIGKILL');
});

afterAll(async () => {
  await redis?.stop();
}, 30_000);

function startWorker(dir: string, queue: string) {
  const child = spawn(process.execPath, [XRUN, 'worker', '--redis', redis!.url!, '--queue', queue, '--lock-seconds', '3'], {
    cwd: dir,
    env: { ...process.env, CI: '1' },
  });
  workers.push(child);
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return { child, exited, output: () => out };
}

const lockHolder = (out: string, id: string): number | undefined => {
  try {
    return JSON.parse(readFileSync(join(out, '.locks', `${id}.lock`), 'utf8')).pid;
  } catch {
    return undefined;
  }
};

describe('--executor queue', () => {
  it('4 runs, 2 workers, one killed with kill -9 mid-run: each run completes once, metrics equal a local run', async (ctx) => {
    if (!redis) return ctx.skip();
    const dir = tempProject({
      'exp.yaml': tinyExperiment('q4', 'sweep:\n  training.learningRate: [0.004, 0.005]\n  dataset.subset.train: [480, 960]\n', {
        models: '\n  cnn: { type: cnn, filters: [4, 8], dense: 16, dropout: 0.2 }',
        // Adam (the default): its state, beta powers included, resumes exactly.
        training: 'batchSize: 32, epochs: 3',
      }),
    });
    const out = join(dir, 'runs/q4');
    const ids = ['learningRate=0.004,train=480', 'learningRate=0.004,train=960', 'learningRate=0.005,train=480', 'learningRate=0.005,train=960'];
    const queued = xrun(['exp.yaml', '--executor', 'queue', '--redis', redis.url!, '--queue', 'q4'], dir);
    expect(queued.code, queued.stderr).toBe(0);
    expect(queued.stdout).toContain('4 queued');
    // The hash is the job id: queuing again adds nothing.
    const twice = xrun(['exp.yaml', '--executor', 'queue', '--redis', redis.url!, '--queue', 'q4'], dir);
    expect(twice.stdout).toContain('0 queued');
    expect(twice.stdout).toContain('4 already queued');
    const status = xrun(['status', 'exp.yaml'], dir);
    expect(status.stdout).toMatch(/learningRate=0\.004,train=480 +not run, queue: queued/);

    const a = startWorker(dir, 'q4');
    const b = startWorker(dir, 'q4');
    // A run that worker a holds, with at least one epoch checkpointed.
    let victim: string | undefined;
    await waitFor(
      'worker a to finish an epoch of a run',
      () => {
        victim = ids.find((id) => lockHolder(out, id) === a.child.pid && readRecord(join(out, id)).epochsCompleted >= 1 && readRecord(join(out, id)).status === 'running');
        return victim !== undefined;
      },
      240_000,
      50,
    );
    a.child.kill('SIGKILL');
    const killedAt = readRecord(join(out, victim!)).epochsCompleted as number;
    expect(killedAt).toBeLessThan(3);
    await waitFor('every run to complete', () => ids.every((id) => readRecord(join(out, id)).status === 'completed'), 300_000, 500);
    b.child.kill('SIGINT');
    expect(await b.exited, b.output()).toBe(0);

    const logs = a.output() + b.output();
    for (const id of ids) {
      const record = readRecord(join(out, id));
      const epochs = readFileSync(join(out, id, 'metrics.csv'), 'utf8').trim().split('\n').slice(1).map((l) => Number(l.split(',')[0]));
      expect(epochs, id).toEqual([1, 2, 3]);
      const starts = logs.split('\n').filter((l) => l.startsWith(`[${id}] started`)).length;
      if (id === victim) {
        // Trained once from scratch by a, resumed once by b from a's last checkpoint.
        expect(starts, logs).toBe(2);
        expect(record.resumedAt.length).toBe(1);
        expect(record.resumedAt[0]).toBeGreaterThanOrEqual(killedAt);
      } else {
        expect(starts, `${id}\n${logs}`).toBe(1);
        expect(record.resumedAt, id).toBeUndefined();
      }
    }
    expect(existsSync(join(out, '.locks'))).toBe(false);
    expect(readFileSync(join(out, 'summary.csv'), 'utf8').trim().split('\n')).toHaveLength(5);

    const local = xrun(['exp.yaml', '--set', 'output=runs/local', '--jobs', '2'], dir);
    expect(local.code, local.stderr).toBe(0);
    for (const id of ids) compareMetrics(join(out, id), join(dir, 'runs/local', id));
  }, 600_000);

  it('Ctrl-C hands the run back to the queue; the next worker resumes it', async (ctx) => {
    if (!redis) return ctx.skip();
    const dir = tempProject({
      'exp.yaml': tinyExperiment('qint', 'sweep:\n  dataset.subset.train: [1600]\n', {
        models: '\n  cnn: { type: cnn, filters: [4, 8], dense: 16, dropout: 0.2 }',
        training: 'batchSize: 32, epochs: 3, learningRate: 0.005',
      }),
    });
    const run = join(dir, 'runs/qint/train=1600');
    expect(xrun(['exp.yaml', '--executor', 'queue', '--redis', redis.url!, '--queue', 'qint'], dir).code).toBe(0);
    const first = startWorker(dir, 'qint');
    await waitFor('epoch 1', () => readRecord(run).epochsCompleted >= 1, 120_000, 50);
    first.child.kill('SIGINT');
    expect(await first.exited, first.output()).toBe(0);
    const stopped = readRecord(run);
    expect(stopped.status).toBe('interrupted');
    expect(first.output()).toContain('handing the runs in progress back');
    const status = xrun(['status', 'exp.yaml'], dir);
    expect(status.stdout).toMatch(/train=1600 +interrupted, queue: queued/);

    const second = startWorker(dir, 'qint');
    // Submitting again with --wait: the run is still queued, so it is not added twice;
    // the submitter waits for it, then writes the summary.
    const waited = xrun(['exp.yaml', '--executor', 'queue', '--redis', redis.url!, '--queue', 'qint', '--wait'], dir);
    expect(waited.code, `${waited.stdout}\n${waited.stderr}`).toBe(0);
    expect(waited.stdout).toContain('0 queued');
    expect(waited.stdout).toContain('1 already queued');
    expect(readRecord(run).status).toBe('completed');
    expect(readFileSync(join(dir, 'runs/qint/summary.md'), 'utf8')).toMatch(/train=1600 \| completed/);
    second.child.kill('SIGINT');
    expect(await second.exited).toBe(0);
    expect(readRecord(run).resumedAt).toEqual([stopped.epochsCompleted]);
    expect(second.output()).toContain(`[train=1600] resuming after epoch ${stopped.epochsCompleted}`);
    expect(readdirSync(join(dir, 'runs/qint')).filter((f) => f.startsWith('.') && f !== '.xrun-launches.json')).toEqual([]);
  }, 300_000);
});
