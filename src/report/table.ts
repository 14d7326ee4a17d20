/** Plain-text and markdown tables shared by the summary and diff reports. */

export type Align = 'left' | 'right';

/** Column widths in code points, so labels with non-ASCII characters still line up. */
function width(text: string): number {
  return [...text].length;
}

function pad(text: string, size: number, align: Align): string {
  const fill = ' '.repeat(Math.max(0, size - width(text)));
  return align === 'right' ? fill + text : text + fill;
}

export interface TextTableOptions {
  /** Per column; missing entries are left-aligned. */
  align?: readonly Align[];
  /** Prefixed to every line, e.g. to indent a table under a heading. */
  indent?: string;
  /** Spaces between columns. */
  gap?: number;
}

/**
 * Aligned plain text for a terminal. Header rows are given separately so a caller can
 * stack a group row over the column names; every header row must have as many cells as
 * the body rows.
 */
export function textTable(
  headerRows: readonly (readonly string[])[],
  rows: readonly (readonly string[])[],
  options: TextTableOptions = {},
): string {
  const all = [...headerRows, ...rows];
  const columns = Math.max(0, ...all.map((r) => r.length));
  const widths: number[] = [];
  for (let c = 0; c < columns; c++) {
    widths.push(Math.max(0, ...all.map((r) => width(r[c] ?? ''))));
  }
  const gap = ' '.repeat(options.gap ?? 2);
  const indent = options.indent ?? '';
  const line = (r: readonly string[], isHeader: boolean): string =>
    indent +
    widths
      .map((w, c) => pad(r[c] ?? '', w, isHeader ? 'left' : (options.align?.[c] ?? 'left')))
      .join(gap)
      .trimEnd();
  return [...headerRows.map((r) => line(r, true)), ...rows.map((r) => line(r, false))].join('\n');
}

/** A cell's text must not break the row: pipes are escaped and newlines flattened. */
export function markdownCell(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

/** A GitHub-flavoured markdown table; cells are escaped here, so pass raw text. */
export function markdownTable(
  header: readonly string[],
  rows: readonly (readonly string[])[],
  align: readonly Align[] = [],
): string {
  const row = (cells: readonly string[]): string =>
    `| ${header.map((_, c) => markdownCell(cells[c] ?? '')).join(' | ')} |`;
  const rule = `|${header.map((_, c) => (align[c] === 'right' ? ' ---: ' : ' --- ')).join('|')}|`;
  return [row(header), rule, ...rows.map(row)].join('\n');
}
