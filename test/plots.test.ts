import { describe, expect, it } from 'vitest';
import { comparisonPlotSpec, trainingPlotSpec } from '../src/report/plots.js';
import { renderSpec } from '../src/report/render.js';
import type { MetricsRow } from '../src/store/metrics-row.js';

function rows(count: number, shift = 0): MetricsRow[] {
  return Array.from({ length: count }, (_, i) => ({
    epoch: i + 1,
    train_loss: 1.2 * Math.exp(-i / 3) + 0.05 + shift,
    test_loss: 1.1 * Math.exp(-i / 3.5) + 0.09 + shift,
    train_accuracy: 0.99 - 0.5 * Math.exp(-i / 2) - shift,
    test_accuracy: 0.985 - 0.45 * Math.exp(-i / 2.2) - shift,
    epoch_seconds: 50,
    elapsed_seconds: 50 * (i + 1),
  }));
}

// The spec is plain JSON; reading it through a loose type keeps the assertions short.
type Loose = any;

function pngSize(png: Uint8Array): { width: number; height: number } {
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  expect(String.fromCharCode(...png.subarray(12, 16))).toBe('IHDR');
  return { width: view.getUint32(16), height: view.getUint32(20) };
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

describe('trainingPlotSpec', () => {
  it('draws a validation curve between train and test when the run has one', () => {
    const withVal = rows(2).map((r) => ({ ...r, val_loss: r.test_loss + 0.01, val_accuracy: r.test_accuracy - 0.01 }));
    const spec: Loose = trainingPlotSpec(withVal, 'v');
    expect(spec.data.values.map((v: Loose) => v.split)).toEqual(['train', 'validation', 'test', 'train', 'validation', 'test']);
    expect(spec.data.values[1]).toEqual({ epoch: 1, split: 'validation', loss: withVal[0]!.val_loss, accuracy: withVal[0]!.val_accuracy });
    expect(spec.hconcat[0].encoding.color.scale.domain).toEqual(['train', 'validation', 'test']);
  });

  it('puts loss left and accuracy right, a line per split, data inline', () => {
    const spec: Loose = trainingPlotSpec(rows(3), 'lstm');
    expect(spec.title).toBe('lstm');
    expect(spec.hconcat).toHaveLength(2);
    const [loss, acc] = spec.hconcat;
    expect(loss.encoding.y.field).toBe('loss');
    expect(acc.encoding.y.field).toBe('accuracy');
    for (const panel of [loss, acc]) {
      expect(panel.encoding.x.field).toBe('epoch');
      expect(panel.encoding.x.axis.tickMinStep).toBe(1);
      expect(panel.encoding.color.field).toBe('split');
      expect(panel.mark.type).toBe('line');
      expect(panel.mark.point).toBe(true);
    }
    expect(spec.data.values).toHaveLength(6);
    expect(spec.data.values[0]).toEqual({
      epoch: 1,
      split: 'train',
      loss: rows(1)[0]!.train_loss,
      accuracy: rows(1)[0]!.train_accuracy,
    });
    expect(spec.data.values[1].split).toBe('test');
    // Self-contained: survives a JSON round trip unchanged.
    expect(JSON.parse(JSON.stringify(spec))).toEqual(spec);
  });

  it('sorts by epoch and turns non-finite values into null', () => {
    const r = rows(3).reverse();
    r[0]!.train_loss = Number.NaN;
    const spec: Loose = trainingPlotSpec(r, 't');
    expect(spec.data.values.map((v: Loose) => v.epoch)).toEqual([1, 1, 2, 2, 3, 3]);
    expect(spec.data.values[4]).toMatchObject({ epoch: 3, split: 'train', loss: null });
  });

  it('widens a single-epoch domain so the point is not on the axis', () => {
    const spec: Loose = trainingPlotSpec(rows(1), 'one');
    expect(spec.hconcat[0].encoding.x.scale.domain).toEqual([0, 2]);
    const many: Loose = trainingPlotSpec(rows(5), 'five');
    expect(many.hconcat[0].encoding.x.scale.domain).toEqual([1, 5]);
  });
});

describe('comparisonPlotSpec', () => {
  const series = ['cnn', 'rnn', 'lstm', 'gru'].map((run, k) => ({ run, rows: rows(4, k * 0.01) }));

  it('draws test accuracy and test loss, one colour per run in the given order', () => {
    const spec: Loose = comparisonPlotSpec(series, 'compare');
    expect(spec.hconcat).toHaveLength(2);
    expect(spec.hconcat[0].encoding.y.field).toBe('test_accuracy');
    expect(spec.hconcat[1].encoding.y.field).toBe('test_loss');
    expect(spec.hconcat[0].encoding.color.field).toBe('run');
    expect(spec.hconcat[0].encoding.color.scale.domain).toEqual(['cnn', 'rnn', 'lstm', 'gru']);
    expect(spec.data.values).toHaveLength(16);
    expect(spec.data.values[4]).toMatchObject({ run: 'rnn', epoch: 1 });
  });

  it('can leave out the loss panel', () => {
    const spec: Loose = comparisonPlotSpec(series, 'compare', { loss: false });
    expect(spec.hconcat).toHaveLength(1);
  });
});

describe('renderSpec', () => {
  it('renders SVG with the labels and a PNG at twice the SVG size', async () => {
    const { svg, png } = await renderSpec(trainingPlotSpec(rows(6), 'MNIST lstm hidden=128'));
    expect(svg.startsWith('<svg')).toBe(true);
    for (const text of ['MNIST lstm hidden=128', 'epoch', 'loss', 'accuracy', 'train', 'test']) {
      expect(svg).toContain(`>${text}<`);
    }
    expect([...png.subarray(0, 8)]).toEqual(PNG_SIGNATURE);
    const svgWidth = Number(/^<svg[^>]*\swidth="([\d.]+)"/.exec(svg)?.[1]);
    const svgHeight = Number(/^<svg[^>]*\sheight="([\d.]+)"/.exec(svg)?.[1]);
    const { width, height } = pngSize(png);
    expect(width).toBeGreaterThan(1200);
    expect(height).toBeGreaterThan(500);
    expect(width).toBeCloseTo(svgWidth * 2, -1);
    expect(height).toBeCloseTo(svgHeight * 2, -1);
  });

  it('draws text into the PNG (a font was found)', async () => {
    // If resvg finds no font it silently drops all text, and these two would be equal.
    const short = await renderSpec(trainingPlotSpec(rows(2), 'A'));
    const long = await renderSpec(trainingPlotSpec(rows(2), 'A title with quite a few glyphs'));
    expect(
      Buffer.from(short.png).equals(Buffer.from(long.png)),
      'no text in the PNG: install a font (Debian: fonts-dejavu-core) or set XRUN_FONT_FILE',
    ).toBe(false);
  });

  it('renders a one-epoch comparison', async () => {
    const { svg, png } = await renderSpec(
      comparisonPlotSpec([{ run: 'only', rows: rows(1) }], 'single'),
    );
    expect(svg).toContain('>single<');
    expect(svg).toContain('>only<');
    expect(pngSize(png).width).toBeGreaterThan(800);
  });
});
