/**
 * Run locks across hosts, for real: two xrun processes share one output folder but live
 * in different UTS namespaces (`unshare --uts`), so each sees its own host name, as two
 * cluster nodes on a shared file system do. From another host a pid means nothing: a
 * holder there counts as alive until its lease runs out without renewal. Skipped, saying
 * why, without root or unshare.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { tempProject, XRUN } from './helpers/cli.js';
import { epochsOf, readRecord, waitFor } from './helpers/runs.js';

let skipped: string | undefined;

beforeAll(() => {
  if (process.platform !== 'linux') skipped = 'UTS namespaces are Linux only';
  else if (process.getuid?.() !== 0) skipped = 'unshare --uts needs root';
  else {
    const probe = spawnSync('unshare', ['--uts', 'hostname', 'xrun-probe'], { encoding: 'utf8' });
    if (probe.error || probe.status !== 0) skipped = `unshare --uts failed here: ${probe.error?.message ?? probe.stderr.trim()}`;
  }
  if (skipped) console.log(`cross-host lock tests skipped: ${skipped}`);
});

/** xrun on "host" `host`: its own UTS namespace with that host name, in a process group of its own. */
function onHost(host: string, args: string[], cwd: string) {
  const child = spawn('unshare', ['--uts', 'sh', '-c', `hostname ${host} && exec "$0" "$@"`, process.execPath, XRUN, ...args], {
    cwd,
    env: { ...process.env, CI: '1' },
    detached: true,
  });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number | null>((r) => child.on('exit', (code, signal) => r(code ?? (signal ? -1 : null))));
  return { child, exited, output: () => out };
}

async function runOnHost(host: string, args: string[], cwd: string): Promise<{ code: number | null; out: string }> {
  const p = onHost(host, args, cwd);
  return { code: await p.exited, out: p.output() };
}

const EXPERIMENT = `name: hosts
seed: 5
runtime: { backend: wasm }
dataset:
  name: mnist
  subset: { train: 512, test: 64 }
models:
  gru: { type: gru, hidden: 16, layers: 1 }
model: gru
training: { batchSize: 32, epochs: 3, learningRate: 0.005 }
sweep:
  seed: [1, 2]
`;

describe('run locks between two hosts', () => {
  it('a stalled holder on another host keeps its runs until its lease ends; then they are taken over and finished once', async (ctx) => {
    if (skipped) return ctx.skip();
    const dir = tempProject({ 'exp.yaml': EXPERIMENT });
    const out = join(dir, 'runs/hosts');
    const ids = ['seed=1', 'seed=2'];
    const lease = ['--lock-seconds', '10'];

    // Host A trains both runs; after their first epoch it hangs (SIGSTOP: no renewals).
    const a = onHost('node-a', ['exp.yaml', '--jobs', '2', ...lease], dir);
    ctx.onTestFinished(() => {
      if (a.child.exitCode === null && a.child.signalCode === null) process.kill(-a.child.pid!, 'SIGKILL');
    });
    await waitFor('both runs to finish epoch 1 on node-a', () => ids.every((id) => epochsOf(join(out, id)).length >= 1), 120_000, 50);
    process.kill(-a.child.pid!, 'SIGSTOP');
    const locks = readdirSync(join(out, '.locks')).filter((f) => f.endsWith('.lock'));
    expect(locks.sort()).toEqual(ids.map((id) => `${id}.lock`));
    const holders = locks.map((f) => JSON.parse(readFileSync(join(out, '.locks', f), 'utf8')));
    expect(holders.map((h) => h.host)).toEqual(['node-a', 'node-a']);

    // Host B while A's leases run: both runs are someone else's.
    const trained = ids.map((id) => epochsOf(join(out, id)));
    const early = await runOnHost('node-b', ['exp.yaml', ...lease], dir);
    expect(early.code, early.out).toBe(0);
    for (const id of ids) expect(early.out).toMatch(new RegExp(`${id}.*being trained by node-a pid ${holders[0]!.pid}`));
    expect(ids.map((id) => epochsOf(join(out, id)))).toEqual(trained);

    // A dies outright. Its pid may even exist on B's side; B still cannot tell, so it waits out the lease.
    process.kill(-a.child.pid!, 'SIGKILL');
    await a.exited;
    const expiresAt = Math.max(...locks.map((f) => JSON.parse(readFileSync(join(out, '.locks', f), 'utf8')).expiresAt as number));
    // Renewed at least every third of the 10 s lease before the stop: over 5 s are left.
    expect(expiresAt - Date.now()).toBeGreaterThan(2000);
    const still = await runOnHost('node-b', ['exp.yaml', ...lease], dir);
    expect(still.code, still.out).toBe(0);
    expect(still.out).toMatch(/being trained by node-a/);
    expect(ids.map((id) => epochsOf(join(out, id)))).toEqual(trained);
    await new Promise((r) => setTimeout(r, Math.max(0, expiresAt - Date.now()) + 300));

    // Past the lease: B takes both runs over, resumes each from its checkpoint, finishes.
    const late = await runOnHost('node-b', ['exp.yaml', ...lease], dir);
    expect(late.code, late.out).toBe(0);
    for (const id of ids) {
      const record = readRecord(join(out, id));
      expect(record.status).toBe('completed');
      expect(record.resumedAt?.length, `${id} resumed rather than restarted`).toBe(1);
      expect(record.resumedAt[0]).toBeGreaterThanOrEqual(1);
      // Every epoch exactly once: nothing trained twice, nothing lost.
      expect(epochsOf(join(out, id))).toEqual([1, 2, 3]);
    }
    const left = existsSync(join(out, '.locks')) ? readdirSync(join(out, '.locks')) : [];
    expect(left.filter((f) => f.endsWith('.lock'))).toEqual([]);
  }, 240_000);
});
