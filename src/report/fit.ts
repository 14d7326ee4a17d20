/**
 * A Rows table that fits a terminal: columns are dropped in the given order until every
 * line fits, and then the widest text column is shortened with an ellipsis.
 */
import { renderRows, type Rows } from './rows.js';

function widest(text: string): number {
  return Math.max(0, ...text.split('\n').map((l) => [...l].length));
}

export function fitRows(table: Rows, width: number, dropOrder: readonly string[]): { text: string; dropped: string[] } {
  let columns = [...table.columns];
  const dropped: string[] = [];
  const render = () => renderRows({ columns, rows: table.rows }, 'table');
  for (const key of dropOrder) {
    if (widest(render()) <= width) break;
    if (!columns.some((c) => c.key === key)) continue;
    columns = columns.filter((c) => c.key !== key);
    dropped.push(key);
  }
  let text = render();
  const over = widest(text) - width;
  if (over > 0) {
    // Still too wide: shorten the first column (the run id), keeping its start.
    const first = columns[0]!;
    const cell = (r: (typeof table.rows)[number]) => String(r[first.key] ?? '');
    const keep = Math.max(8, Math.max(...table.rows.map((r) => [...cell(r)].length)) - over);
    const rows = table.rows.map((r) => {
      const chars = [...cell(r)];
      return { ...r, [first.key]: chars.length > keep ? `${chars.slice(0, keep - 1).join('')}…` : cell(r) };
    });
    text = renderRows({ columns, rows }, 'table');
  }
  return { text, dropped };
}
