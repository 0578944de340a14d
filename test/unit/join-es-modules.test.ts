import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { joinEsModules } from '../../runtime-images/join-es-modules.ts';

const modules = (entries: Record<string, string>) => new Map(Object.entries(entries));

/** Runs a joined module with node and returns what it printed. */
function runJoined(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'hearth-join-'));
  try {
    writeFileSync(join(dir, 'main.mjs'), text);
    return execFileSync(process.execPath, [join(dir, 'main.mjs')], { encoding: 'utf8' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('joining ES modules into one', () => {
  it('runs top-level code in the order the modules would evaluate: dependencies first, depth first, in import order', () => {
    const joined = joinEsModules(
      modules({
        'main.mjs': "import { a } from './a.mjs';\nimport { b } from './b.mjs';\nconsole.log('main', a, b);\n",
        'a.mjs': "import { shared } from './shared.mjs';\nconsole.log('a');\nexport const a = shared + 1;\n",
        'b.mjs': "import { shared } from './shared.mjs';\nimport './a.mjs';\nconsole.log('b');\nexport function b() {}\n",
        'shared.mjs': "console.log('shared');\nexport const shared = 1;\n",
        'unused.mjs': 'this is not JavaScript',
      }),
      'main.mjs',
    );
    expect(runJoined(joined)).toBe('shared\na\nb\nmain 2 [Function: b]\n');
    expect(joined).not.toContain('unused');
  });

  it('keeps each built-in import once, at the top', () => {
    const joined = joinEsModules(
      modules({
        'main.mjs': "import { connect } from 'node:net';\nimport { f } from './f.mjs';\nconsole.log(typeof connect, f());\n",
        'f.mjs': "import { connect } from 'node:net';\nimport { sep as separator } from 'node:path';\nexport const f = () => separator + typeof connect;\n",
      }),
      'main.mjs',
    );
    expect(joined.match(/from 'node:net'/g)).toHaveLength(1);
    expect(joined.indexOf("from 'node:path'")).toBeLessThan(joined.indexOf('// ---- f.mjs'));
    expect(runJoined(joined)).toBe('function /function\n');
  });

  it('refuses what it cannot join faithfully, naming the file and line', () => {
    const refuse = (source: string) => () => joinEsModules(modules({ 'main.mjs': "import { x } from './x.mjs';\n", 'x.mjs': source }), 'main.mjs');
    expect(refuse("import { y as x } from './y.mjs';\n")).toThrow(/x\.mjs:1: renaming an import/);
    expect(refuse("import * as y from './y.mjs';\n")).toThrow(/x\.mjs:1: unsupported import/);
    expect(refuse("import {\n  y,\n} from './y.mjs';\n")).toThrow(/x\.mjs:1: unsupported import/);
    expect(refuse("import y from 'some-package';\n")).toThrow(/unsupported import/);
    expect(refuse('export default 1;\n')).toThrow(/x\.mjs:1: unsupported export/);
    expect(refuse('const x = 1;\nexport { x };\n')).toThrow(/x\.mjs:2: unsupported export/);
    expect(refuse("import { y } from './y.mjs';\n")).toThrow(/x\.mjs imports y\.mjs, which is not among the modules/);
  });

  it('refuses an import cycle', () => {
    const cyclic = modules({
      'main.mjs': "import { a } from './a.mjs';\n",
      'a.mjs': "import { b } from './b.mjs';\nexport const a = 1;\n",
      'b.mjs': "import { a } from './a.mjs';\nexport const b = 2;\n",
    });
    expect(() => joinEsModules(cyclic, 'main.mjs')).toThrow('import cycle: a.mjs -> b.mjs -> a.mjs');
  });

  it('joins the Node agent into a module that parses', () => {
    const dir = fileURLToPath(new URL('../../runtime-images/nodejs20/agent/', import.meta.url));
    const sources = new Map(readdirSync(dir).filter((n) => n.endsWith('.mjs')).map((n) => [n, readFileSync(join(dir, n), 'utf8')]));
    const joined = joinEsModules(sources, 'bootstrap.mjs');
    for (const name of sources.keys()) expect(joined).toContain(`// ---- ${name} ----`);
    expect(joined.trimEnd().endsWith('start(Date.now());')).toBe(true);
    const scratch = mkdtempSync(join(tmpdir(), 'hearth-join-'));
    try {
      writeFileSync(join(scratch, 'bootstrap.mjs'), joined);
      execFileSync(process.execPath, ['--check', join(scratch, 'bootstrap.mjs')]);
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  });
});
