import { describe, expect, it } from 'vitest';
import { renderRows, type Rows } from '../src/report/rows.js';

const table: Rows = {
  columns: [
    { key: 'run', header: 'run' },
    { key: 'acc', header: 'test acc', format: (v) => (typeof v === 'number' ? v.toFixed(2) : '') },
    { key: 'note' },
  ],
  rows: [
    { run: 'model=cnn,lr=0.1', acc: 0.956, note: 'a|b' },
    { run: 'model=rnn', acc: Number.NaN, note: null },
    { run: 'model=gru', acc: null, note: undefined },
  ],
};

describe('renderRows', () => {
  it('aligns a terminal table with formatted cells, numbers to the right', () => {
    expect(renderRows(table, 'table').split('\n')).toEqual([
      'run               test acc  note',
      'model=cnn,lr=0.1      0.96  a|b',
      'model=rnn              NaN',
      'model=gru',
    ]);
  });

  it('escapes markdown cells and right-aligns numeric columns', () => {
    const md = renderRows(table, 'md').split('\n');
    expect(md[1]).toBe('| --- | ---: | --- |');
    expect(md[2]).toBe('| model=cnn,lr=0.1 | 0.96 | a\\|b |');
  });

  it('keeps raw values in csv (quoted where needed) and json (non-finite as null)', () => {
    expect(renderRows(table, 'csv').split('\n')).toEqual(['run,acc,note', '"model=cnn,lr=0.1",0.956,a|b', 'model=rnn,,', 'model=gru,,']);
    expect(JSON.parse(renderRows(table, 'json'))).toEqual([
      { run: 'model=cnn,lr=0.1', acc: 0.956, note: 'a|b' },
      { run: 'model=rnn', acc: null, note: null },
      { run: 'model=gru', acc: null, note: null },
    ]);
  });
});
