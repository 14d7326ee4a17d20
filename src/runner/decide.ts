/**
 * What to do with each planned run, given what its folder already holds. Decided for
 * all runs before any starts, so a conflict stops xrun before it touches anything.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { PlannedRun } from '../config/load.js';
import { identityOf, type RunConfig } from '../config/resolve.js';
import { RunStoreError } from '../errors.js';
import { diffConfigs } from '../report/diff.js';
import { RunDir, type RunRecord } from '../store/run-dir.js';
import { matchesAny } from '../util/glob.js';

/** 'conflict': the folder holds a different config; running stops before anything starts. */
export type Action = 'run' | 'resume' | 'skip' | 'conflict';

export interface Decision {
  run: PlannedRun;
  dir: string;
  action: Action;
  /** Why, in a few words, for the plan and the progress view. */
  reason: string;
  record?: RunRecord;
}

export interface SelectOptions {
  force?: boolean;
  only?: string[];
  exclude?: string[];
  /** Retry only runs whose last attempt failed. */
  failedOnly?: boolean;
}

export function selectRuns(runs: PlannedRun[], options: SelectOptions): PlannedRun[] {
  return runs.filter(
    (r) => (!options.only?.length || matchesAny(r.id, options.only)) && !(options.exclude?.length && matchesAny(r.id, options.exclude)),
  );
}

export async function decideRuns(outputDir: string, runs: PlannedRun[], options: SelectOptions): Promise<Decision[]> {
  const decisions: Decision[] = [];
  for (const run of runs) {
    const dir = join(outputDir, run.id);
    const store = new RunDir(dir);
    let record: RunRecord | undefined;
    try {
      record = await store.readRecord();
    } catch (err) {
      if (!options.force) throw err;
    }
    const decide = (action: Action, reason: string) => decisions.push({ run, dir, action, reason, ...(record ? { record } : {}) });
    if (options.force) {
      decide('run', existsSync(dir) ? 'forced rerun' : 'new');
    } else if (!record) {
      if (options.failedOnly) decide('skip', 'not run yet (--failed retries failed runs only)');
      else decide('run', 'new');
    } else if (record.hash !== run.hash) {
      decide('conflict', await describeConflict(store, run));
    } else if (options.failedOnly && record.status !== 'failed') {
      decide('skip', `${record.status} (--failed retries failed runs only)`);
    } else if (record.status === 'completed') {
      decide('skip', 'completed, same config');
    } else if (record.status === 'failed') {
      decide('run', 'failed before: starting over');
    } else {
      // 'running' (its process died), 'interrupted' or 'pending': continue from the last checkpoint.
      decide('resume', `${record.status === 'running' ? 'stopped unexpectedly' : record.status} at epoch ${record.epochsCompleted}/${record.epochs}`);
    }
  }
  return decisions;
}

export function assertNoConflicts(decisions: Decision[]): void {
  const conflicts = decisions.filter((d) => d.action === 'conflict');
  if (conflicts.length === 0) return;
  throw new RunStoreError(
    `${conflicts.length} run folder(s) hold results of a different config:\n` +
      conflicts.map((d) => `  ${d.run.id} (${d.dir}): ${d.reason}`).join('\n'),
    { hint: "rerun with --force to replace them, or change 'name' (or 'output') to keep both" },
  );
}

async function describeConflict(store: RunDir, run: PlannedRun): Promise<string> {
  const text = await store.readConfigText();
  let changes = 'different config (its config.yaml is missing or unreadable)';
  if (text !== undefined) {
    try {
      const stored = parseYaml(text) as RunConfig;
      const diff = diffConfigs(identityOf(stored), identityOf(run.config));
      if (diff.length > 0) {
        changes = diff.map((d) => `${d.path}: ${JSON.stringify(d.a)} -> ${JSON.stringify(d.b)}`).join(', ');
      }
    } catch {
      // Fall through with the generic description.
    }
  }
  return changes;
}
