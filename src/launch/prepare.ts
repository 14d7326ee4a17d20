/**
 * What a remote launcher does before it submits anything, as a local run does before it
 * trains: select, check backends and data files, decide each run against its folder,
 * stop on conflicts. Nothing is written until all of it has passed.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify as yamlStringify } from 'yaml';
import type { ExperimentPlan } from '../config/load.js';
import { UsageError } from '../errors.js';
import { assertNoConflicts, decideRuns, selectRuns, type Decision, type SelectOptions } from '../runner/decide.js';
import { checkPlanData } from '../runner/run-experiment.js';
import { writeFileAtomic } from '../store/atomic.js';
import { assertBackendInstalled } from '../train/backend-check.js';
import type { LaunchedRun } from './job.js';

export async function decidePending(plan: ExperimentPlan, selection: SelectOptions): Promise<Decision[]> {
  const selected = selectRuns(plan.runs, selection);
  if (selected.length === 0) {
    throw new UsageError(`no run of ${plan.name} matches the --only/--exclude patterns`, {
      hint: `each --only/--exclude takes one pattern or exact run id (repeat the flag for several); ids are listed by: xrun plan ${plan.file}`,
    });
  }
  for (const backend of new Set(selected.map((r) => r.config.runtime.backend))) assertBackendInstalled(backend);
  // Also fills in what only the data says (the class count of idx runs), as a local run does.
  await checkPlanData(plan, selected);
  const decisions = await decideRuns(plan.outputDir, selected, selection);
  assertNoConflicts(decisions);
  return decisions;
}

/** The experiment folder and its experiment.yaml, as a local run writes them. */
export async function writeExperimentFiles(plan: ExperimentPlan): Promise<void> {
  await mkdir(plan.outputDir, { recursive: true });
  await writeFileAtomic(
    join(plan.outputDir, 'experiment.yaml'),
    `# The experiment as last run (after --set overrides), from ${plan.file}\n${yamlStringify(plan.experiment)}`,
  );
}

/** A self-contained description of one run, for a process that never sees the YAML. */
export function launchedRun(plan: ExperimentPlan, decision: Decision): LaunchedRun {
  const { run } = decision;
  return {
    experiment: plan.name,
    outputDir: plan.outputDir,
    id: run.id,
    dir: decision.dir,
    hash: run.hash,
    config: run.config,
    values: run.values,
  };
}

/** What rebuilding the experiment's summary needs: every run of the plan, not only these. */
export function reportInput(plan: ExperimentPlan) {
  return { name: plan.name, outputDir: plan.outputDir, runs: plan.runs.map((r) => ({ id: r.id, values: r.values })) };
}
