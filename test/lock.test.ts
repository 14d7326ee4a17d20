import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runLockFile, tryAcquireRunLock, type LockHolder } from '../src/runner/lock.js';
import { processAlive } from '../src/util/process-alive.js';

const fresh = () => {
  const out = mkdtempSync(join(tmpdir(), 'xrun-lock-'));
  return { out, file: runLockFile(out, 'model=gru,batchSize=32') };
};

const deadPid = () => spawnSync(process.execPath, ['-e', '']).pid!;

function plant(file: string, holder: Partial<LockHolder>) {
  mkdirSync(join(file, '..'), { recursive: true });
  const full: LockHolder = { host: hostname(), pid: process.pid, token: 'planted', acquiredAt: '', expiresAt: Date.now() + 60_000, leaseSeconds: 60, ...holder };
  writeFileSync(file, JSON.stringify(full));
}

describe('per-run lease locks', () => {
  it('one holder at a time; released, the lock and its emptied folder are gone', async () => {
    const { out, file } = fresh();
    const first = await tryAcquireRunLock(file);
    expect('lock' in first).toBe(true);
    const held = JSON.parse(readFileSync(file, 'utf8'));
    expect(held).toMatchObject({ host: hostname(), pid: process.pid, leaseSeconds: 60 });
    const second = await tryAcquireRunLock(file);
    expect('heldBy' in second && second.heldBy.token).toBe(held.token);
    // Another run's lock is independent.
    const other = await tryAcquireRunLock(runLockFile(out, 'model=cnn'));
    expect('lock' in other).toBe(true);
    if ('lock' in first) await first.lock.release();
    expect(existsSync(file)).toBe(false);
    if ('lock' in other) await other.lock.release();
    expect(existsSync(join(out, '.locks'))).toBe(false);
  });

  it('many runs locked and released side by side: the emptied folder vanishing never breaks a taker', async () => {
    const { out } = fresh();
    // Each release of the last lock removes .locks while other runs are taking theirs.
    await Promise.all(
      Array.from({ length: 8 }, async (_, lane) => {
        for (let i = 0; i < 40; i++) {
          const attempt = await tryAcquireRunLock(runLockFile(out, `run-${lane}-${i}`));
          expect('lock' in attempt).toBe(true);
          if ('lock' in attempt) await attempt.lock.release();
        }
      }),
    );
    expect(existsSync(join(out, '.locks'))).toBe(false);
  });

  it('same host: a dead holder is taken over at once, a live one never', async () => {
    const { file } = fresh();
    plant(file, { pid: deadPid(), expiresAt: Date.now() + 3_600_000 });
    const taken = await tryAcquireRunLock(file);
    expect('lock' in taken).toBe(true);
    if ('lock' in taken) await taken.lock.release();
    // Holder dead but its training worker alive: still held.
    plant(file, { pid: deadPid(), worker: process.pid });
    expect('heldBy' in (await tryAcquireRunLock(file))).toBe(true);
  });

  it('another host: held while the lease runs, taken over once it expired without renewal', async () => {
    const { file } = fresh();
    // The pid of another host may well exist here too: it must not matter.
    plant(file, { host: 'node17', pid: deadPid(), expiresAt: Date.now() + 30_000 });
    const refused = await tryAcquireRunLock(file);
    expect('heldBy' in refused && refused.heldBy.host).toBe('node17');
    plant(file, { host: 'node17', pid: process.pid, expiresAt: Date.now() - 1 });
    const taken = await tryAcquireRunLock(file);
    expect('lock' in taken).toBe(true);
  });

  it('a live holder renews its lease, so a holder on another host never loses it while alive', async () => {
    const { file } = fresh();
    const attempt = await tryAcquireRunLock(file, { leaseSeconds: 0.6, host: 'node1' });
    if (!('lock' in attempt)) throw new Error('not acquired');
    const firstExpiry = JSON.parse(readFileSync(file, 'utf8')).expiresAt;
    await new Promise((r) => setTimeout(r, 1500));
    // Past the first lease: renewed, so another host is refused.
    expect(JSON.parse(readFileSync(file, 'utf8')).expiresAt).toBeGreaterThan(firstExpiry);
    expect('heldBy' in (await tryAcquireRunLock(file, { host: 'node2', leaseSeconds: 0.6 }))).toBe(true);
    await attempt.lock.release();
    expect('lock' in (await tryAcquireRunLock(file, { host: 'node2' }))).toBe(true);
  });

  it('many processes racing for one dead lock: exactly one wins', async () => {
    const { out, file } = fresh();
    plant(file, { host: 'gone', expiresAt: Date.now() - 1000 });
    const script = `
      import { tryAcquireRunLock } from ${JSON.stringify(join(process.cwd(), 'src/runner/lock.ts'))};
      const a = await tryAcquireRunLock(${JSON.stringify(file)});
      console.log('lock' in a ? 'won' : 'lost');
      await new Promise((r) => setTimeout(r, 1500));`;
    const runs = await Promise.all(
      Array.from({ length: 4 }, () =>
        new Promise<string>((resolve) => {
          const r = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: process.cwd() });
          let s = '';
          r.stdout.on('data', (c: Buffer) => (s += c.toString()));
          r.on('exit', () => resolve(s.trim()));
        }),
      ),
    );
    expect(runs.filter((r) => r === 'won')).toHaveLength(1);
    expect(runs.filter((r) => r === 'lost')).toHaveLength(3);
  }, 60_000);
});

describe('a holder that lost its lock', () => {
  it('hears so at its next renewal, and release leaves the new holder alone', async () => {
    const { file } = fresh();
    const attempt = await tryAcquireRunLock(file, { leaseSeconds: 0.6 });
    if (!('lock' in attempt)) throw new Error('not acquired');
    let told = 0;
    attempt.lock.onLost(() => told++);
    // What a takeover by another host after an expired lease leaves in the file.
    plant(file, { host: 'node9', token: 'newer' });
    await new Promise((r) => setTimeout(r, 500));
    expect(told).toBe(1);
    expect(attempt.lock.lost).toBe(true);
    await attempt.lock.release();
    expect(JSON.parse(readFileSync(file, 'utf8')).token).toBe('newer');
  });
});

describe('a holder that exited but was never collected', () => {
  it('counts as dead: a zombie (kill(pid, 0) still succeeds) does not keep its lock', async () => {
    if (process.platform !== 'linux') return;
    // sh starts a child that outlives it as sh becomes `sleep`, which never collects it: once
    // the child ends (after 0.3 s, well after the exec) it is a zombie until `sleep 8` ends.
    const parent = spawn('sh', ['-c', 'sleep 0.3 & echo $!; exec sleep 8'], { stdio: ['ignore', 'pipe', 'ignore'] });
    try {
      const pid = Number((await new Promise<Buffer>((r) => parent.stdout.once('data', r))).toString().trim());
      let state = '';
      for (let i = 0; i < 200 && state !== 'Z'; i++) {
        await new Promise((r) => setTimeout(r, 20));
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
      }
      expect(state).toBe('Z');
      expect(() => process.kill(pid, 0)).not.toThrow();
      expect(processAlive(pid)).toBe(false);
      expect(processAlive(process.pid)).toBe(true);
      const { file } = fresh();
      plant(file, { pid, expiresAt: Date.now() + 60_000 });
      const attempt = await tryAcquireRunLock(file);
      expect('lock' in attempt).toBe(true);
      if ('lock' in attempt) await attempt.lock.release();
    } finally {
      parent.kill('SIGKILL');
    }
  });
});
