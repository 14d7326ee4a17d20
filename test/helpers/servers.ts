/**
 * Real servers for the cluster tests, started on loopback in a temporary folder and
 * stopped again even when a test fails: redis-server, and a one-node Slurm (munged,
 * slurmctld, slurmd). Each start returns a reason instead when the machine cannot
 * host that server (binary absent, not root), so the tests can skip saying why.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Server {
  /** Environment the clients need (SLURM_CONF) or the URL to reach the server. */
  env: Record<string, string>;
  url?: string;
  dir: string;
  /** Log files, for a test's failure message. */
  logs(): string;
  stop(): Promise<void>;
}

export type Started = { server: Server } | { skip: string };

function which(binary: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(':').concat(['/usr/sbin', '/usr/bin', '/sbin'])) {
    if (existsSync(join(dir, binary))) return join(dir, binary);
  }
  return undefined;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

async function until(what: string, check: () => boolean, timeoutMs: number, logs: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${what}\n${logs()}`);
}

/** Daemons still running when the test process exits (a crash, a timeout) are killed too. */
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

function track(child: ChildProcess): ChildProcess {
  running.add(child);
  child.once('exit', () => running.delete(child));
  return child;
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

function tail(file: string, lines = 30): string {
  try {
    return `--- ${file}\n${readFileSync(file, 'utf8').trim().split('\n').slice(-lines).join('\n')}`;
  } catch {
    return `--- ${file} (none)`;
  }
}

export async function startRedis(): Promise<Started> {
  const bin = which('redis-server');
  if (!bin) return { skip: 'redis-server is not installed (Debian: apt-get install redis-server)' };
  const dir = mkdtempSync(join(tmpdir(), 'xrun-redis-'));
  const port = await freePort();
  const log = join(dir, 'redis.log');
  const child = track(spawn(bin, ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no', '--logfile', log], {
    stdio: 'ignore',
  }));
  const logs = () => tail(log);
  const url = `redis://127.0.0.1:${port}`;
  try {
    await until('redis-server to accept connections', () => /Ready to accept connections/.test(safeRead(log)), 15_000, logs);
  } catch (err) {
    await stopChild(child);
    throw err;
  }
  return {
    server: {
      env: {},
      url,
      dir,
      logs,
      stop: async () => {
        await stopChild(child);
        rmSync(dir, { recursive: true, force: true });
      },
    },
  };
}

function safeRead(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

/**
 * A one-node Slurm: munged with its own socket, then slurmctld and slurmd in the
 * foreground (children of this process, so stopping them is certain), with every
 * state, spool, log and pid file in a temporary folder and ports picked free.
 */
export async function startSlurm(options: { cpus?: number; killWait?: number } = {}): Promise<Started> {
  const need = ['munged', 'slurmctld', 'slurmd', 'sbatch', 'squeue', 'scontrol', 'scancel'];
  const missing = need.filter((b) => !which(b));
  if (missing.length > 0) return { skip: `Slurm is not installed (missing ${missing.join(', ')}; Debian: apt-get install slurm-wlm munge)` };
  if (process.getuid?.() !== 0) return { skip: 'the Slurm tests start munged, slurmctld and slurmd, which needs root' };
  if (!existsSync('/etc/munge/munge.key')) return { skip: 'no /etc/munge/munge.key (the munge package creates it on install)' };
  const dir = mkdtempSync(join(tmpdir(), 'xrun-slurm-'));
  const socket = join(dir, 'munge.socket');
  const children: ChildProcess[] = [];
  const logs = () => ['munged.log', 'slurmctld.log', 'slurmd.log'].map((f) => tail(join(dir, f))).join('\n');
  const stop = async () => {
    for (const child of children.reverse()) await stopChild(child);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const munged = track(spawn(
      which('munged')!,
      ['-F', '-f', `--socket=${socket}`, `--pid-file=${join(dir, 'munged.pid')}`, `--log-file=${join(dir, 'munged.log')}`, `--seed-file=${join(dir, 'munged.seed')}`],
      { stdio: 'ignore' },
    ));
    children.push(munged);
    await until('munged', () => existsSync(socket), 15_000, logs);
    const [ctldPort, slurmdPort] = [await freePort(), await freePort()];
    const conf = join(dir, 'slurm.conf');
    writeFileSync(
      conf,
      [
        'ClusterName=xruntest',
        'SlurmctldHost=localhost',
        `SlurmctldPort=${ctldPort}`,
        `SlurmdPort=${slurmdPort}`,
        'AuthType=auth/munge',
        'CredType=cred/munge',
        `AuthInfo=socket=${socket}`,
        'ProctrackType=proctrack/linuxproc',
        'TaskPlugin=task/none',
        'SelectType=select/cons_tres',
        'SelectTypeParameters=CR_Core',
        'SlurmUser=root',
        'SlurmdUser=root',
        'AccountingStorageType=accounting_storage/none',
        'JobAcctGatherType=jobacct_gather/none',
        'JobCompType=jobcomp/none',
        'MpiDefault=none',
        'ReturnToService=2',
        `KillWait=${options.killWait ?? 30}`,
        'MinJobAge=300',
        `StateSaveLocation=${join(dir, 'state')}`,
        `SlurmdSpoolDir=${join(dir, 'spool')}`,
        `SlurmctldPidFile=${join(dir, 'slurmctld.pid')}`,
        `SlurmdPidFile=${join(dir, 'slurmd.pid')}`,
        `SlurmctldLogFile=${join(dir, 'slurmctld.log')}`,
        `SlurmdLogFile=${join(dir, 'slurmd.log')}`,
        `NodeName=localhost NodeHostname=${hostname()} CPUs=${options.cpus ?? 2} RealMemory=20000 State=UNKNOWN`,
        'PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP',
        '',
      ].join('\n'),
    );
    const env = { SLURM_CONF: conf };
    const daemonEnv = { ...process.env, ...env };
    const ctld = track(spawn(which('slurmctld')!, ['-D', '-i', '-f', conf], { stdio: 'ignore', env: daemonEnv }));
    children.push(ctld);
    const slurmd = track(spawn(which('slurmd')!, ['-D', '-N', 'localhost', '-f', conf], { stdio: 'ignore', env: daemonEnv }));
    children.push(slurmd);
    await until(
      'the Slurm node to be idle',
      () => {
        for (const c of [munged, ctld, slurmd]) if (c.exitCode !== null) throw new Error(`a Slurm daemon exited early (${c.exitCode})\n${logs()}`);
        const r = spawnSync('sinfo', ['-h', '-o', '%T'], { env: daemonEnv, encoding: 'utf8' });
        return r.status === 0 && r.stdout.trim() === 'idle';
      },
      60_000,
      logs,
    );
    return { server: { env, dir, logs, stop } };
  } catch (err) {
    await stop();
    throw err;
  }
}
