/**
 * What to do with each planned run, given what its folder already holds. Decided for
 * all runs before any starts, so a conflict stops xrun before it touches anything.
 */
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { PlannedRun } from '../config/load.js';
import { configHashExceptEpochs, identityOf, type RunConfig } from '../config/resolve.js';
import { RunStoreError } from '../errors.js';
import { diffConfigs } from '../report/diff.js';
import { RunDir, type RunRecord } from '../store/run-dir.js';
import { dependsOnEpochCount } from '../train/schedule.js';
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
  /** The hash of the shorter run this one continues (training.epochs raised). */
  continueFrom?: string;
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

/** A run folder already in the output folder, found by its run.json. */
interface Existing {
  name: string;
  dir: string;
  record: RunRecord;
  /** Identity hash without training.epochs, from its config.yaml; undefined when unreadable. */
  hashExceptEpochs: () => Promise<string | undefined>;
}

/**
 * Every run folder of the experiment, by the hash of what it computes: a run is found by
 * its config wherever its folder is (a renamed id after adding a sweep axis, a run's own
 * config.yaml), not only by its name.
 */
async function indexRuns(outputDir: string): Promise<Existing[]> {
  let names: string[];
  try {
    names = (await readdir(outputDir, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name).sort();
  } catch {
    return [];
  }
  const out: Existing[] = [];
  for (const name of names) {
    const store = new RunDir(join(outputDir, name));
    const record = await store.readRecord().catch(() => undefined);
    if (!record) continue;
    let cached: Promise<string | undefined> | undefined;
    out.push({ name, dir: store.path, record, hashExceptEpochs: () => (cached ??= storedHashExceptEpochs(store)) });
  }
  return out;
}

async function storedHashExceptEpochs(store: RunDir): Promise<string | undefined> {
  const text = await store.readConfigText();
  if (text === undefined) return undefined;
  try {
    return configHashExceptEpochs(parseYaml(text) as RunConfig);
  } catch {
    return undefined;
  }
}

export async function decideRuns(outputDir: string, runs: PlannedRun[], options: SelectOptions): Promise<Decision[]> {
  const decisions: Decision[] = [];
  const existing = options.force ? [] : await indexRuns(outputDir);
  // A folder named by a planned run belongs to that run; another run may only take it over by hash.
  const plannedIds = new Set(runs.map((r) => r.id));
  const taken = new Set<string>();
  for (const run of runs) {
    const ownDir = join(outputDir, run.id);
    const store = new RunDir(ownDir);
    let own: RunRecord | undefined;
    try {
      own = await store.readRecord();
    } catch (err) {
      if (!options.force) throw err;
    }
    if (options.force) {
      decisions.push({ run, dir: ownDir, action: 'run', reason: existsSync(ownDir) ? 'forced rerun' : 'new' });
      continue;
    }
    const free = (e: Existing) => !taken.has(e.name) && (e.name === run.id || !plannedIds.has(e.name));
    const elsewhere = (e: Existing) => (e.name === run.id ? '' : ` (found in ${e.name})`);
    // 1. The same config, in its own folder or any other.
    const same = existing.filter((e) => free(e) && (e.record.hash === run.hash || run.previousHashes?.includes(e.record.hash)));
    const found = same.find((e) => e.name === run.id) ?? same.find((e) => e.record.status === 'completed') ?? same[0];
    // 2. The same config but fewer epochs: continued from its last checkpoint.
    const hashExceptEpochs = configHashExceptEpochs(run.config);
    let shorter: Existing | undefined;
    // Only where the extra epochs leave the earlier ones as they were: a cosine schedule
    // spreads its decay over all epochs, and a run that stopped early has its answer.
    if (!found && !dependsOnEpochCount(run.config.training)) {
      for (const e of [...existing.filter((x) => x.name === run.id), ...existing.filter((x) => x.name !== run.id)]) {
        if (!free(e) || e.record.epochs >= run.config.training.epochs || e.record.status === 'failed' || e.record.stoppedEarly) continue;
        if ((await e.hashExceptEpochs()) === hashExceptEpochs) {
          shorter = e;
          break;
        }
      }
    }
    const at = found ?? shorter;
    if (at) taken.add(at.name);
    const record = at?.record ?? own;
    const dir = at?.dir ?? ownDir;
    const decide = (action: Action, reason: string, extra: Partial<Decision> = {}) =>
      decisions.push({ run, dir, action, reason, ...(record ? { record } : {}), ...extra });
    if (found) {
      const where = elsewhere(found);
      const status = found.record.status;
      if (options.failedOnly && status !== 'failed') decide('skip', `${status}${where} (--failed retries failed runs only)`);
      else if (status === 'completed') decide('skip', `completed, same config${where}`);
      else if (status === 'failed') decide('run', `failed before: starting over${where}`);
      // 'running' (its process died), 'interrupted' or 'pending': continue from the last checkpoint.
      else
        decide('resume', `${status === 'running' ? 'stopped unexpectedly' : status} at epoch ${found.record.epochsCompleted}/${found.record.epochs}${where}`, {
          // Recorded under an earlier hash of the same config: its checkpoint is this run's.
          ...(found.record.hash !== run.hash ? { continueFrom: found.record.hash } : {}),
        });
    } else if (shorter) {
      if (options.failedOnly) decide('skip', `${shorter.record.status}${elsewhere(shorter)} (--failed retries failed runs only)`);
      else
        decide('resume', `continuing from epoch ${shorter.record.epochsCompleted} to ${run.config.training.epochs} (training.epochs raised from ${shorter.record.epochs})${elsewhere(shorter)}`, {
          continueFrom: shorter.record.hash,
        });
    } else if (own) {
      decide('conflict', await describeConflict(store, run));
    } else if (options.failedOnly) {
      decide('skip', 'not run yet (--failed retries failed runs only)');
    } else {
      decide('run', 'new');
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
