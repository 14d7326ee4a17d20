import { describe, expect, it } from 'vitest';
import { expandGrid } from '../src/grid/expand.js';

const models = { cnn: { type: 'cnn' }, lstm: { type: 'lstm' }, gru: { type: 'gru' } };

describe('grid expansion', () => {
  it('is the Cartesian product of the axes, with readable ids in axis order', () => {
    const g = expandGrid({ name: 'x', models, sweep: { model: ['lstm', 'gru'], 'models.*.hidden': [64, 128, 256], 'training.epochs': [5, 10] } });
    expect(g.total).toBe(12);
    expect(g.cells).toHaveLength(12);
    expect(g.cells[0]!.id).toBe('model=lstm,hidden=64,epochs=5');
    expect(new Set(g.cells.map((c) => c.id)).size).toBe(12);
    const cell = g.cells.find((c) => c.id === 'model=gru,hidden=256,epochs=10')!;
    expect(cell.config).toEqual({ name: 'x', model: 'gru', models: { gru: { type: 'gru', hidden: 256 } }, training: { epochs: 10 } });
  });

  it('keeps only the trained model and drops the sweep from each run config', () => {
    const g = expandGrid({ name: 'x', models, sweep: { model: ['cnn'] } });
    expect(g.cells[0]!.config).toEqual({ name: 'x', model: 'cnn', models: { cnn: { type: 'cnn' } } });
  });

  it('merges cells that differ only in an axis that does not apply to their model', () => {
    const g = expandGrid({ name: 'x', models, sweep: { model: ['cnn', 'lstm'], 'models.lstm.hidden': [64, 128] } });
    expect(g.total).toBe(4);
    expect(g.merged).toBe(1);
    expect(g.cells.map((c) => c.id)).toEqual(['model=cnn', 'model=lstm,hidden=64', 'model=lstm,hidden=128']);
  });

  it('uses the full axis name when two axes end alike', () => {
    const g = expandGrid({ name: 'x', models: { lstm: models.lstm }, sweep: { 'models.lstm.dropout': [0.1], 'training.dropout': [0.2] } });
    expect(g.cells[0]!.id).toBe('models.lstm.dropout=0.1,training.dropout=0.2');
  });

  it('without a sweep there is one run named after its model', () => {
    const g = expandGrid({ name: 'x', models: { lstm: models.lstm } });
    expect(g.cells.map((c) => c.id)).toEqual(['model=lstm']);
    expect(g.cells[0]!.config.model).toBe('lstm');
  });

  it('makes ids safe as folder names', () => {
    const g = expandGrid({ name: 'x', models: { lstm: models.lstm }, sweep: { 'dataset.subset': [{ train: 5 }] } });
    expect(g.cells[0]!.id).not.toMatch(/[/"{}: ]/);
  });
});
