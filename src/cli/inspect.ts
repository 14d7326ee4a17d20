/** Read-only commands: validate, plan, status. */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { isAbsolute, join, relative } from 'node:path';
import { loadPlan, type ExperimentPlan } from '../config/load.js';
import type { RunConfig } from '../config/resolve.js';
import { parameterCountOf } from '../config/semantics.js';
import { DataError, UsageError } from '../errors.js';
import { formatValue } from '../grid/expand.js';
import { configKey, readRunConfig, groupRows, groupsMarkdown, groupsText, hasRepeats, type GroupInput } from '../report/seed-groups.js';
import { formatDuration } from '../report/summary.js';
import { renderRows, ROWS_FORMATS, type Cell, type Row, type Rows } from '../report/rows.js';
import { decideRuns } from '../runner/decide.js';
import { checkPlanData } from '../runner/run-experiment.js';
import { RunDir, type RunRecord } from '../store/run-dir.js';
import { processAlive } from '../util/process-alive.js';
import { holderGone, readHolderSync } from '../runner/lock.js';
import { hostname } from 'node:os';
import { oneOf, parse } from './args.js';
import { PLAN_HELP, STATUS_HELP, VALIDATE_HELP } from './help.js';
import { single } from './run.js';

export async function validateCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, { set: { type: 'string', multiple: true } }, VALIDATE_HELP);
  if (values.help) return help(VALIDATE_HELP);
  const file = single(positionals, VALIDATE_HELP);
  const plan = loadPlan(file, { sets: values.set ?? [] });
  console.log(`${file}: valid; ${plan.runs.length} run(s)`);
  return 0;
}

export async function planCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, { set: { type: 'string', multiple: true }, format: { type: 'string' } }, PLAN_HELP);
  if (values.help) return help(PLAN_HELP);
  const format = oneOf(values.format, '--format', ROWS_FORMATS, 'table');
  const plan = loadPlan(single(positionals, PLAN_HELP), { sets: values.set ?? [] });
  // As a run would: the data checked and the class count of idx runs filled in, so the
  // hashes (and so the actions) are the ones a run would use.
  try {
    await checkPlanData(plan, plan.runs);
  } catch (err) {
    if (!(err instanceof DataError)) throw err;
    console.error(`warning: a run would stop before starting: ${err.message}${err.hint ? ` (${err.hint})` : ''}`);
  }
  const decisions = await decideRuns(plan.outputDir, plan.runs, {});
  if (format === 'json') {
    // Its own shape (the experiment around the runs), kept as it was for scripts that read it.
    const runs = decisions.map((d) => ({
      id: d.run.id,
      action: d.action,
      reason: d.reason,
      hash: d.run.hash,
      dir: d.dir,
      values: Object.fromEntries(d.run.values.map((v) => [v.axis, v.value])),
      params: paramsOf(d.run.config) ?? null,
    }));
    console.log(JSON.stringify({ name: plan.name, output: plan.outputDir, projectRoot: plan.projectRoot, gridSize: plan.gridSize, runs }, null, 2));
    return 0;
  }
  const axes = [...new Set(plan.runs.flatMap((r) => r.values.map((v) => v.axis)))];
  const table: Rows = {
    columns: [
      { key: 'index', header: '#', align: 'right' },
      { key: 'run' },
      ...axes.map((axis) => ({ key: axis, format: (v: Cell) => (v === undefined || v === null ? '-' : String(v)) })),
      {
        key: 'params',
        align: 'right' as const,
        format: (v: Cell) => (typeof v === 'number' ? v.toLocaleString('en-US') : format === 'table' || format === 'md' ? '?' : ''),
      },
      { key: 'action', format: (v: Cell) => (v === 'run' ? 'new' : String(v)) },
      { key: 'why', format: (v: Cell, row: Row) => (row.action === 'run' && v === 'new' ? '' : String(v ?? '')) },
      ...(format === 'csv' ? [{ key: 'hash' }, { key: 'dir' }] : []),
    ],
    rows: decisions.map((d, i) => ({
      index: i + 1,
      run: d.run.id,
      ...Object.fromEntries(d.run.values.map((v) => [v.axis, formatValue(v.value)])),
      params: paramsOf(d.run.config) ?? null,
      action: d.action,
      why: d.reason,
      hash: d.run.hash,
      dir: d.dir,
    })),
  };
  if (format === 'csv') {
    console.log(renderRows(table, 'csv'));
    return 0;
  }
  const merged = plan.merged > 0 ? ` (grid of ${plan.gridSize}; ${plan.merged} cell(s) merged: their axes do not apply to their model)` : '';
  console.log(`${plan.name}: ${plan.runs.length} run(s)${merged} -> ${relative(process.cwd(), plan.outputDir) || '.'}`);
  console.log(`output: ${plan.outputDir} (${describeOutput(plan)})\n`);
  console.log(renderRows(table, format));
  return 0;
}

export async function statusCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, { format: { type: 'string' } }, STATUS_HELP);
  if (values.help) return help(STATUS_HELP);
  const format = oneOf(values.format, '--format', ROWS_FORMATS, 'table');
  const target = single(positionals, STATUS_HELP);
  let dir: string;
  // Planned runs with no folder yet, shown as 'not run'.
  let notRun: string[] = [];
  if (existsSync(target) && statSync(target).isDirectory()) {
    dir = target;
  } else {
    const plan = loadPlan(target);
    dir = plan.outputDir;
    const hashes = new Set<string>();
    for (const name of runFolders(dir)) {
      const record = await new RunDir(join(dir, name)).readRecord().catch(() => undefined);
      if (record) hashes.add(record.hash);
    }
    notRun = plan.runs.filter((r) => !existsSync(join(dir, r.id, 'run.json')) && !hashes.has(r.hash)).map((r) => r.id);
  }
  const rows: Row[] = [];
  const grouped: GroupInput[] = [];
  for (const id of runFolders(dir)) {
    const store = new RunDir(join(dir, id));
    let record: RunRecord | undefined;
    try {
      record = await store.readRecord();
    } catch {
      rows.push({ run: id, status: 'corrupt' });
      continue;
    }
    if (!record) continue;
    const config = await readRunConfig(store);
    if (config) grouped.push({ key: configKey(config), seed: config.seed, row: recordRow(id, record) });
    rows.push({
      run: id,
      status: describeStatus(record, join(dir, '.locks', `${id}.lock`)),
      epochs_done: record.epochsCompleted,
      epochs: record.epochs,
      best_test_accuracy: record.best?.test_accuracy,
      test_accuracy: record.final?.test_accuracy,
      seconds: record.trainingSeconds,
    });
  }
  for (const id of notRun) rows.push({ run: id, status: 'not run' });
  if (rows.length === 0) throw new UsageError(`no runs found in ${dir}`);
  // Runs submitted to Slurm or a queue: what the scheduler says of those not finished.
  const { schedulerStates } = await import('../launch/records.js');
  const scheduled = await schedulerStates(dir);
  for (const row of rows) {
    const state = scheduled.get(String(row.run));
    if (state && row.status !== 'completed') row.status = `${row.status}, ${state}`;
  }
  if (scheduled.has('')) console.error(`note: ${scheduled.get('')}`);
  const fixed = (v: Cell) => (typeof v === 'number' ? v.toFixed(4) : '');
  const table: Rows = {
    columns: [
      { key: 'run' },
      { key: 'status' },
      { key: 'epochs_done', header: 'epochs', align: 'right', format: (v, row) => (v === undefined ? '' : `${v}/${row.epochs}`) },
      { key: 'epochs', header: 'of', align: 'right' },
      { key: 'best_test_accuracy', header: 'test acc at best val', align: 'right', format: fixed },
      { key: 'test_accuracy', header: 'test acc', align: 'right', format: fixed },
      { key: 'seconds', header: 'time', align: 'right', format: (v) => (typeof v === 'number' ? formatDuration(v) : '') },
    ],
    rows,
  };
  console.log(renderRows(format === 'table' || format === 'md' ? withoutColumn(table, 'epochs') : table, format));
  // Configurations trained with several seeds: their mean ± std over the completed ones.
  const groups = groupRows(grouped);
  if (hasRepeats(groups) && format === 'table') console.log(`\nby configuration (over seeds):\n${groupsText(groups)}`);
  if (hasRepeats(groups) && format === 'md') console.log(`\n${groupsMarkdown(groups)}`);
  return 0;
}

/** The text formats show `done/of` in one column; csv and json keep both numbers. */
function withoutColumn(table: Rows, key: string): Rows {
  return { ...table, columns: table.columns.filter((c) => c.key !== key) };
}

function runFolders(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).filter((name) => existsSync(join(dir, name, 'run.json'))).sort();
}

/** How the output folder was found, for `plan`: where runs go must never be a surprise. */
function describeOutput(plan: ExperimentPlan): string {
  const given = plan.experiment.output;
  if (given !== undefined && isAbsolute(given)) return 'output, as given';
  return `${given === undefined ? `runs/${plan.name}` : `output ${given}`} relative to the project root ${plan.projectRoot}`;
}

/** Weights of the run's model; undefined where the image size is only known from the data files. */
function paramsOf(config: RunConfig): number | undefined {
  return parameterCountOf(config.dataset, config.models[config.model]!);
}

function recordRow(id: string, record: RunRecord): GroupInput['row'] {
  return {
    run: id,
    status: record.status,
    epochs: record.epochsCompleted,
    values: { ...record.values },
    test_accuracy: record.final?.test_accuracy ?? null,
    test_loss: record.final?.test_loss ?? null,
    train_accuracy: record.final?.train_accuracy ?? null,
    train_loss: record.final?.train_loss ?? null,
    best_test_accuracy: record.best?.test_accuracy ?? null,
    best_epoch: record.best?.epoch ?? null,
    time: formatDuration(record.trainingSeconds),
    seconds: record.trainingSeconds,
  };
}

/**
 * A 'running' record whose process is gone was stopped hard; the next run resumes it.
 * The run's lock says which host trains it; a pid is only checked on that host.
 */
function describeStatus(record: RunRecord, lockFile: string): string {
  if (record.status === 'completed' && record.stoppedEarly) return `completed (stopped early after ${record.stoppedEarly.epoch})`;
  if (record.status !== 'running') return record.status;
  const holder = readHolderSync(lockFile);
  if (holder) return holderGone(holder, hostname()) ? 'stopped (resumable)' : `running (${holder.host})`;
  return record.pid === undefined || processAlive(record.pid) ? 'running' : 'stopped (resumable)';
}

function help(text: string): number {
  console.log(text);
  return 0;
}
