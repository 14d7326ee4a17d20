/**
 * Where an experiment's runs execute. One small interface, one implementation per place,
 * side by side in this folder: `local` (worker processes on this machine), `slurm` (one
 * sbatch job array), `queue` (a Redis queue that `xrun worker` processes on any machine
 * pull from). Every launcher validates and decides exactly as a local run does, and
 * every run is trained by the same code under the same per-run lock and identity rules.
 */
import type { ExperimentPlan } from '../config/load.js';
import { EXECUTORS } from '../config/schema.js';
import type { SelectOptions } from '../runner/decide.js';

export { EXECUTORS };
export type Executor = (typeof EXECUTORS)[number];

export interface Launcher {
  readonly executor: Executor;
  /** Runs, submits or enqueues the selected runs of `plan`; resolves with the exit code. */
  launch(plan: ExperimentPlan, selection: SelectOptions): Promise<number>;
}

/** Lines for the user; launchers print through this so tests and scripts can capture them. */
export type Say = (line: string) => void;
