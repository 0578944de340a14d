import { describe, expect, it } from 'vitest';
import { guessHandler, guessRuntime } from '../../gateway/cli/deploy-source.ts';

describe('hearth deploy guesses the runtime', () => {
  it.each([
    ['package.json', ['package.json', 'index.js'], 'nodejs20'],
    ['requirements.txt', ['requirements.txt', 'app.py'], 'python3'],
    ['pyproject.toml', ['pyproject.toml'], 'python3'],
    ['only .js files', ['a.js', 'b.mjs'], 'nodejs20'],
    ['only .py files', ['main.py'], 'python3'],
    ['a top-level bootstrap', ['bootstrap'], 'provided'],
    ['a bootstrap beside a package.json (Lambda runs the bootstrap)', ['bootstrap', 'package.json', 'index.js'], 'provided'],
    ['a top-level jar only', ['app.jar'], 'java17'],
    ['several top-level jars', ['app.jar', 'dep.jar', 'README.md'], 'java17'],
  ] as const)('from %s', (_what, topLevel, runtime) => {
    expect(guessRuntime(topLevel)).toBe(runtime);
  });

  it('from a lib/ of jars when nothing at the top is source', () => {
    expect(guessRuntime(['README.md'], undefined, ['README.md', 'lib/app.jar', 'lib/gson.jar'])).toBe('java17');
    expect(guessRuntime([], undefined, ['lib/app.jar', 'example/Handler.class'])).toBe('java17');
  });

  it('not from jars deeper than lib/, nor over top-level source of another runtime', () => {
    expect(guessRuntime([], undefined, ['vendor/lib/app.jar'])).toBeUndefined();
    expect(guessRuntime(['index.js'], undefined, ['index.js', 'lib/app.jar'])).toBe('nodejs20');
    expect(guessRuntime(['app.jar', 'main.py'])).toBeUndefined();
    expect(guessRuntime(['README.md'])).toBeUndefined();
  });

  it("by the handler's file first", () => {
    expect(guessRuntime(['index.js', 'main.py'], 'main.handler')).toBe('python3');
    expect(guessRuntime(['bootstrap', 'index.js'], 'index.handler')).toBe('nodejs20');
  });
});

describe('hearth deploy guesses no handler for provided or java17', () => {
  it('leaves their handler to the platform default (bootstrap, example.Handler::handleRequest) or --handler', () => {
    expect(guessHandler('provided', ['bootstrap', 'handler.sh'])).toBeUndefined();
    expect(guessHandler('java17', ['app.jar'])).toBeUndefined();
  });
});
