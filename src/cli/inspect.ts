/** Read-only commands: validate, plan, status. */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { loadPlan } from '../config/load.js';
import { UsageError } from '../errors.js';
import { formatValue } from '../grid/expand.js';
import { formatDuration } from '../report/summary.js';
import { textTable } from '../report/table.js';
import { decideRuns } from '../runner/decide.js';
import { RunDir, type RunRecord } from '../store/run-dir.js';
import { processAlive } from '../util/process-alive.js';
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
  const format = oneOf(values.format, '--format', ['table', 'json'] as const, 'table');
  const plan = loadPlan(single(positionals, PLAN_HELP), { sets: values.set ?? [] });
  const decisions = await decideRuns(plan.outputDir, plan.runs, {});
  if (format === 'json') {
    const runs = decisions.map((d) => ({
      id: d.run.id,
      action: d.action,
      reason: d.reason,
      hash: d.run.hash,
      dir: d.dir,
      values: Object.fromEntries(d.run.values.map((v) => [v.axis, v.value])),
    }));
    console.log(JSON.stringify({ name: plan.name, output: plan.outputDir, gridSize: plan.gridSize, runs }, null, 2));
    return 0;
  }
  const axes = [...new Set(plan.runs.flatMap((r) => r.values.map((v) => v.axis)))];
  const merged = plan.merged > 0 ? ` (grid of ${plan.gridSize}; ${plan.merged} cell(s) merged: their axes do not apply to their model)` : '';
  console.log(`${plan.name}: ${plan.runs.length} run(s)${merged} -> ${relative(process.cwd(), plan.outputDir) || '.'}\n`);
  const rows = decisions.map((d, i) => [
    String(i + 1),
    d.run.id,
    ...axes.map((a) => {
      const v = d.run.values.find((x) => x.axis === a);
      return v ? formatValue(v.value) : '-';
    }),
    d.action === 'run' ? 'new' : d.action,
    d.action === 'run' && d.reason === 'new' ? '' : d.reason,
  ]);
  console.log(textTable([['#', 'run', ...axes, 'action', 'why']], rows, { align: ['right'] }));
  return 0;
}

export async function statusCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, {}, STATUS_HELP);
  if (values.help) return help(STATUS_HELP);
  const target = single(positionals, STATUS_HELP);
  let dir: string;
  let ids: string[];
  if (existsSync(target) && statSync(target).isDirectory()) {
    dir = target;
    ids = readdirSync(dir).filter((name) => existsSync(join(dir, name, 'run.json'))).sort();
  } else {
    const plan = loadPlan(target);
    dir = plan.outputDir;
    ids = plan.runs.map((r) => r.id);
  }
  const rows: string[][] = [];
  for (const id of ids) {
    const store = new RunDir(join(dir, id));
    let record: RunRecord | undefined;
    try {
      record = await store.readRecord();
    } catch (err) {
      rows.push([id, 'corrupt', '', '', '', '']);
      continue;
    }
    if (!record) {
      rows.push([id, 'not run', '', '', '', '']);
      continue;
    }
    rows.push([
      id,
      describeStatus(record),
      `${record.epochsCompleted}/${record.epochs}`,
      record.best ? record.best.test_accuracy.toFixed(4) : '',
      record.final ? record.final.test_accuracy.toFixed(4) : '',
      formatDuration(record.trainingSeconds),
    ]);
  }
  if (rows.length === 0) throw new UsageError(`no runs found in ${dir}`);
  console.log(textTable([['run', 'status', 'epochs', 'best test acc', 'test acc', 'time']], rows, {
    align: ['left', 'left', 'right', 'right', 'right', 'right'],
  }));
  return 0;
}

/** A 'running' record whose process is gone was stopped hard; the next run resumes it. */
function describeStatus(record: RunRecord): string {
  if (record.status !== 'running') return record.status;
  return record.pid === undefined || processAlive(record.pid) ? 'running' : 'stopped (resumable)';
}

function help(text: string): number {
  console.log(text);
  return 0;
}
