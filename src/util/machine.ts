/** The machine a run trained on, for run.json and the report: enough to tell results apart. */
import { arch, cpus, hostname, platform, release, totalmem } from 'node:os';

export interface MachineInfo {
  host: string;
  os: string;
  cpu: string;
  cores: number;
  memoryGiB: number;
  node: string;
}

export function machineInfo(): MachineInfo {
  const cores = cpus();
  return {
    host: hostname(),
    os: `${platform()} ${release()} ${arch()}`,
    cpu: cores[0]?.model.trim() ?? 'unknown',
    cores: cores.length,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
  };
}
