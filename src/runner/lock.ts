/**
 * One lock per run, so that processes on several machines (array tasks, queue workers,
 * a local `xrun run`) train an experiment's runs side by side but never one run twice
 * at once. The lock file records the holder's host and pid and a lease expiry that the
 * live holder renews; it lives on the shared output folder, beside the runs.
 *
 * A lock is taken over when its holder is known to be dead: on the same host, when
 * neither the holder's pid nor its training worker's pid exists; on another host (where
 * a pid means nothing), once the lease has run out without renewal. A live holder renews
 * every third of the lease, so its lock is never taken over while it lives. Clocks of the
 * hosts must agree to well within the lease (NTP does this; the default lease is 60 s).
 *
 * Creating the file is atomic with its content (written beside it, then hard-linked into
 * place, which fails if the name exists: also on NFS). Two processes that find the same
 * dead lock race for a marker file named after the dead holder's token; only the one
 * that creates it replaces the lock.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync, rmdirSync } from 'node:fs';
import { link, mkdir, open, readFile, rename, rm, rmdir, stat, unlink, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { processAlive } from '../util/process-alive.js';

export interface LockHolder {
  host: string;
  pid: number;
  /** The process that trains the run for the holder, also checked on the same host. */
  worker?: number;
  token: string;
  acquiredAt: string;
  /** Epoch milliseconds after which the lock counts as abandoned unless renewed. */
  expiresAt: number;
  leaseSeconds: number;
}

export interface RunLock {
  readonly file: string;
  readonly holder: LockHolder;
  /** True once another process took the lock over (this holder stalled past its lease). */
  readonly lost: boolean;
  /**
   * Called once if another process took the lock over: this holder was stalled (or its
   * clock off) past the lease. The run must stop writing at once; the new holder owns it.
   */
  onLost(callback: () => void): void;
  /** Records the pid of the process training the run. */
  setWorker(pid: number | undefined): Promise<void>;
  release(): Promise<void>;
  releaseSync(): void;
}

export type LockAttempt = { lock: RunLock } | { heldBy: LockHolder };

export interface LockOptions {
  leaseSeconds?: number;
  /** For tests: pretend to be another host. */
  host?: string;
}

export const DEFAULT_LEASE_SECONDS = 60;

/** Where the lock of run `id` of the experiment in `outputDir` lives. */
export function runLockFile(outputDir: string, id: string): string {
  return join(outputDir, '.locks', `${id}.lock`);
}

export function describeHolder(h: LockHolder): string {
  return `${h.host} pid ${h.pid}${h.worker ? ` (worker pid ${h.worker})` : ''}`;
}

/** Why a lock's holder counts as gone, or undefined while it may still be alive. */
export function holderGone(h: LockHolder, host: string, now = Date.now()): string | undefined {
  if (h.host === host) {
    const alive = processAlive(h.pid) || (h.worker !== undefined && processAlive(h.worker));
    if (!alive) return `its process ${h.pid} on this host is gone`;
    // A pid reused by an unrelated process keeps a same-host lock until its lease ends.
  }
  if (now > h.expiresAt) return `its lease expired ${Math.round((now - h.expiresAt) / 1000)} s ago`;
  return undefined;
}

export async function tryAcquireRunLock(file: string, options: LockOptions = {}): Promise<LockAttempt> {
  const host = options.host ?? hostname();
  const leaseSeconds = options.leaseSeconds ?? DEFAULT_LEASE_SECONDS;
  const holder: LockHolder = {
    host,
    pid: process.pid,
    token: randomBytes(8).toString('hex'),
    acquiredAt: new Date().toISOString(),
    expiresAt: Date.now() + leaseSeconds * 1000,
    leaseSeconds,
  };
  await ensureDir(dirname(file));
  for (let attempt = 0; attempt < 3; attempt++) {
    if (await createExclusive(file, holder)) return { lock: holdLock(file, holder) };
    const current = await readHolder(file);
    if (current === 'absent') continue;
    if (current !== 'unreadable' && !holderGone(current, host)) return { heldBy: current };
    // A file that cannot be parsed was never fully written or was damaged: take it over
    // once it is older than a lease, like a holder that stopped renewing.
    if (current === 'unreadable') {
      const age = await stat(file).then((s) => Date.now() - s.mtimeMs, () => 0);
      if (age < leaseSeconds * 1000) return { heldBy: { host: '?', pid: 0, token: '', acquiredAt: '', expiresAt: 0, leaseSeconds } };
    }
    const deadToken = current === 'unreadable' ? 'unreadable' : current.token;
    const marker = `${file}.takeover-${deadToken}`;
    try {
      await (await open(marker, 'wx')).close();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      // Another process is taking this dead lock over right now.
      await new Promise((r) => setTimeout(r, 100));
      continue;
    }
    try {
      // Still the dead holder's? Between our read and the marker another process may
      // have completed a takeover and released its marker.
      const again = await readHolder(file);
      const same = again === 'unreadable' ? deadToken === 'unreadable' : again !== 'absent' && again.token === deadToken;
      if (!same) continue;
      await replaceAtomic(file, holder);
      return { lock: holdLock(file, holder) };
    } finally {
      await unlink(marker).catch(() => {});
    }
  }
  const current = await readHolder(file);
  if (current !== 'absent' && current !== 'unreadable') return { heldBy: current };
  throw new Error(`could not take the lock ${file}`);
}

/** Waits (polling) for the lock while its holder lives, up to `timeoutMs`. */
export async function acquireRunLock(file: string, options: LockOptions & { timeoutMs: number; pollMs?: number }): Promise<LockAttempt> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    const attempt = await tryAcquireRunLock(file, options);
    if ('lock' in attempt || Date.now() >= deadline) return attempt;
    await new Promise((r) => setTimeout(r, options.pollMs ?? 1000));
  }
}

/**
 * mkdir -p that tolerates the folder being removed under it: the last holder of another
 * run removes the emptied lock folder, and a recursive mkdir racing that removal can fail
 * with ENOENT.
 */
async function ensureDir(dir: string): Promise<void> {
  for (let tries = 0; ; tries++) {
    try {
      await mkdir(dir, { recursive: true });
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || tries >= 5) throw err;
    }
  }
}

async function createExclusive(file: string, holder: LockHolder): Promise<boolean> {
  const staged = `${file}.new-${holder.token}`;
  for (let tries = 0; ; tries++) {
    try {
      await writeFile(staged, JSON.stringify(holder));
      break;
    } catch (err) {
      // The last holder of another run removed the emptied lock folder just now.
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || tries >= 5) throw err;
      await ensureDir(dirname(file));
    }
  }
  try {
    await link(staged, file);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  } finally {
    await unlink(staged).catch(() => {});
  }
}

async function replaceAtomic(file: string, holder: LockHolder): Promise<void> {
  const staged = `${file}.new-${holder.token}-${randomBytes(4).toString('hex')}`;
  await writeFile(staged, JSON.stringify(holder));
  await rename(staged, file);
}

async function readHolder(file: string): Promise<LockHolder | 'absent' | 'unreadable'> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'absent';
    throw err;
  }
  return parseHolder(text) ?? 'unreadable';
}

function parseHolder(text: string): LockHolder | undefined {
  try {
    const h = JSON.parse(text) as LockHolder;
    return typeof h.token === 'string' && typeof h.expiresAt === 'number' && typeof h.pid === 'number' ? h : undefined;
  } catch {
    return undefined;
  }
}

export function readHolderSync(file: string): LockHolder | undefined {
  try {
    return parseHolder(readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
}

function holdLock(file: string, holder: LockHolder): RunLock {
  let lost = false;
  let released = false;
  const lostCallbacks: (() => void)[] = [];
  const mine = async () => {
    const current = await readHolder(file).catch(() => 'unreadable' as const);
    return typeof current === 'object' && current.token === holder.token;
  };
  const renew = async () => {
    if (released || lost) return;
    if (!(await mine())) {
      lost = true;
      for (const cb of lostCallbacks) cb();
      return;
    }
    holder.expiresAt = Date.now() + holder.leaseSeconds * 1000;
    await replaceAtomic(file, holder).catch(() => {});
  };
  // A timer on the holder's event loop: the holder never blocks it for long (training
  // runs in a worker process), so a live holder always renews well before expiry.
  const timer = setInterval(() => void renew(), (holder.leaseSeconds * 1000) / 3);
  timer.unref();
  return {
    file,
    holder,
    get lost() {
      return lost;
    },
    onLost(callback) {
      lostCallbacks.push(callback);
    },
    async setWorker(pid) {
      holder.worker = pid;
      await renew();
    },
    async release() {
      released = true;
      clearInterval(timer);
      if (!lost && (await mine())) {
        await rm(file, { force: true });
        // An empty lock folder is not left behind; one still holding other locks stays.
        await rmdir(dirname(file)).catch(() => {});
      }
    },
    releaseSync() {
      released = true;
      clearInterval(timer);
      if (!lost && readHolderSync(file)?.token === holder.token) {
        rmSync(file, { force: true });
        try {
          rmdirSync(dirname(file));
        } catch {
          // Not empty, or already gone.
        }
      }
    },
  };
}
