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
  /**
   * Labels on a line above the header rows, each over the columns `from`..`to` (inclusive),
   * e.g. a metric's name over its a, b and delta columns. A label wider than its columns
   * widens the last of them.
   */
  spans?: readonly { label: string; from: number; to: number }[];
}

/**
 * Aligned plain text for a terminal. Header rows are given separately so a caller can
 * stack several; every header row must have as many cells as the body rows.
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
  const spanWidth = (from: number, to: number) => widths.slice(from, to + 1).reduce((a, w) => a + w, 0) + (to - from) * gap.length;
  for (const { label, from, to } of options.spans ?? []) {
    const short = width(label) - spanWidth(from, to);
    if (short > 0) widths[to]! += short;
  }
  const indent = options.indent ?? '';
  // Headers sit over their values: a right-aligned column's name ends where its numbers do.
  const line = (r: readonly string[]): string =>
    indent +
    widths
      .map((w, c) => pad(r[c] ?? '', w, options.align?.[c] ?? 'left'))
      .join(gap)
      .trimEnd();
  const lines = [...headerRows.map(line), ...rows.map(line)];
  if (options.spans?.length) {
    const cells: string[] = [];
    let c = 0;
    for (const { label, from, to } of [...options.spans].sort((x, y) => x.from - y.from)) {
      for (; c < from; c++) cells.push(' '.repeat(widths[c]!));
      cells.push(pad(label, spanWidth(from, to), 'left'));
      c = to + 1;
    }
    lines.unshift((indent + cells.join(gap)).trimEnd());
  }
  return lines.join('\n');
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
