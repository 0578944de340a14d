/**
 * Joins a small graph of ES modules into one module that behaves the same:
 * how the Node agent, written as one module per concern, ships as the single
 * file its image runs. Node 20 loads every module of an import graph with its
 * own round of file reads on the libuv threadpool; on a 2-core host the
 * agent's eight modules took about 4 ms longer to reach `hello` than one file
 * did, and everything before `hello` is on the cold-start path.
 *
 * Pure text work, for modules written to these rules (anything else throws,
 * naming the file and line, rather than guess):
 * - between the modules, only `import { a, b } from './x.mjs';` and
 *   `import './x.mjs';`, each on one line, no renaming (`as`): after the join
 *   all modules share one scope, so a name means the same everywhere;
 * - `node:` built-ins imported in any one-line form, kept once at the top;
 * - `export` only in front of a `function`, `async function`, `class`,
 *   `const` or `let` declaration (it is dropped);
 * - top-level names unique across the modules: a clash makes the joined text
 *   a SyntaxError, which the caller must check for (build-images.ts runs
 *   `node --check` on it);
 * - no import cycles; all modules in one directory, so `import.meta.url` and
 *   dynamic imports of relative paths (the agent's warmup.cjs) resolve as before.
 *
 * Modules come out in the order ES modules evaluate: each after everything it
 * imports, depth first, in import order; so top-level code runs in the same
 * order it did as separate modules.
 */

const LOCAL_NAMED = /^import\s*\{([^}]*)\}\s*from\s*'\.\/([\w-]+\.mjs)';\s*$/;
const LOCAL_BARE = /^import\s*'\.\/([\w-]+\.mjs)';\s*$/;
const BUILTIN = /^import\s[^'"]*'node:[\w/]+';\s*$|^import\s*'node:[\w/]+';\s*$/;
/** A static import statement of any other form (dynamic `import(` is left alone). */
const OTHER_IMPORT = /^import[\s{'"*]/;
const EXPORTED_DECLARATION = /^export\s+(?=(?:async\s+)?function[\s*]|class\s|const\s|let\s)/;
const OTHER_EXPORT = /^export\b/;

interface ParsedModule {
  /** Local modules this one imports, in order. */
  imports: string[];
  builtins: string[];
  /** The module's lines with its imports removed and `export` dropped. */
  body: string[];
}

function parseModule(name: string, source: string): ParsedModule {
  const parsed: ParsedModule = { imports: [], builtins: [], body: [] };
  source.split('\n').forEach((line, index) => {
    const where = `${name}:${index + 1}`;
    const named = LOCAL_NAMED.exec(line);
    const bare = LOCAL_BARE.exec(line);
    if (named) {
      if (/\sas\s/.test(named[1]!)) throw new Error(`${where}: renaming an import (as) cannot survive the join`);
      parsed.imports.push(named[2]!);
    } else if (bare) {
      parsed.imports.push(bare[1]!);
    } else if (BUILTIN.test(line)) {
      parsed.builtins.push(line.trim());
    } else if (OTHER_IMPORT.test(line)) {
      throw new Error(`${where}: unsupported import (one line, ./name.mjs or node:, named or bare): ${line}`);
    } else if (EXPORTED_DECLARATION.test(line)) {
      parsed.body.push(line.replace(EXPORTED_DECLARATION, ''));
    } else if (OTHER_EXPORT.test(line)) {
      throw new Error(`${where}: unsupported export (only export function/class/const/let): ${line}`);
    } else {
      parsed.body.push(line);
    }
  });
  return parsed;
}

/**
 * `entry` and every module it imports, from `sources` (file name → text),
 * joined into one module's text. Throws on a module missing from `sources`,
 * a cycle, or a line outside the rules above.
 */
export function joinEsModules(sources: ReadonlyMap<string, string>, entry: string): string {
  const parsed = new Map<string, ParsedModule>();
  const order: string[] = [];
  const open: string[] = [];
  const visit = (name: string, from: string) => {
    if (order.includes(name)) return;
    if (open.includes(name)) throw new Error(`import cycle: ${[...open.slice(open.indexOf(name)), name].join(' -> ')}`);
    const source = sources.get(name);
    if (source === undefined) throw new Error(`${from} imports ${name}, which is not among the modules`);
    const module = parseModule(name, source);
    parsed.set(name, module);
    open.push(name);
    for (const dependency of module.imports) visit(dependency, name);
    open.pop();
    order.push(name);
  };
  visit(entry, 'the entry');
  const builtins = [...new Set(order.flatMap((name) => parsed.get(name)!.builtins))];
  const sections = order.map((name) => `// ---- ${name} ----\n${parsed.get(name)!.body.join('\n').trim()}\n`);
  return [
    `// Generated from ${order.join(', ')} by runtime-images/join-es-modules.ts: edit those, not this.`,
    ...builtins,
    '',
    sections.join('\n'),
  ].join('\n');
}
