/** What the CLI does to function-controlled text before a terminal sees it (gateway/cli/terminal-text.ts). */
import { describe, expect, it } from 'vitest';
import { escapeControls, escapeJsonControls } from '../../gateway/cli/terminal-text.ts';

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
