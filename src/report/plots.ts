/**
 * Training-curve figures as vega-lite specs (rendered by render.ts).
 *
 * Every spec carries its data inline, so the `.vl.json` written beside the images
 * reproduces the figure without the run folder. Only types come from vega-lite here:
 * a training worker writes specs every epoch without loading the plotting libraries.
 */
import type { TopLevelSpec } from 'vega-lite';
import type { MetricsRow } from '../store/metrics-row.js';

/**
 * Named first so the SVG uses the font the PNG is rasterised with; the rest keep the
 * SVG readable in a browser on a machine without DejaVu.
 */
const FONT_STACK = 'DejaVu Sans, Liberation Sans, Arial, Helvetica, sans-serif';

const PANEL_WIDTH = 420;
const PANEL_HEIGHT = 280;

const SPLITS = ['train', 'test'] as const;
const SPLIT_COLORS = ['#1f77b4', '#ff7f0e'];
/** With a validation split, its curve sits between train and test. */
const SPLITS_WITH_VALIDATION = ['train', 'validation', 'test'] as const;
const SPLIT_COLORS_WITH_VALIDATION = ['#1f77b4', '#2ca02c', '#ff7f0e'];

/** JSON has no NaN or Infinity; null makes vega-lite skip the point instead of failing. */
function finite(value: number | undefined): number | null {
  return value !== undefined && Number.isFinite(value) ? value : null;
}

function byEpoch(rows: readonly MetricsRow[]): MetricsRow[] {
  return [...rows].sort((x, y) => x.epoch - y.epoch);
}

/**
 * A single epoch would give vega a zero-width domain and a point glued to the axis;
 * widening it by one epoch each side centres the point and keeps integer ticks.
 */
function epochScale(rows: readonly { epoch: number }[]): { domain?: [number, number] } {
  const epochs = rows.map((r) => r.epoch).filter(Number.isFinite);
  if (epochs.length === 0) return {};
  const lo = Math.min(...epochs);
  const hi = Math.max(...epochs);
  return { domain: lo === hi ? [lo - 1, hi + 1] : [lo, hi] };
}

function epochAxis(rows: readonly { epoch: number }[]) {
  return {
    field: 'epoch',
    type: 'quantitative' as const,
    title: 'epoch',
    scale: { ...epochScale(rows), nice: false, zero: false },
    axis: { tickMinStep: 1, format: 'd', grid: true },
  };
}

const CONFIG = {
  font: FONT_STACK,
  background: 'white',
  padding: 12,
  title: { fontSize: 16, anchor: 'start' as const, offset: 12 },
  axis: { labelFontSize: 11, titleFontSize: 12, gridColor: '#e6e6e6' },
  // A tick label centred on the top edge sticks out above the plot, and vega places a
  // panel title above the panel's full bounds, so titles of side-by-side panels would
  // sit at different heights depending on where the ticks fall.
  axisY: { labelFlush: true },
  legend: { labelFontSize: 12, titleFontSize: 12, symbolStrokeWidth: 2.5 },
  header: { labelFontSize: 13 },
  line: { strokeWidth: 2 },
  point: { size: 40, filled: true },
  view: { stroke: '#bbbbbb' },
  concat: { spacing: 36 },
};

/**
 * Loss (left) and accuracy (right) over epochs, one line per split, as in the usual
 * two-panel training-curve figure.
 */
export function trainingPlotSpec(rows: MetricsRow[], title: string): TopLevelSpec {
  const validation = rows.some((r) => r.val_accuracy !== undefined);
  const splits: readonly string[] = validation ? SPLITS_WITH_VALIDATION : SPLITS;
  const pick = (r: MetricsRow, split: string) =>
    split === 'train'
      ? { loss: r.train_loss, accuracy: r.train_accuracy }
      : split === 'validation'
        ? { loss: r.val_loss, accuracy: r.val_accuracy }
        : { loss: r.test_loss, accuracy: r.test_accuracy };
  const values = byEpoch(rows).flatMap((r) =>
    splits.map((split) => ({
      epoch: r.epoch,
      split,
      loss: finite(pick(r, split).loss),
      accuracy: finite(pick(r, split).accuracy),
    })),
  );
  const color = {
    field: 'split',
    type: 'nominal' as const,
    title: 'split',
    scale: { domain: [...splits], range: validation ? SPLIT_COLORS_WITH_VALIDATION : SPLIT_COLORS },
    sort: [...splits],
  };
  const panel = (field: 'loss' | 'accuracy', panelTitle: string) => ({
    title: { text: panelTitle, fontSize: 13, anchor: 'middle' as const },
    width: PANEL_WIDTH,
    height: PANEL_HEIGHT,
    mark: { type: 'line' as const, point: true, interpolate: 'linear' as const },
    encoding: {
      x: epochAxis(rows),
      y: {
        field,
        type: 'quantitative' as const,
        title: field,
        scale: { zero: false },
        axis: { format: field === 'accuracy' ? '.3~f' : '.3~g' },
      },
      color,
      tooltip: [
        { field: 'epoch', type: 'quantitative' as const },
        { field: 'split', type: 'nominal' as const },
        { field, type: 'quantitative' as const, format: '.4f' },
      ],
    },
  });
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title,
    data: { values },
    hconcat: [panel('loss', 'Loss'), panel('accuracy', 'Accuracy')],
    resolve: { scale: { color: 'shared' } },
    config: CONFIG,
  } as TopLevelSpec;
}

/** Colour scheme with enough distinct hues for the number of runs. */
function runScheme(count: number): string {
  return count <= 10 ? 'tableau10' : 'tableau20';
}

/**
 * Test accuracy (left) and test loss (right) per epoch, one coloured line per run, to
 * compare the runs of a sweep on one figure.
 */
export function comparisonPlotSpec(
  series: { run: string; rows: MetricsRow[] }[],
  title: string,
  options: { loss?: boolean } = {},
): TopLevelSpec {
  const runs = series.map((s) => s.run);
  const values = series.flatMap((s) =>
    byEpoch(s.rows).map((r) => ({
      run: s.run,
      epoch: r.epoch,
      test_accuracy: finite(r.test_accuracy),
      test_loss: finite(r.test_loss),
    })),
  );
  const color = {
    field: 'run',
    type: 'nominal' as const,
    title: 'run',
    // The order the runs were given in, not alphabetical, so "cnn, rnn, lstm, gru"
    // keeps the order of the study in the legend and the colours.
    scale: { domain: runs, scheme: runScheme(runs.length) },
    sort: runs,
    legend: { labelLimit: 320 },
  };
  const panel = (field: 'test_accuracy' | 'test_loss', panelTitle: string) => ({
    title: { text: panelTitle, fontSize: 13, anchor: 'middle' as const },
    width: PANEL_WIDTH,
    height: PANEL_HEIGHT,
    mark: { type: 'line' as const, point: true },
    encoding: {
      x: epochAxis(values),
      y: {
        field,
        type: 'quantitative' as const,
        title: field.replace('_', ' '),
        scale: { zero: false },
        axis: { format: field === 'test_accuracy' ? '.3~f' : '.3~g' },
      },
      color,
      tooltip: [
        { field: 'run', type: 'nominal' as const },
        { field: 'epoch', type: 'quantitative' as const },
        { field, type: 'quantitative' as const, format: '.4f' },
      ],
    },
  });
  const panels = [panel('test_accuracy', 'Test accuracy')];
  if (options.loss !== false) panels.push(panel('test_loss', 'Test loss'));
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title,
    data: { values },
    hconcat: panels,
    resolve: { scale: { color: 'shared' } },
    config: CONFIG,
  } as TopLevelSpec;
}
