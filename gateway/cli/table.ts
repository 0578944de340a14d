/** A small terminal table: columns padded to their widest cell, numbers right-aligned. */

export interface Column {
  header: string;
  /** Default: right for cells that are all numbers (or "–"), left otherwise. */
  align?: 'left' | 'right';
}

export interface TableOptions {
  /** Prefix of every line. */
  indent?: string;
  /** Spaces between columns. */
  gap?: number;
  /** Print the header row (default true). */
  header?: boolean;
}

type Cell = string | number;

const NUMERIC = /^-?[\d.,]+(%| ms| MiB| KiB| B| MB)?$|^–$/;

/** The table as text, one line per row, ending with a newline. */
export function formatTable(columns: Array<Column | string>, rows: Cell[][], options: TableOptions = {}): string {
  const cols = columns.map((c) => (typeof c === 'string' ? { header: c } : c));
  const text = rows.map((row) => cols.map((_, i) => String(row[i] ?? '')));
  const showHeader = options.header ?? true;
  const widths = cols.map((c, i) => Math.max(showHeader ? width(c.header) : 0, ...text.map((r) => width(r[i]!))));
  const aligns = cols.map((c, i) => c.align ?? (text.length > 0 && text.every((r) => NUMERIC.test(r[i]!)) ? 'right' : 'left'));
  const gap = ' '.repeat(options.gap ?? 2);
  const line = (cells: string[]) =>
    (options.indent ?? '') +
    cells
      .map((cell, i) => (aligns[i] === 'right' ? cell.padStart(widths[i]! + cell.length - width(cell)) : cell.padEnd(widths[i]! + cell.length - width(cell))))
      .join(gap)
      .trimEnd();
  const lines = [...(showHeader ? [line(cols.map((c) => c.header))] : []), ...text.map(line)];
  return lines.map((l) => `${l}\n`).join('');
}

/** Display width, counting code points (the box and block characters used here are one column each). */
function width(text: string): number {
  return [...text].length;
}
