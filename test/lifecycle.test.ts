/**
 * The run lifecycle end to end, through the built CLI: identity and skipping, resuming
 * after the parent was killed, determinism, SIGINT/SIGTERM, run selection and --jobs.
 * Each test has its own project folder; every experiment is tiny so the file stays fast.
 */
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { describe, expect, it } from 'vitest';
import { configHash, type RunConfig } from '../src/config/resolve.js';
import { makeStagingDir, replaceDirAtomic } from '../src/store/atomic.js';
import { METRICS_COLUMNS } from '../src/store/metrics-row.js';
import { processAlive } from '../src/util/process-alive.js';
import { tempProject, tinyExperiment, xrun, xrunUntil } from './helpers/cli.js';
import { epochsOf } from './helpers/runs.js';

const TIME_COLUMNS = new Set(['epoch_seconds', 'elapsed_seconds']);

/** A small one-model experiment (3 epochs by default); `extra` adds keys such as `sweep:`. */
function experiment(name: string, extra: string, training = 'batchSize: 32, epochs: 3, learningRate: 0.005'): string {
  return tinyExperiment(name, `model: cnn\n${extra}`, { models: '\n  cnn: { type: cnn, filters: [4], dense: 8 }', training });
}

function readRecord(runDir: string) {
  return JSON.parse(readFileSync(join(runDir, 'run.json'), 'utf8'));
}

/** metrics.csv without the two wall-time columns, as text: equal means byte-identical numbers. */
function metricColumns(runDir: string): string[] {
  const lines = readFileSync(join(runDir, 'metrics.csv'), 'utf8').trimEnd().split('\n');
  const header = lines[0]!.split(',');
  expect(header).toEqual([...METRICS_COLUMNS]);
  const keep = header.map((h) => !TIME_COLUMNS.has(h));
  return lines.map((l) => l.split(',').filter((_, i) => keep[i]).join(','));
}

/** Every entry under `dir` (dot files included) with its bytes' hash and mtime. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (rel: string) => {
    for (const name of readdirSync(join(dir, rel)).sort()) {
      const path = join(rel, name);
      const st = statSync(join(dir, path));
      if (st.isDirectory()) {
        out[`${path}/`] = 'dir';
        walk(path);
      } else {
        out[path] = `${createHash('sha256').update(readFileSync(join(dir, path))).digest('hex')} ${st.mtimeMs}`;
      }
    }
  };
  walk('');
  return out;
}

/** Temporaries and swap backups that a clean finish (or a recovery) must not leave behind. */
function leftovers(dir: string): string[] {
  return Object.keys(snapshot(dir)).filter((p) => /\.tmp-\d+-[0-9a-f]+\/?$|\.old\/?$/.test(p));
}

async function waitUntil(condition: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('run identity', () => {
  it('records a hash of the identity; skips same-hash completed runs, reruns missing and failed ones, stops on a different config unless --force', () => {
    const dir = tempProject({ 'exp.yaml': experiment('ident', 'sweep:\n  seed: [1, 2]\n', 'batchSize: 32, epochs: 2, learningRate: 0.005') });
    const out = join(dir, 'runs/ident');
    const first = xrun(['exp.yaml'], dir);
    expect(first.code, first.stderr).toBe(0);
    for (const id of ['seed=1', 'seed=2']) {
      const record = readRecord(join(out, id));
      expect(record.status).toBe('completed');
      // The recorded hash is that of the resolved config the run wrote beside it.
      const config = parseYaml(readFileSync(join(out, id, 'config.yaml'), 'utf8')) as RunConfig;
      expect(record.hash).toBe(configHash(config));
      expect(record.hash).toMatch(/^[0-9a-f]{16}$/);
    }
    expect(readRecord(join(out, 'seed=1')).hash).not.toBe(readRecord(join(out, 'seed=2')).hash);

    // Name, output and runtime are not part of the identity: the same folder, renamed
    // experiment and other runtime settings still count as the same runs.
    const before = snapshot(join(out, 'seed=1'));
    const again = xrun(['exp.yaml', '--set', 'name=renamed', '--set', 'output=runs/ident', '--set', 'runtime.jobs=2'], dir);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain('2 run(s): 0 to train, 2 skipped');
    expect(again.stdout).toContain('[seed=1] skipped: completed, same config');
    expect(again.stdout).toContain('[seed=2] skipped: completed, same config');
    expect(snapshot(join(out, 'seed=1'))).toEqual(before);

    // A missing folder and a failed run both run again; nothing else does.
    rmSync(join(out, 'seed=1'), { recursive: true });
    const failed = readRecord(join(out, 'seed=2'));
    writeFileSync(join(out, 'seed=2/run.json'), JSON.stringify({ ...failed, status: 'failed', error: { message: 'test' } }));
    const retry = xrun(['exp.yaml'], dir);
    expect(retry.code, retry.stderr).toBe(0);
    expect(retry.stdout).toContain('2 run(s): 2 to train, 0 skipped');
    for (const id of ['seed=1', 'seed=2']) {
      const record = readRecord(join(out, id));
      expect(record.status).toBe('completed');
      expect(record.error).toBeUndefined();
      expect(epochsOf(join(out, id))).toEqual([1, 2]);
    }

    // A different config in an existing folder: exit 2, the run and the change named, nothing written.
    const untouched = snapshot(dir);
    const conflict = xrun(['exp.yaml', '--set', 'training.learningRate=0.01'], dir);
    expect(conflict.code).toBe(2);
    expect(conflict.stderr).toContain('seed=1');
    expect(conflict.stderr).toContain('seed=2');
    expect(conflict.stderr).toContain('training.learningRate: 0.005 -> 0.01');
    expect(conflict.stderr).toContain('--force');
    expect(conflict.stdout).not.toMatch(/started|epoch 1\//);
    expect(snapshot(dir)).toEqual(untouched);

    // --force replaces the selected run only.
    const seed2 = snapshot(join(out, 'seed=2'));
    const forced = xrun(['exp.yaml', '--set', 'training.learningRate=0.01', '--force', '--only', 'seed=1'], dir);
    expect(forced.code, forced.stderr).toBe(0);
    expect(forced.stdout).toContain('[seed=1] completed');
    const config = parseYaml(readFileSync(join(out, 'seed=1/config.yaml'), 'utf8')) as RunConfig;
    expect(config.training.learningRate).toBe(0.01);
    expect(readRecord(join(out, 'seed=1')).hash).toBe(configHash(config));
    expect(snapshot(join(out, 'seed=2'))).toEqual(seed2);

    // Now only seed=2 differs from the new config.
    const rest = xrun(['exp.yaml', '--set', 'training.learningRate=0.01'], dir);
    expect(rest.code).toBe(2);
    expect(rest.stderr).toContain('1 run folder(s)');
    expect(rest.stderr).toMatch(/seed=2 .*training\.learningRate: 0\.005 -> 0\.01/);
    expect(rest.stderr).not.toContain('seed=1 (');
    expect(leftovers(out)).toEqual([]);
  }, 180_000);
});

describe('resume after the parent is killed', () => {
  it('skips finished runs, resumes the interrupted one after its last epoch and matches a clean run', async () => {
    // The study's CNN, so the two epochs left after the kill outlast the worker noticing it
    // (the same 6 optimiser steps an epoch as the tiny one).
    const exp = experiment('resume', 'sweep:\n  training.learningRate: [0.004, 0.005, 0.006, 0.007]\n').replace(
      'cnn: { type: cnn, filters: [4], dense: 8 }',
      'cnn: { type: cnn, filters: [32, 64], dense: 128 }',
    );
    const dir = tempProject({ 'exp.yaml': exp });
    const out = join(dir, 'runs/resume');
    const third = join(out, 'learningRate=0.006');

    const killed = xrunUntil(['exp.yaml', '--jobs', '1'], dir, /\[learningRate=0\.006\] epoch 1\/3/);
    await killed.matched;
    const workerPid = readRecord(third).pid as number;
    expect(workerPid).toBeGreaterThan(0);
    killed.child.kill('SIGKILL');
    await killed.exited;
    // The orphaned worker must notice and quit on its own rather than train on.
    await waitUntil(() => !processAlive(workerPid), 15_000, `worker ${workerPid} to exit after its parent died`);
    const orphaned = readRecord(third);
    // It stopped like an interrupt, after a batch, rather than dying mid-write.
    expect(orphaned.status).toBe('interrupted');
    expect(orphaned.pid).toBeUndefined();
    expect(orphaned.epochsCompleted).toBeGreaterThanOrEqual(1);
    expect(orphaned.epochsCompleted).toBeLessThan(3);
    expect(existsSync(join(out, 'learningRate=0.007'))).toBe(false);

    const resumed = xrun(['exp.yaml', '--jobs', '1'], dir);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stdout).toContain('4 run(s): 2 to train, 2 skipped');
    expect(resumed.stdout).toContain('[learningRate=0.004] skipped: completed, same config');
    expect(resumed.stdout).toContain('[learningRate=0.005] skipped: completed, same config');
    const n = Number(/\[learningRate=0\.006\] resuming after epoch (\d)/.exec(resumed.stdout)?.[1]);
    expect(n).toBe(orphaned.epochsCompleted);
    // The resumed run trains only the epochs after its checkpoint.
    expect(resumed.stdout).not.toMatch(new RegExp(`\\[learningRate=0\\.006\\] epoch ${n}/3`));
    expect(resumed.stdout).toContain('[learningRate=0.007] completed');

    for (const id of ['learningRate=0.004', 'learningRate=0.005', 'learningRate=0.006', 'learningRate=0.007']) {
      expect(readRecord(join(out, id)).status, id).toBe('completed');
      expect(epochsOf(join(out, id)), id).toEqual([1, 2, 3]);
    }
    expect(readRecord(third).resumedAt).toEqual([n]);
    expect(leftovers(out)).toEqual([]);

    // The same config trained without interruption, elsewhere (output is not identity).
    const clean = xrun(['exp.yaml', '--only', 'learningRate=0.006', '--set', 'output=clean'], dir);
    expect(clean.code, clean.stderr).toBe(0);
    const cleanRun = join(dir, 'clean/learningRate=0.006');
    expect(readRecord(cleanRun).hash).toBe(readRecord(third).hash);
    expect(metricColumns(third)).toEqual(metricColumns(cleanRun));
  }, 180_000);
});

describe('determinism', () => {
  it('two fresh runs of one experiment give byte-identical metrics', () => {
    // The default tiny cnn has dropout: its masks must be seeded too.
    const dir = tempProject({ 'exp.yaml': tinyExperiment('det', 'sweep:\n  model: [cnn, lstm]\n') });
    const a = xrun(['exp.yaml', '--set', 'output=a'], dir);
    expect(a.code, a.stderr).toBe(0);
    const b = xrun(['exp.yaml', '--set', 'output=b'], dir);
    expect(b.code, b.stderr).toBe(0);
    for (const id of ['model=cnn', 'model=lstm']) {
      const left = metricColumns(join(dir, 'a', id));
      expect(left).toHaveLength(3);
      expect(left).toEqual(metricColumns(join(dir, 'b', id)));
    }
  }, 120_000);
});

describe('stopping on a signal', () => {
  // The second run's epochs take a couple of seconds, so a stop that waited for the end of
  // the epoch in progress is told apart from one after the current batch.
  const exp = experiment('sig', 'sweep:\n  dataset.subset.train: [192, 3200]\n');

  it.each([
    ['SIGTERM', 143],
    ['SIGINT', 130],
  ] as const)('%s stops after the current batch, marks the run interrupted, exits %i; the next start resumes it', async (signal, code) => {
    const dir = tempProject({ 'exp.yaml': exp });
    const out = join(dir, 'runs/sig');
    const done = xrun(['exp.yaml', '--only', 'train=192'], dir);
    expect(done.code, done.stderr).toBe(0);
    const finished = snapshot(join(out, 'train=192'));

    const run = xrunUntil(['exp.yaml'], dir, /\[train=3200\] epoch 1\/3/);
    await run.matched;
    const sent = performance.now();
    run.child.kill(signal);
    expect(await run.exited).toBe(code);
    const stopSeconds = (performance.now() - sent) / 1000;
    const record = readRecord(join(out, 'train=3200'));
    expect(record.status).toBe('interrupted');
    // Epoch 2 was in progress: it is abandoned, not finished first.
    expect(record.epochsCompleted).toBe(1);
    expect(epochsOf(join(out, 'train=3200'))).toEqual([1]);
    expect(run.output()).toContain('[train=3200] interrupted');
    expect(run.output()).toContain('1 run(s) not finished; run the same command again to resume them from their last completed epoch: xrun exp.yaml');
    expect(stopSeconds).toBeLessThan(record.final.epoch_seconds + 1.5);
    expect(snapshot(join(out, 'train=192'))).toEqual(finished);
    expect(existsSync(join(out, '.xrun.lock'))).toBe(false);
    expect(leftovers(dir)).toEqual([]);

    // What a hard kill in the middle of writing would have left: temporaries of a dead
    // process and a checkpoint swap that lost its cleanup. Resuming must clear them.
    const deadPid = spawnSync(process.execPath, ['-e', '']).pid;
    const runDir = join(out, 'train=3200');
    writeFileSync(join(runDir, `.run.json.tmp-${deadPid}-0123456789ab`), '{');
    writeFileSync(join(runDir, 'plots', `.training.png.tmp-${deadPid}-0123456789ab`), '');
    mkdirSync(join(out, `.summary.md.tmp-${deadPid}-0123456789ab`));
    cpSync(join(runDir, 'checkpoints/last'), join(runDir, 'checkpoints/last.old'), { recursive: true });
    expect(leftovers(dir)).toHaveLength(4);

    const resumed = xrun(['exp.yaml'], dir);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stdout).toContain('[train=192] skipped: completed, same config');
    expect(resumed.stdout).toContain('[train=3200] resuming after epoch 1');
    expect(readRecord(join(out, 'train=3200')).status).toBe('completed');
    expect(epochsOf(join(out, 'train=3200'))).toEqual([1, 2, 3]);
    expect(snapshot(join(out, 'train=192'))).toEqual(finished);
    expect(readdirSync(out).filter((f) => f.startsWith('.'))).toEqual([]);
    expect(leftovers(dir)).toEqual([]);
  }, 180_000);
});

describe('a second Ctrl-C', () => {
  // Whether the second signal lands before the first stop completes is up to timing; either
  // way the invariants below must hold.
  it('two in a row: exit 130, the worker gone, finished runs intact; the next start finishes the run', async () => {
    const dir = tempProject({ 'exp.yaml': experiment('twice', 'sweep:\n  dataset.subset.train: [192, 3200]\n') });
    const out = join(dir, 'runs/twice');
    const done = xrun(['exp.yaml', '--only', 'train=192'], dir);
    expect(done.code, done.stderr).toBe(0);
    const finished = snapshot(join(out, 'train=192'));

    const run = xrunUntil(['exp.yaml'], dir, /\[train=3200\] epoch 1\/3/);
    await run.matched;
    const runDir = join(out, 'train=3200');
    const workerPid = readRecord(runDir).pid as number;
    run.child.kill('SIGINT');
    await new Promise((r) => setTimeout(r, 5));
    run.child.kill('SIGINT');
    expect(await run.exited).toBe(130);
    await waitUntil(() => !processAlive(workerPid), 5_000, `worker ${workerPid} to be gone`);
    expect(existsSync(join(out, '.xrun.lock'))).toBe(false);
    expect(snapshot(join(out, 'train=192'))).toEqual(finished);
    // Whatever state the killed run was in, its files parse and the next start finishes it.
    expect(['running', 'interrupted']).toContain(readRecord(runDir).status);
    const resumed = xrun(['exp.yaml'], dir);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stdout).toContain('[train=192] skipped: completed, same config');
    expect(readRecord(runDir).status).toBe('completed');
    expect(epochsOf(runDir)).toEqual([1, 2, 3]);
    expect(leftovers(dir)).toEqual([]);
  }, 120_000);
});

describe('orphaned worker', () => {
  it('stops after its current batch when the parent is killed mid-epoch, and records the run as interrupted', async () => {
    const dir = tempProject({ 'exp.yaml': experiment('orphan', 'sweep:\n  dataset.subset.train: [192, 3200]\n') });
    const runDir = join(dir, 'runs/orphan/train=3200');
    const run = xrunUntil(['exp.yaml', '--only', 'train=3200'], dir, /\[train=3200\] epoch 1\/3/);
    await run.matched;
    const workerPid = readRecord(runDir).pid as number;
    run.child.kill('SIGKILL');
    await run.exited;
    await waitUntil(() => !processAlive(workerPid), 15_000, `worker ${workerPid} to exit after its parent died`);
    const record = readRecord(runDir);
    expect(record.status).toBe('interrupted');
    // Epoch 2 (about two seconds) was abandoned, not trained to its end first.
    expect(record.epochsCompleted).toBe(1);
    expect(epochsOf(runDir)).toEqual([1]);
    expect(leftovers(runDir)).toEqual([]);
  }, 60_000);
});

describe('crash leftovers', () => {
  it('a checkpoint swap succeeds over a full checkpoint folder with a stale .old beside it', async () => {
    // The state a kill between a swap's last rename and its cleanup leaves: `best` is whole
    // and `best.old` is the previous one. The next swap must still move `best` aside.
    const dir = tempProject({});
    const target = join(dir, 'best');
    mkdirSync(target);
    writeFileSync(join(target, 'weights.bin'), 'current');
    mkdirSync(`${target}.old`);
    writeFileSync(join(`${target}.old`, 'weights.bin'), 'previous');
    const staged = await makeStagingDir(target);
    writeFileSync(join(staged, 'weights.bin'), 'next');
    await replaceDirAtomic(staged, target);
    expect(readFileSync(join(target, 'weights.bin'), 'utf8')).toBe('next');
    expect(readdirSync(dir)).toEqual(['best']);
  });
});

describe('selecting runs', () => {
  it('--only, --exclude and --failed pick runs by id and status; a NaN loss fails one run and the others go on', () => {
    // sgd at an absurd learning rate diverges within a few batches, every time.
    const dir = tempProject({
      'exp.yaml': experiment('sel', 'sweep:\n  training.learningRate: [1000000, 0.01, 0.02]\n', 'batchSize: 32, epochs: 2, optimizer: sgd, learningRate: 0.01'),
    });
    const out = join(dir, 'runs/sel');
    const ids = ['learningRate=1000000', 'learningRate=0.01', 'learningRate=0.02'];

    const only = xrun(['exp.yaml', '--only', '*=0.01'], dir);
    expect(only.code, only.stderr).toBe(0);
    expect(only.stdout).toContain('1 run(s): 1 to train, 0 skipped');
    expect(readdirSync(out).filter((f) => f.startsWith('learningRate='))).toEqual(['learningRate=0.01']);
    const completed = snapshot(join(out, 'learningRate=0.01'));

    const excluded = xrun(['exp.yaml', '--exclude', 'learningRate=0.0*'], dir);
    expect(excluded.code).toBe(1);
    expect(excluded.stdout).toContain('1 run(s): 1 to train, 0 skipped');
    expect(excluded.stdout).toMatch(/\[learningRate=1000000\] failed: .*NaN/);
    expect(excluded.stderr).toContain('1 run(s) failed: learningRate=1000000');
    const bad = readRecord(join(out, 'learningRate=1000000'));
    expect(bad.status).toBe('failed');
    expect(bad.error.message).toMatch(/NaN/);
    expect(existsSync(join(out, 'learningRate=0.02'))).toBe(false);

    const status = xrun(['status', 'runs/sel'], dir);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/learningRate=0\.01\s+completed\s+2\/2/);
    expect(status.stdout).toMatch(/learningRate=1000000\s+failed\s+0\/2/);
    const planned = xrun(['status', 'exp.yaml'], dir);
    expect(planned.stdout).toMatch(/learningRate=0\.02\s+not run/);

    // --failed retries the failed run only: not the completed one, not the one never run.
    const retried = xrun(['run', 'exp.yaml', '--failed'], dir);
    expect(retried.code).toBe(1);
    expect(retried.stdout).toContain('3 run(s): 1 to train, 2 skipped');
    expect(retried.stdout).toMatch(/\[learningRate=0\.01\] skipped: completed/);
    expect(retried.stdout).toMatch(/\[learningRate=0\.02\] skipped: not run yet/);
    expect(retried.stdout).toContain('[learningRate=1000000] started');
    expect(Date.parse(readRecord(join(out, 'learningRate=1000000')).startedAt)).toBeGreaterThan(Date.parse(bad.startedAt));
    expect(existsSync(join(out, 'learningRate=0.02'))).toBe(false);

    // Everything: the failure comes first and the last run still trains.
    const all = xrun(['exp.yaml'], dir);
    expect(all.code).toBe(1);
    expect(all.stdout).toContain('3 run(s): 2 to train, 1 skipped');
    expect(all.stdout.indexOf('[learningRate=1000000] failed')).toBeLessThan(all.stdout.indexOf('[learningRate=0.02] started'));
    expect(readRecord(join(out, 'learningRate=0.02')).status).toBe('completed');
    expect(snapshot(join(out, 'learningRate=0.01'))).toEqual(completed);
    const final = xrun(['status', 'runs/sel'], dir);
    for (const id of ids) expect(final.stdout).toMatch(new RegExp(`${id.replace('.', '\\.')}\\s+(completed|failed)`));

    const none = xrun(['exp.yaml', '--only', 'nothing*'], dir);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('no run of sel matches');
  }, 180_000);
});

describe('--jobs', () => {
  it('--jobs 2 trains two runs at the same time', () => {
    const dir = tempProject({ 'exp.yaml': experiment('jobs', 'sweep:\n  training.learningRate: [0.004, 0.005]\n', 'batchSize: 32, epochs: 2, learningRate: 0.005') });
    const r = xrun(['exp.yaml', '--jobs', '2'], dir);
    expect(r.code, r.stderr).toBe(0);
    const spans = ['learningRate=0.004', 'learningRate=0.005'].map((id) => {
      const record = readRecord(join(dir, 'runs/jobs', id));
      expect(record.status).toBe('completed');
      return [Date.parse(record.startedAt), Date.parse(record.endedAt)] as const;
    });
    // Overlap: each started before the other ended.
    expect(spans[0]![0]).toBeLessThan(spans[1]![1]);
    expect(spans[1]![0]).toBeLessThan(spans[0]![1]);
  }, 120_000);
});
