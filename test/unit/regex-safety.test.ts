/**
 * A lint for regular expressions that backtrack super-linearly on untrusted
 * input, over every regex literal (and `new RegExp('…')`) in gateway/. Two
 * shapes are looked for, the two that make real-world ReDoS:
 *
 * - a nested quantifier: an unbounded group (`(…)+`, `(…)*`, `(…){n,}`)
 *   holding an unbounded quantifier, unless each repetition must begin
 *   with a character the inner part cannot match (`(?:-[a-z]+)+` is linear);
 * - adjacent overlapping quantifiers: two unbounded atoms with only
 *   optional items between them and a character both match
 *   (`[A-Za-z0-9+/\s]*={0,2}\s*$`, the old ZipFile check: quadratic on
 *   spaces followed by one invalid character).
 *
 * The tokenizer understands what the gateway's patterns use (escapes,
 * classes, groups, quantifiers); which characters an atom matches is asked
 * of the regex engine itself, one character at a time.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = new URL('../..', import.meta.url).pathname;

interface Atom {
  kind: 'atom';
  source: string;
  min: number;
  unbounded: boolean;
}
interface Group {
  kind: 'group';
  items: Item[][];
  source: string;
  min: number;
  unbounded: boolean;
}
type Item = Atom | Group;

/** Characters tried when asking whether two atoms overlap. */
const PROBES = [...Array.from({ length: 128 }, (_, i) => String.fromCharCode(i)), '\u00a0', '\u2028', 'é', '☃'];

function parse(pattern: string): Item[][] {
  let at = 0;
  const quantifier = (): { min: number; unbounded: boolean } => {
    const ch = pattern[at];
    let q = { min: 1, unbounded: false };
    if (ch === '*') q = { min: 0, unbounded: true };
    else if (ch === '+') q = { min: 1, unbounded: true };
    else if (ch === '?') q = { min: 0, unbounded: false };
    else if (ch === '{') {
      const m = /^\{(\d*)(,?)(\d*)\}/.exec(pattern.slice(at));
      if (!m) return q;
      at += m[0].length;
      if (pattern[at] === '?') at++;
      return { min: Number(m[1] || 0), unbounded: m[2] === ',' && m[3] === '' };
    } else return q;
    at++;
    if (pattern[at] === '?' || pattern[at] === '+') at++;
    return q;
  };
  const sequence = (): Item[][] => {
    const alternatives: Item[][] = [[]];
    while (at < pattern.length && pattern[at] !== ')') {
      const start = at;
      const ch = pattern[at]!;
      if (ch === '|') {
        at++;
        alternatives.push([]);
        continue;
      }
      if (ch === '(') {
        at++;
        if (pattern[at] === '?') {
          at++;
          if (pattern[at] === '<' && pattern[at + 1] !== '=' && pattern[at + 1] !== '!') at = pattern.indexOf('>', at) + 1;
          else at++;
        }
        const items = sequence();
        at++; // ')'
        const source = pattern.slice(start, at);
        alternatives[alternatives.length - 1]!.push({ kind: 'group', items, source, ...quantifier() });
        continue;
      }
      if (ch === '[') {
        at++;
        if (pattern[at] === '^') at++;
        if (pattern[at] === ']') at++;
        while (pattern[at] !== ']') at += pattern[at] === '\\' ? 2 : 1;
        at++;
      } else if (ch === '\\') {
        at += 2;
        if (pattern[at - 1] === 'u' && pattern[at] === '{') at = pattern.indexOf('}', at) + 1;
        else if (pattern[at - 1] === 'u') at += 4;
        else if (pattern[at - 1] === 'x') at += 2;
      } else at++;
      const source = pattern.slice(start, at);
      alternatives[alternatives.length - 1]!.push({ kind: 'atom', source, ...quantifier() });
    }
    return alternatives;
  };
  return sequence();
}

function matcher(source: string, flags: string): (ch: string) => boolean {
  if (/^[$^]$|^\\[bB]$/.test(source)) return () => false;
  const re = new RegExp(`^(?:${source})$`, flags.replace(/[gy]/g, ''));
  return (ch) => re.test(ch);
}

const overlap = (a: string, b: string, flags: string) => {
  const [ma, mb] = [matcher(a, flags), matcher(b, flags)];
  return PROBES.some((ch) => ma(ch) && mb(ch));
};

/** The single atoms an item can begin with (a group's first items), for the separator rule. */
function firstAtoms(items: Item[][]): string[] | null {
  const out: string[] = [];
  for (const alt of items) {
    const first = alt[0];
    if (!first || first.min === 0) return null;
    if (first.kind === 'atom') out.push(first.source);
    else {
      const inner = firstAtoms(first.items);
      if (!inner) return null;
      out.push(...inner);
    }
  }
  return out;
}

function unboundedAtoms(items: Item[][]): string[] {
  return items.flat().flatMap((item) => (item.kind === 'group' ? unboundedAtoms(item.items) : item.unbounded ? [item.source] : []));
}

/** Problems found in `pattern`. */
export function backtrackingRisks(pattern: string, flags = ''): string[] {
  const risks: string[] = [];
  const visit = (alternatives: Item[][]) => {
    for (const alt of alternatives) {
      for (let i = 0; i < alt.length; i++) {
        const item = alt[i]!;
        if (item.kind === 'group') {
          visit(item.items);
          const inner = unboundedAtoms(item.items);
          if (item.unbounded && inner.length > 0) {
            const firsts = firstAtoms(item.items);
            const separated = firsts !== null && firsts.every((f) => inner.every((a) => !overlap(f, a, flags)));
            if (!separated) risks.push(`nested quantifier ${item.source}${item.unbounded ? '…' : ''}`);
          }
        }
        if (item.kind !== 'atom' || !item.unbounded) continue;
        // The next unbounded atom reachable over optional items only.
        for (let j = i + 1; j < alt.length; j++) {
          const next = alt[j]!;
          if (next.kind === 'atom' && next.unbounded) {
            if (overlap(item.source, next.source, flags)) risks.push(`adjacent overlapping quantifiers ${item.source} … ${next.source}`);
            break;
          }
          if (next.min > 0) break;
        }
      }
    }
  };
  visit(parse(pattern));
  return risks;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

/** Every regex literal and `new RegExp('literal')` in a file, with its line. */
function regexesIn(file: string): Array<{ pattern: string; flags: string; line: number }> {
  const text = readFileSync(file, 'utf8');
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const found: Array<{ pattern: string; flags: string; line: number }> = [];
  const visit = (node: ts.Node) => {
    const line = source.getLineAndCharacterOfPosition(node.getStart()).line + 1;
    if (node.kind === ts.SyntaxKind.RegularExpressionLiteral) {
      const literal = node.getText();
      const slash = literal.lastIndexOf('/');
      found.push({ pattern: literal.slice(1, slash), flags: literal.slice(slash + 1), line });
    } else if (ts.isNewExpression(node) && node.expression.getText() === 'RegExp' && node.arguments?.[0] && ts.isStringLiteral(node.arguments[0])) {
      found.push({ pattern: node.arguments[0].text, flags: '', line });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

describe('regex safety', () => {
  it('recognises the dangerous shapes and leaves linear ones alone', () => {
    expect(backtrackingRisks('^[A-Za-z0-9+/\\s]*={0,2}\\s*$')).not.toEqual([]);
    expect(backtrackingRisks('^(a+)+$')).not.toEqual([]);
    expect(backtrackingRisks('^(\\w+\\s?)*$')).not.toEqual([]);
    expect(backtrackingRisks('\\d+\\d+')).not.toEqual([]);
    expect(backtrackingRisks('^[a-z]{2}(?:-[a-z]+)+-\\d{1,2}$')).toEqual([]);
    expect(backtrackingRisks('^Bearer\\s+(\\S+)\\s*$', 'i')).toEqual([]);
    expect(backtrackingRisks('^(\\d{4})(\\d{2})(\\d{2})T(\\d{2})(\\d{2})(\\d{2})Z$')).toEqual([]);
    expect(backtrackingRisks('[ \\t]+')).toEqual([]);
  });

  it('finds none in gateway/', () => {
    const files = sourceFiles(join(ROOT, 'gateway'));
    // The scan sees the gateway's patterns at all (a broken walk would pass vacuously).
    expect(files.reduce((n, file) => n + regexesIn(file).length, 0)).toBeGreaterThan(40);
    const risky = files.flatMap((file) =>
      regexesIn(file).flatMap(({ pattern, flags, line }) =>
        backtrackingRisks(pattern, flags).map((risk) => `${relative(ROOT, file)}:${line} /${pattern}/${flags}: ${risk}`),
      ),
    );
    expect(risky).toEqual([]);
  });
});
