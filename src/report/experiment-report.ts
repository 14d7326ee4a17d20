/**
 * Experiment-level outputs, rebuilt from the run folders after every invocation so
 * they always describe every run of the plan, including ones skipped this time:
 * summary.csv, summary.md (the study's results table) and a comparison plot.
 *
 * When some configuration was trained with several seeds (search.repeats, or a sweep over
 * `seed`), summary.csv has one row per configuration (mean, std and count of each metric),
 * summary-runs.csv keeps one row per run, and summary.md shows both tables.
 */
import { readdir, readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { join } from 'node:path';
import type { ExperimentPlan } from '../config/load.js';
import { expandGrid, formatValue } from '../grid/expand.js';
import { writeFileAtomic } from '../store/atomic.js';
import { RunDir } from '../store/run-dir.js';
import { configKey, readRunConfig, groupRows, groupsCsv, groupsMarkdown, hasRepeats, type GroupRow } from './seed-groups.js';
import { comparisonPlotSpec } from './plots.js';
import { summaryCsv, summaryMarkdown, summaryTable, type RunSummaryInput, type SummaryRow } from './summary.js';
import { writePlot } from './write-plot.js';
import { defaultReportFile, writeReportHtml } from './html/write.js';
import { readExperiment } from './study.js';

export interface ExperimentReport {
  markdown: string;
  /** The rows of summary.md, for the terminal's table. */
  table: SummaryRow[];
  /** With repeated seeds: one row per configuration (mean ± std), shown in place of `table`. */
  groups?: GroupRow[];
  files: string[];
  warnings: string[];
}

export interface ExperimentReportOptions {
  /** `--set` overrides of this invocation, named in summary.md. */
  overrides?: string[];
  /** Run folders to list first, in this order (default: the plan's run ids). */
  folders?: string[];
}

/** What the report reads of a plan: a Slurm task or queue worker has this without the YAML. */
export type ReportPlan = Pick<ExperimentPlan, 'name' | 'outputDir'> & { runs: Pick<ExperimentPlan['runs'][number], 'id' | 'values'>[] };

/**
 * The summary covers every run folder of the experiment, not only the runs of this
 * invocation, so running one run's config.yaml, a --only selection or a grown sweep never
 * shrinks it. `folders` (the runs just planned) come first, in plan order; other run
 * folders follow by name.
 */
export async function writeExperimentReport(plan: ReportPlan, options: ExperimentReportOptions = {}): Promise<ExperimentReport> {
  const folders = options.folders ?? plan.runs.map((r) => r.id);
  const inputs: RunSummaryInput[] = [];
  const grouping = new Map<string, { key: string; seed: number }>();
  let others: string[] = [];
  try {
    others = (await readdir(plan.outputDir, { withFileTypes: true }))
      .filter((e) => e.isDirectory() && !folders.includes(e.name))
      .map((e) => e.name)
      .sort();
  } catch {
    // No output folder yet: nothing but the planned runs.
  }
  for (const name of new Set([...folders, ...others])) {
    const store = new RunDir(join(plan.outputDir, name));
    const record = await store.readRecord().catch(() => undefined);
    if (!record) continue;
    inputs.push({
      id: name,
      status: record.status,
      rows: await store.readMetrics().catch(() => []),
      trainingSeconds: record.trainingSeconds,
      values: Object.fromEntries(Object.entries(record.values ?? {}).map(([axis, v]) => [axis, formatValue(v)])),
      ...(record.stoppedEarly ? { stoppedEarly: record.stoppedEarly } : {}),
    });
    const config = await readRunConfig(store);
    if (config) grouping.set(name, { key: configKey(config), seed: config.seed });
  }
  const table = summaryTable(inputs);
  const overrides = options.overrides ?? [];
  // A run whose config.yaml cannot be read is a configuration of its own.
  const groups = groupRows(table.map((row) => ({ row, ...(grouping.get(row.run) ?? { key: `run:${row.run}`, seed: Number.NaN }) })));
  const repeated = hasRepeats(groups);
  const perRun = summaryMarkdown(table, repeated ? '' : plan.name);
  const markdown =
    (repeated
      ? `## ${plan.name}\n\nMean ± standard deviation over each configuration's completed seeds.\n\n${groupsMarkdown(groups)}\n\n### Runs\n\n${perRun}`
      : perRun) +
    (overrides.length > 0 ? `\nOverrides applied: ${overrides.map((o) => `\`--set ${o}\``).join(', ')}\n` : '');
  const files = [join(plan.outputDir, 'summary.csv'), join(plan.outputDir, 'summary.md')];
  await writeFileAtomic(files[0]!, repeated ? groupsCsv(groups) : summaryCsv(table));
  await writeFileAtomic(files[1]!, markdown);
  if (repeated) {
    files.push(join(plan.outputDir, 'summary-runs.csv'));
    await writeFileAtomic(files[2]!, summaryCsv(table));
  }
  const series = inputs.filter((i) => i.rows.length > 0).map((i) => ({ run: i.id, rows: i.rows }));
  const warnings: string[] = [];
  if (series.length > 0) {
    const plots = join(plan.outputDir, 'plots');
    try {
      await writePlot(plots, 'comparison', comparisonPlotSpec(series, `${plan.name}: test accuracy and loss per epoch`));
      files.push(join(plots, 'comparison.png'));
    } catch (err) {
      warnings.push(`plots/comparison could not be rendered: ${(err as Error).message}`);
    }
  }
  try {
    files.push(await writeReportHtml([await readExperiment(plan.outputDir)], defaultReportFile(plan.outputDir)));
  } catch (err) {
    warnings.push(`report.html could not be written: ${(err as Error).message}`);
  }
  return { markdown, files, warnings, table, ...(repeated ? { groups } : {}) };
}

/**
 * Run ids in the order of the study as last run from its own file (experiment.yaml), for
 * rebuilding the summary after one run's config.yaml ran: the table keeps its order.
 */
export async function studyOrder(outputDir: string): Promise<string[]> {
  try {
    const experiment = parseYaml(await readFile(join(outputDir, 'experiment.yaml'), 'utf8')) as Record<string, unknown>;
    return expandGrid(experiment).cells.map((c) => c.id);
  } catch {
    return [];
  }
}
