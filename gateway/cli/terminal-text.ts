/**
 * Text a function controls (its logs, error messages and stacks, results)
 * reaches the user's terminal through the CLI. Raw, it could drive the
 * terminal: clear the screen, rewrite earlier lines (`\r`, cursor moves) to
 * hide or forge output, set the window title, or use the few terminals'
 * escapes that write files or answer back. So the CLI shows control
 * characters as escapes instead: C0 controls except `\t` and `\n` (a lone
 * `\r` too; `\r\n` stays), DEL, C1 controls (U+0080–U+009F: 8-bit CSI/OSC),
 * and the bidirectional override and isolate marks that reorder what is
 * shown (U+202A–U+202E, U+2066–U+2069).
 */

/** The characters shown escaped (as a regex class body); a lone `\r` is added for plain text. */
const UNSAFE = '\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f-\\u009f\\u202a-\\u202e\\u2066-\\u2069';
const UNSAFE_TEXT = new RegExp(`[${UNSAFE}]|\\r(?!\\n)`, 'g');
const UNSAFE_JSON = new RegExp(`[${UNSAFE}]|\\r(?!\\n)`, 'g');
/** Table cells also show tab, newline and CR escaped, so a cell stays on its row. */
const UNSAFE_CELL = new RegExp(`[${UNSAFE}\\t\\n\\r]`, 'g');
const CELL_NAMED: Record<string, string> = { '\t': '\\t', '\n': '\\n', '\r': '\\r' };

const hex = (char: string, width: number) => char.charCodeAt(0).toString(16).padStart(width, '0');

/**
 * Plain text for a terminal: ESC becomes `\x1b`, DEL `\x7f`, a C1 control
 * `\x9b`, a lone CR `\x0d`, a bidi mark `\u202e`. Tabs and newlines stay.
 * A backslash already in the text is left alone: this is for reading, not a
 * reversible encoding.
 */
export function escapeControls(text: string): string {
  return text.replace(UNSAFE_TEXT, (char) => (char.charCodeAt(0) > 0xff ? `\\u${hex(char, 4)}` : `\\x${hex(char, 2)}`));
}

/**
 * Valid JSON text for a terminal: the same characters as `\uXXXX` escapes.
 * Valid JSON holds none of them raw outside strings (whitespace is only
 * space, `\t`, `\n`, `\r`; a lone `\r` becomes a space), and inside a string the
 * escape means the same character (JSON.stringify and Python's json.dumps
 * leave DEL, C1 controls and bidi marks raw), so the output stays valid JSON
 * with the same value. Text that is not JSON goes through `escapeControls`.
 */
export function escapeJsonControls(json: string): string {
  // A raw CR in valid JSON is whitespace between tokens: a space means the same and moves no cursor.
  return json.replace(UNSAFE_JSON, (char) => (char === '\r' ? ' ' : `\\u${hex(char, 4)}`));
}

/** JSON text `\u`-escaped (same value, still valid JSON), anything else through `escapeControls`. */
export function escapeJsonOrText(text: string): string {
  try {
    JSON.parse(text);
    return escapeJsonControls(text);
  } catch {
    return escapeControls(text);
  }
}

/**
 * One table cell: like `escapeControls`, and newlines, tabs and any CR shown
 * as `\n`, `\t`, `\r` too, so a cell stays on its row and in its column.
 */
export function escapeCell(text: string): string {
  return text.replace(UNSAFE_CELL, (char) => CELL_NAMED[char] ?? escapeControls(char));
}

