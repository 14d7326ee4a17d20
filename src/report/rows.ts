/**
 * One table model for every command that prints rows (status, plan, compare, diff):
 * the command builds columns and rows of raw values once, and the user picks how they
 * are shown with `--format table|csv|json|md`. Raw values go to csv and json (numbers
 * stay numbers, missing stays null); the text formats show each column's formatter.
 */
import { stringify as csvStringify } from 'csv-stringify/sync';
import { UsageError } from '../errors.js';
import { markdownTable, textTable, type Align } from './table.js';

export type RowsFormat = 'table' | 'csv' | 'json' | 'md';
export const ROWS_FORMATS: readonly RowsFormat[] = ['table', 'csv', 'json', 'md'];

export type Cell = string | number | boolean | null | undefined;

export interface Column {
  /** Key of the value in each row; also the csv header and json property. */
  key: string;
  /** Header in the text formats (default: key). */
  header?: string;
  align?: Align;
  /** Text shown in table and md; csv and json keep the raw value. */
  format?: (value: Cell, row: Row) => string;
  /** Formats that show this column (default: all); e.g. a std that table and md fold into `mean ± std`. */
  formats?: readonly RowsFormat[];
  /**
   * A heading shared by consecutive columns: in the table format it spans them on a line
   * above their headers (`test_loss` over `a  b  delta`); markdown, with one header row,
   * shows each column's key instead.
   */
  group?: string;
}

export type Row = Record<string, Cell>;

export interface Rows {
  columns: Column[];
  rows: Row[];
}

function text(column: Column, row: Row): string {
  const value = row[column.key];
  if (column.format) return column.format(value, row);
  if (value === null || value === undefined) return '';
  return String(value);
}

/** Right-align columns whose every present value is a number, unless told otherwise. */
function alignOf(column: Column, rows: Row[]): Align {
  if (column.align) return column.align;
  const present = rows.map((r) => r[column.key]).filter((v) => v !== null && v !== undefined && v !== '');
  return present.length > 0 && present.every((v) => typeof v === 'number') ? 'right' : 'left';
}

function json(value: Cell): Cell {
  if (value === undefined) return null;
  // JSON has no NaN or Infinity: a diverged run's loss is reported as null there.
  if (typeof value === 'number' && !Number.isFinite(value)) return null;
  return value;
}

/** Runs of consecutive columns with the same group, as textTable spans. */
function groupSpans(columns: readonly Column[]): { label: string; from: number; to: number }[] {
  const spans: { label: string; from: number; to: number }[] = [];
  columns.forEach((c, i) => {
    if (c.group === undefined) return;
    const last = spans.at(-1);
    if (last && last.label === c.group && last.to === i - 1) last.to = i;
    else spans.push({ label: c.group, from: i, to: i });
  });
  return spans;
}

export interface RenderOptions {
  /** Prefixed to every line of the table format, e.g. to indent a table under a heading. */
  indent?: string;
}

export function renderRows(table: Rows, format: RowsFormat, options: RenderOptions = {}): string {
  const { rows } = table;
  const columns = table.columns.filter((c) => !c.formats || c.formats.includes(format));
  switch (format) {
    case 'table':
      return textTable(
        [columns.map((c) => c.header ?? c.key)],
        rows.map((r) => columns.map((c) => text(c, r))),
        { align: columns.map((c) => alignOf(c, rows)), spans: groupSpans(columns), indent: options.indent },
      );
    case 'md':
      return markdownTable(
        columns.map((c) => (c.group !== undefined ? c.key : (c.header ?? c.key))),
        rows.map((r) => columns.map((c) => text(c, r))),
        columns.map((c) => alignOf(c, rows)),
      );
    case 'csv':
      return csvStringify([columns.map((c) => c.key), ...rows.map((r) => columns.map((c) => json(r[c.key]) ?? ''))]).trimEnd();
    case 'json':
      return JSON.stringify(
        rows.map((r) => Object.fromEntries(columns.map((c) => [c.key, json(r[c.key])]))),
        null,
        2,
      );
    default: {
      const never: never = format;
      throw new UsageError(`unknown format '${String(never)}'`, { hint: `use one of ${ROWS_FORMATS.join(', ')}` });
    }
  }
}
