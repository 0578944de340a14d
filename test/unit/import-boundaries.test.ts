/**
 * The layout's promises, checked on every run: the gateway reaches into
 * worker/ only through its contract and its shared utilities, the contract
 * depends on nothing else, the worker never imports the gateway, infra or
 * tests, each third-party adapter has one home, and no imports go round in
 * a cycle. Read from the source text (import and export-from statements,
 * dynamic imports), so it needs nothing built.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '..', '..');
const SOURCE_DIRS = ['gateway', 'worker', 'infra', 'migrations', 'runtime-images'];

function sourceFiles(dir: string, pattern = /\.(ts|mts)$/): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== 'node_modules' && entry.name !== 'results') out.push(...sourceFiles(path, pattern));
    } else if (pattern.test(entry.name) && !entry.name.endsWith('.d.ts')) {
      out.push(path);
    }
  }
  return out;
}

const SPECIFIER = /(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|(?:^|\n)\s*import\s*['"]([^'"]+)['"]/g;

interface Imports {
  /** Repository-relative paths of the local files imported. */
  local: string[];
  /** Package names imported (first path segment, or scope/name). */
  packages: string[];
}

function importsOf(file: string): Imports {
  const text = readFileSync(join(ROOT, file), 'utf8');
  const local: string[] = [];
  const packages: string[] = [];
  for (const match of text.matchAll(SPECIFIER)) {
    const spec = match[1] ?? match[2] ?? match[3]!;
    if (spec.startsWith('.')) local.push(relative(ROOT, resolve(ROOT, dirname(file), spec)));
    else if (!spec.startsWith('node:')) packages.push(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!);
  }
  return { local, packages };
}

const files = SOURCE_DIRS.flatMap((dir) => sourceFiles(dir));
const graph = new Map(files.map((file) => [file, importsOf(file)]));

/** Every (file, imported file) pair where `from` matches and `to` does not satisfy `allowed`. */
function violations(from: (file: string) => boolean, allowed: (target: string) => boolean): string[] {
  const found: string[] = [];
  for (const [file, { local }] of graph) {
    if (!from(file)) continue;
    for (const target of local) if (!allowed(target)) found.push(`${file} -> ${target}`);
  }
  return found;
}

const under = (folder: string) => (path: string) => path.startsWith(`${folder}/`);

describe('import boundaries', () => {
  it('finds the source files it checks', () => {
    expect(files.length).toBeGreaterThan(100);
    expect(files).toContain('worker/contract/invocation-job.ts');
  });

  it('the gateway imports from worker/ only its contract and shared utilities', () => {
    const bad = violations(under('gateway'), (t) => !under('worker')(t) || under('worker/contract')(t) || under('worker/common')(t));
    expect(bad).toEqual([]);
  });

  it('the contract imports nothing but itself and the runtime catalogue', () => {
    const bad = violations(under('worker/contract'), (t) => under('worker/contract')(t) || t === 'runtime-images/runtimes.ts');
    expect(bad).toEqual([]);
    const packages = [...graph].filter(([f]) => under('worker/contract')(f)).flatMap(([, i]) => i.packages);
    expect(new Set(packages)).toEqual(new Set(['zod']));
  });

  it('shared utilities import only the contract, each other and the schema', () => {
    const bad = violations(
      under('worker/common'),
      (t) => under('worker/common')(t) || under('worker/contract')(t) || t === 'migrations/schema.ts' || t === 'runtime-images/runtimes.ts',
    );
    expect(bad).toEqual([]);
  });

  it('the worker never imports the gateway, infra or the tests', () => {
    const bad = violations(under('worker'), (t) => !under('gateway')(t) && !under('infra')(t) && !under('test')(t));
    expect(bad).toEqual([]);
  });

  it('each third-party adapter has one home', () => {
    const importers = (pkg: string) => [...graph].filter(([, i]) => i.packages.includes(pkg)).map(([f]) => f).sort();
    expect(importers('bullmq')).toHaveLength(1);
    // Docker: the engine adapter, and the composition root that creates the client it takes.
    expect(importers('dockerode').filter((f) => under('worker')(f) && !under('worker/engine')(f))).toEqual(['worker/main.ts']);
    // Postgres: repositories only (a store folder, a *-store.ts file, the records, the client itself).
    expect(importers('drizzle-orm').filter((f) => !/\/(store|records)\/|-store\.ts$|^worker\/common\/database\.ts$|^migrations\//.test(f))).toEqual([]);
  });

  it('has no import cycles', () => {
    const cycles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const stack: string[] = [];
    const visit = (file: string) => {
      state.set(file, 'open');
      stack.push(file);
      for (const next of graph.get(file)?.local ?? []) {
        if (!graph.has(next)) continue;
        if (state.get(next) === 'open') cycles.push([...stack.slice(stack.indexOf(next)), next].join(' -> '));
        else if (!state.has(next)) visit(next);
      }
      stack.pop();
      state.set(file, 'done');
    };
    for (const file of files) if (!state.has(file)) visit(file);
    expect(cycles).toEqual([]);
  });

  it('no source file, test or agent is over 400 lines', () => {
    const long = [...SOURCE_DIRS, 'test']
      .flatMap((dir) => sourceFiles(dir, /\.(ts|mts|mjs|cjs|py)$/))
      .map((f) => [f, readFileSync(join(ROOT, f), 'utf8').split('\n').length] as const)
      .filter(([, lines]) => lines > 400)
      .map(([f, lines]) => `${f}: ${lines}`);
    expect(long).toEqual([]);
  });
});
