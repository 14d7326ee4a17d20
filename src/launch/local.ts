/** `--executor local` (the default): worker processes on this machine, `jobs` at a time. */
import type { ExperimentPlan } from '../config/load.js';
import type { SelectOptions } from '../runner/decide.js';
import type { ProgressView } from '../runner/progress.js';
import { runExperiment, type ExperimentResult } from '../runner/run-experiment.js';
import type { Launcher } from './launcher.js';

export interface LocalLauncherOptions {
  jobs: number;
  gpus?: string[];
  progress: ProgressView;
  /** Hears the full result (the CLI prints the summary table from it). */
  onResult?: (result: ExperimentResult) => void;
}

export class LocalLauncher implements Launcher {
  readonly executor = 'local' as const;
  constructor(private readonly options: LocalLauncherOptions) {}

  async launch(plan: ExperimentPlan, selection: SelectOptions): Promise<number> {
    const { onResult, ...rest } = this.options;
    const result = await runExperiment(plan, { ...rest, ...selection });
    onResult?.(result);
    return result.exitCode;
  }
}
