/**
 * A small terminal table: columns padded to their widest cell, numbers
 * right-aligned. Cells usually hold the server's words (function names,
 * handlers, error codes), so each is shown with control characters, tabs
 * and newlines escaped, and cut to `maxCellWidth` with an ellipsis. Widths
 * are display columns as a terminal draws them (`string-width`: a CJK
 * character or an emoji takes two, a combining mark none). Any number of
 * rows: widths are found with loops, never `Math.max(...cells)`, which
 * throws past about 100,000 arguments.
 */
import stringWidth from 'string-width';
import { escapeCell } from './terminal-text.ts';

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
  /** Longer cells are cut to this many columns, the last one "…" (default 80). */
  maxCellWidth?: number;
}

type Cell = string | number;

const NUMERIC = /^-?[\d.,]+(%| ms| MiB| KiB| B| MB)?$|^–$/;

export const DEFAULT_MAX_CELL_WIDTH = 80;

/** The table as text, one line per row, ending with a newline. */
export function formatTable(columns: Array<Column | string>, rows: readonly Cell[][], options: TableOptions = {}): string {
  const cols = columns.map((c) => (typeof c === 'string' ? { header: c } : c));
  const maxWidth = Math.max(1, options.maxCellWidth ?? DEFAULT_MAX_CELL_WIDTH);
  const cell = (value: Cell | undefined) => truncate(escapeCell(String(value ?? '')), maxWidth);
  const text = rows.map((row) => cols.map((_, i) => cell(row[i])));
  const headers = cols.map((c) => cell(c.header));
  const showHeader = options.header ?? true;

  const widths = cols.map((_, i) => {
    let widest = showHeader ? stringWidth(headers[i]!) : 0;
    for (const r of text) {
      const w = stringWidth(r[i]!);
      if (w > widest) widest = w;
    }
    return widest;
  });
  const aligns = cols.map((c, i) => c.align ?? (text.length > 0 && text.every((r) => NUMERIC.test(r[i]!)) ? 'right' : 'left'));
  const gap = ' '.repeat(options.gap ?? 2);
  const line = (cells: string[]) =>
    (options.indent ?? '') +
    cells
      .map((c, i) => (aligns[i] === 'right' ? c.padStart(widths[i]! + c.length - stringWidth(c)) : c.padEnd(widths[i]! + c.length - stringWidth(c))))
      .join(gap)
      .trimEnd();
  let out = showHeader ? `${line(headers)}\n` : '';
  for (const r of text) out += `${line(r)}\n`;
  return out;
}

const graphemes = new Intl.Segmenter();

/** At most `max` columns, the last one "…" when something was cut. */
function truncate(text: string, max: number): string {
  // Only a head is measured, so a megabyte cell is not segmented whole.
  const head = text.slice(0, 8 * max);
  if (head.length === text.length && stringWidth(text) <= max) return text;
  let kept = '';
  let columns = 0;
  for (const { segment } of graphemes.segment(head)) {
    columns += stringWidth(segment);
    if (columns > max - 1) break;
    kept += segment;
  }
  return `${kept}…`;
}
