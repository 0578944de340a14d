/**
 * `.gitignore` syntax, for `.hearthignore`: one pattern a line; blank lines
 * and `#` comments skipped; `!` re-includes; a trailing `/` matches folders
 * only; a `/` at the start or in the middle anchors the pattern to the
 * folder being deployed, otherwise it matches a name at any depth; `*` and
 * `?` never cross a `/`, `**` as a whole segment matches any number of
 * folders, `[a-z]` / `[!a-z]` are classes, `\` escapes the next character.
 * The last pattern that matches a path decides.
 *
 * Patterns come from a file the user may not have written (a cloned repo),
 * so matching never builds a regex from them: a pattern is cut into
 * segments, and both levels (characters in a segment, segments in a path)
 * use the greedy wildcard walk that only ever backs up to the latest star.
 * Its cost is at most (pattern length × path length), never exponential.
 */

/** One character-level token of a segment pattern. */
type Token =
  | { kind: 'star' }
  | { kind: 'any' }
  | { kind: 'char'; char: string }
  | { kind: 'class'; negated: boolean; ranges: Array<[number, number]> };

/** One path segment of a pattern: `**`, or a glob over one name. */
type Segment = { kind: 'globstar' } | { kind: 'glob'; tokens: Token[] };

export interface IgnoreRule {
  /** The line as written (after trimming), for messages. */
  source: string;
  negated: boolean;
  /** Trailing `/`: matches folders only. */
  dirOnly: boolean;
  /** Matched against the whole path (true) or against the last name at any depth. */
  anchored: boolean;
  segments: Segment[];
}

/** Parses `.hearthignore` text into rules, in order; lines that hold no pattern are dropped. */
export function parseIgnoreRules(text: string): IgnoreRule[] {
  const rules: IgnoreRule[] = [];
  for (const rawLine of text.split('\n')) {
    const rule = parseIgnoreLine(rawLine.endsWith('\r') ? rawLine.slice(0, -1) : rawLine);
    if (rule) rules.push(rule);
  }
  return rules;
}

/** One line as a rule, or null for a blank line, a comment or a pattern that can match nothing. */
export function parseIgnoreLine(line: string): IgnoreRule | null {
  let text = trimTrailingSpaces(line);
  if (text === '' || text.startsWith('#')) return null;
  let negated = false;
  if (text.startsWith('!')) {
    negated = true;
    text = text.slice(1);
  }
  let dirOnly = false;
  while (text.endsWith('/') && !text.endsWith('\\/')) {
    dirOnly = true;
    text = text.slice(0, -1);
  }
  const leadingSlash = text.startsWith('/');
  if (leadingSlash) text = text.replace(/^\/+/, '');
  if (text === '') return null;
  const parts = text.split('/').filter((p) => p !== '');
  const anchored = leadingSlash || parts.length > 1;
  const segments: Segment[] = [];
  for (const part of parts) {
    const segment: Segment = part === '**' ? { kind: 'globstar' } : { kind: 'glob', tokens: tokenize(part) };
    // `a/**/**/b` is `a/**/b`.
    if (segment.kind === 'globstar' && segments[segments.length - 1]?.kind === 'globstar') continue;
    segments.push(segment);
  }
  // A trailing `/**` matches what is inside, not the folder itself: one more name at least.
  if (segments[segments.length - 1]?.kind === 'globstar' && segments.length > 1) {
    segments.splice(segments.length - 1, 0, { kind: 'glob', tokens: [{ kind: 'star' }] });
  }
  return { source: line.trim(), negated, dirOnly, anchored, segments };
}

/**
 * Whether `rule` matches `path` (`/`-separated, relative to the deployed
 * folder, no leading `./`). It does not look at `negated`.
 */
export function ruleMatches(rule: IgnoreRule, path: string, isDir: boolean): boolean {
  if (rule.dirOnly && !isDir) return false;
  const names = path.split('/');
  if (!rule.anchored) {
    const only = rule.segments[0];
    if (!only) return false;
    return only.kind === 'globstar' || globMatches(only.tokens, names[names.length - 1]!);
  }
  return wildcardMatch(
    names,
    rule.segments,
    (s) => s.kind === 'globstar',
    (name, s) => s.kind === 'glob' && globMatches(s.tokens, name),
  );
}

/**
 * Whether the rules, in order, leave `path` out: the last matching rule
 * decides (`!` re-includes); no match keeps it. Folders that are left out
 * are not looked into, so nothing under one can be re-included (as in git).
 */
export function isIgnored(rules: readonly IgnoreRule[], path: string, isDir: boolean): boolean {
  for (let i = rules.length - 1; i >= 0; i--) {
    const rule = rules[i]!;
    if (ruleMatches(rule, path, isDir)) return !rule.negated;
  }
  return false;
}

/** Whether one name matches one segment's tokens (`*` and `?` within the name). */
function globMatches(tokens: Token[], name: string): boolean {
  const chars = [...name];
  return wildcardMatch(
    chars,
    tokens,
    (t) => t.kind === 'star',
    (char, t) => tokenMatches(t, char),
  );
}

function tokenMatches(token: Token, char: string): boolean {
  switch (token.kind) {
    case 'any':
      return true;
    case 'char':
      return token.char === char;
    case 'class': {
      const code = char.codePointAt(0)!;
      let inside = false;
      for (const [low, high] of token.ranges) {
        if (code >= low && code <= high) {
          inside = true;
          break;
        }
      }
      return inside !== token.negated;
    }
    case 'star':
      return false;
  }
}

/**
 * The classic greedy wildcard walk: a star first matches nothing; on a
 * mismatch the latest star takes one more item and the walk resumes after
 * it. Earlier stars never need to take more (whatever they would take, the
 * latest star can), so the cost is at most items × pattern, with no deeper
 * backtracking.
 */
function wildcardMatch<I, P>(items: readonly I[], pattern: readonly P[], isStar: (p: P) => boolean, matchesOne: (item: I, p: P) => boolean): boolean {
  let i = 0;
  let p = 0;
  let starAt = -1;
  let starItem = 0;
  while (i < items.length) {
    if (p < pattern.length && isStar(pattern[p]!)) {
      starAt = p++;
      starItem = i;
    } else if (p < pattern.length && matchesOne(items[i]!, pattern[p]!)) {
      i++;
      p++;
    } else if (starAt !== -1) {
      p = starAt + 1;
      i = ++starItem;
    } else {
      return false;
    }
  }
  while (p < pattern.length && isStar(pattern[p]!)) p++;
  return p === pattern.length;
}

/** A segment pattern as tokens; `**` inside a name is a plain `*`, an unclosed `[` a literal. */
function tokenize(part: string): Token[] {
  const chars = [...part];
  const tokens: Token[] = [];
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i]!;
    if (c === '\\') {
      if (i + 1 < chars.length) tokens.push({ kind: 'char', char: chars[++i]! });
      continue;
    }
    if (c === '*') {
      if (tokens[tokens.length - 1]?.kind !== 'star') tokens.push({ kind: 'star' });
      continue;
    }
    if (c === '?') {
      tokens.push({ kind: 'any' });
      continue;
    }
    if (c === '[') {
      const parsed = parseClass(chars, i);
      if (parsed) {
        tokens.push(parsed.token);
        i = parsed.end;
        continue;
      }
    }
    tokens.push({ kind: 'char', char: c });
  }
  return tokens;
}

/** `[...]` starting at `start`: the class and the index of its `]`, or null when it never closes. */
function parseClass(chars: string[], start: number): { token: Token; end: number } | null {
  let i = start + 1;
  let negated = false;
  if (chars[i] === '!' || chars[i] === '^') {
    negated = true;
    i++;
  }
  const ranges: Array<[number, number]> = [];
  let first = true;
  for (; i < chars.length; i++) {
    let c = chars[i]!;
    if (c === ']' && !first) return { token: { kind: 'class', negated, ranges }, end: i };
    first = false;
    if (c === '\\' && i + 1 < chars.length) c = chars[++i]!;
    const low = c.codePointAt(0)!;
    if (chars[i + 1] === '-' && i + 2 < chars.length && chars[i + 2] !== ']') {
      let high = chars[i + 2]!;
      i += 2;
      if (high === '\\' && i + 1 < chars.length) high = chars[++i]!;
      ranges.push([low, high.codePointAt(0)!]);
    } else {
      ranges.push([low, low]);
    }
  }
  return null;
}

/** Trailing spaces are dropped unless escaped with a backslash (`foo\ ` keeps one). */
function trimTrailingSpaces(line: string): string {
  let end = line.length;
  while (end > 0 && line[end - 1] === ' ') {
    let slashes = 0;
    for (let k = end - 2; k >= 0 && line[k] === '\\'; k--) slashes++;
    if (slashes % 2 === 1) break;
    end--;
  }
  return line.slice(0, end);
}
