/** The data a report page embeds: every run as read from its folder, ready for the page's script. */
import { withModelInlined } from '../../config/resolve.js';
import { axisLabels, sweepAxes } from '../axis-groups.js';
import type { StudyExperiment, StudyRun } from '../study.js';

/** A study run as the page sees it: keyed across experiments, its folder and seed left out. */
export type ReportRun = Omit<StudyRun, 'dir' | 'seed'> & {
  /** Unique across experiments: `<experiment>/<run id>`. */
  key: string;
  experiment: string;
};

export interface ReportData {
  title: string;
  generatedAt: string;
  experiments: { name: string; dir: string; description: string | null; overrides: string[]; runs: number }[];
  axes: { key: string; label: string; numeric: boolean }[];
  runs: ReportRun[];
}

export function reportData(experiments: StudyExperiment[], generatedAt = new Date()): ReportData {
  const all = experiments.flatMap((e) => e.runs);
  const axes = sweepAxes(all);
  const labels = axisLabels(axes);
  return {
    title: experiments.map((e) => e.name).join(' + ') || 'xrun report',
    generatedAt: generatedAt.toISOString(),
    experiments: experiments.map((e) => ({ name: e.name, dir: e.dir, description: e.description, overrides: e.overrides, runs: e.runs.length })),
    axes: axes.map((a) => ({
      key: a,
      label: labels.get(a) ?? a,
      numeric: all.every((r) => r.values[a] === undefined || r.values[a] === null || typeof r.values[a] === 'number'),
    })),
    runs: all.map((r) => ({
      key: `${r.experiment}/${r.id}`,
      experiment: r.experiment,
      id: r.id,
      status: r.status,
      values: r.values,
      epochs: r.epochs,
      epochsCompleted: r.epochsCompleted,
      // The model inlined, so runs of differently named models compare field by field.
      config: withModelInlined(r.config),
      metrics: r.metrics,
      final: r.final,
      bestTestAccuracy: r.bestTestAccuracy,
      seconds: r.seconds,
      backend: r.backend,
      backendNotes: r.backendNotes,
      machine: r.machine,
      versions: r.versions,
      confusion: r.confusion,
      error: r.error,
    })),
  };
}
