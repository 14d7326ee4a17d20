/**
 * The results table for the terminal at the end of `xrun run`: the rows of summary.md as
 * a Rows table, fitted to the terminal's width (summary.md keeps the full markdown).
 */
import { fitRows } from './fit.js';
import type { Cell, Column, Rows } from './rows.js';
import { valueColumns, type SummaryRow } from './summary.js';

const four = (v: Cell) => (typeof v === 'number' ? (Number.isFinite(v) ? v.toFixed(4) : String(v)) : '');

export function summaryRows(table: readonly SummaryRow[]): Rows {
  const values = valueColumns(table);
  const columns: Column[] = [
    { key: 'run' },
    { key: 'status' },
    { key: 'epochs' },
    ...values.map((v): Column => ({ key: `values.${v.key}`, header: v.header })),
    { key: 'test_accuracy', header: 'test acc', format: four, align: 'right' },
    { key: 'test_loss', header: 'test loss', format: four, align: 'right' },
    { key: 'train_accuracy', header: 'train acc', format: four, align: 'right' },
    { key: 'train_loss', header: 'train loss', format: four, align: 'right' },
    // Only runs with a validation split have a best epoch; without any, the column would be empty.
    ...(table.some((r) => r.best_test_accuracy !== null)
      ? [{ key: 'best_test_accuracy', header: 'best-val acc', format: four, align: 'right' } satisfies Column]
      : []),
    { key: 'time', align: 'right' },
  ];
  const rows = table.map((r) => ({
    run: r.run,
    status: r.status,
    epochs: r.epochs,
    ...Object.fromEntries(values.map((v) => [`values.${v.key}`, valueCell(r.values[v.key])])),
    test_accuracy: r.test_accuracy,
    test_loss: r.test_loss,
    train_accuracy: r.train_accuracy,
    train_loss: r.train_loss,
    best_test_accuracy: r.best_test_accuracy,
    time: r.time,
  }));
  return { columns, rows };
}

function valueCell(value: unknown): Cell {
  if (value === undefined || value === null) return null;
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return value;
  return JSON.stringify(value);
}

/**
 * Fitted to `width` columns: the sweep values go first (the run id already names them),
 * then train metrics, best accuracy, epochs and status; test accuracy, loss and time stay.
 */
export function summaryTerminalTable(table: readonly SummaryRow[], width: number): string {
  const rows = summaryRows(table);
  const valueKeys = rows.columns.filter((c) => c.key.startsWith('values.')).map((c) => c.key);
  return fitRows(rows, width, [...valueKeys, 'train_loss', 'train_accuracy', 'best_test_accuracy', 'epochs', 'status']).text;
}
