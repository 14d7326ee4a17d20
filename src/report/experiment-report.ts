/**
 * Experiment-level outputs, rebuilt from the run folders after every invocation so
 * they always describe every run of the plan, including ones skipped this time:
 * summary.csv, summary.md (the study's results table) and a comparison plot.
 */
import { join } from 'node:path';
import type { ExperimentPlan } from '../config/load.js';
import { formatValue } from '../grid/expand.js';
import { writeFileAtomic } from '../store/atomic.js';
import { RunDir } from '../store/run-dir.js';
import { comparisonPlotSpec } from './plots.js';
import { summaryCsv, summaryMarkdown, summaryTable, type RunSummaryInput, type SummaryRow } from './summary.js';
import { writePlot } from './write-plot.js';
import { defaultReportFile, writeReportHtml } from './html/write.js';
import { readExperiment } from './study.js';

export interface ExperimentReport {
  markdown: string;
  /** The rows of summary.md, for the terminal's table. */
  table: SummaryRow[];
  files: string[];
  warnings: string[];
}

export interface ExperimentReportOptions {
  /** `--set` overrides of this invocation, named in summary.md. */
  overrides?: string[];
}

export async function writeExperimentReport(plan: ExperimentPlan, options: ExperimentReportOptions = {}): Promise<ExperimentReport> {
  const inputs: RunSummaryInput[] = [];
  for (const run of plan.runs) {
    const store = new RunDir(join(plan.outputDir, run.id));
    const record = await store.readRecord().catch(() => undefined);
    if (!record) continue;
    inputs.push({
      id: run.id,
      status: record.status,
      rows: await store.readMetrics().catch(() => []),
      trainingSeconds: record.trainingSeconds,
      values: Object.fromEntries(run.values.map((v) => [v.axis, formatValue(v.value)])),
    });
  }
  const table = summaryTable(inputs);
  const overrides = options.overrides ?? [];
  const markdown =
    summaryMarkdown(table, plan.name) +
    (overrides.length > 0 ? `\nOverrides applied: ${overrides.map((o) => `\`--set ${o}\``).join(', ')}\n` : '');
  const files = [join(plan.outputDir, 'summary.csv'), join(plan.outputDir, 'summary.md')];
  await writeFileAtomic(files[0]!, summaryCsv(table));
  await writeFileAtomic(files[1]!, markdown);
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
  return { markdown, files, warnings, table };
}
