/**
 * Deploy-time handler rules (gateway/deploy/handler-rules.ts) against handlers
 * as Lambda users write them: what Lambda's runtimes would load must pass
 * (extensionless files, nested property paths, directories, node_modules
 * packages, dotted Python packages, absolute paths), and only what can never
 * load is refused, naming the Runtime.* type the init would report.
 */
import { describe, expect, it } from 'vitest';
import { guessHandler } from '../../gateway/cli/deploy-source.ts';
import { assertHandlerFileExists, handlerProblems, splitNodeHandler } from '../../gateway/deploy/handler-rules.ts';
import { HearthError } from '../../gateway/errors.ts';
import type { RuntimeName } from '../../runtime-images/runtimes.ts';

function refusal(run: () => void): HearthError | undefined {
  try {
    run();
    return undefined;
  } catch (err) {
    if (err instanceof HearthError) return err;
    throw err;
  }
}

describe('handler syntax', () => {
  it.each<[RuntimeName, string]>([
    ['nodejs20', 'index.handler'],
    ['nodejs20', 'nestedHandler.nested.somethingComplex.handler'],
    ['nodejs20', 'handlers/nestedHandler.nested.somethingComplex.handler'],
    ['nodejs20', 'src/app.main'],
    ['nodejs20', './src/app.main'],
    ['nodejs20', '/var/task/src/app.main'],
    ['nodejs20', '/opt/nodejs/node_modules/wrapper/handler.handler'],
    ['nodejs20', 'index.default'],
    ['nodejs20', 'index.1fn'],
    ['nodejs20', 'index.'],
    ['nodejs20', '.handler'],
    ['nodejs20', 'my-handler.handler'],
    ['nodejs20', 'café.handler'],
    ['nodejs20', 'index.call'],
    ['nodejs20', 'constructor.handler'],
    ['python3', 'main.handler'],
    ['python3', 'pkg.sub.module.function'],
    ['python3', 'dir/sub/module.function'],
    ['python3', 'lib/sys.handler'],
    ['python3', 'math.handler'],
    ['python3', 'main.Handler'],
    ['python3', 'main.__x'],
  ])('%s accepts %s', (runtime, handler) => {
    expect(handlerProblems(runtime, handler)).toEqual([]);
  });

  it.each<[RuntimeName, string, RegExp]>([
    ['nodejs20', 'index', /^Runtime\.MalformedHandlerName: Bad handler 'index'/],
    ['nodejs20', 'src.app/index', /^Runtime\.MalformedHandlerName: Bad handler/],
    ['nodejs20', '../x.handler', /^Runtime\.MalformedHandlerName: '\.\.\/x\.handler' is not a valid handler name\. Use absolute paths/],
    ['nodejs20', 'malformed..handler', /^Runtime\.MalformedHandlerName: /],
    ['nodejs20', 'index.constructor', /Runtime\.HandlerNotFound/],
    ['nodejs20', 'index.__proto__', /cannot be constructor/],
    ['nodejs20', 'index handler', /without spaces/],
    ['nodejs20', 'x'.repeat(127) + '.h', /1-128 characters/],
    ['nodejs20', '', /1-128 characters/],
    ['nodejs20', 'a\u0000.b', /control characters/],
    ['python3', 'main', /^Runtime\.MalformedHandlerName: Bad handler 'main'/],
    ['python3', 'sys.handler', /^Runtime\.BuiltInModuleConflict: Cannot use built-in module sys as a handler module$/],
    ['python3', 'time.sub.handler', /^Runtime\.BuiltInModuleConflict: Cannot use built-in module time\.sub as a handler module$/],
    ['python3', 'builtins.handler', /BuiltInModuleConflict/],
    ['python3', 'main.__class__', /cannot be constructor/],
  ])('%s refuses %j', (runtime, handler, problem) => {
    const problems = handlerProblems(runtime, handler);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(problem);
  });

  it('splits a Node handler as the RIC does: the module up to the first dot after the last slash', () => {
    expect(splitNodeHandler('dir/sub/module.a.b.c')).toEqual({ moduleRoot: 'dir/sub/', moduleName: 'module', propertyPath: 'a.b.c' });
    expect(splitNodeHandler('v1.2/app.handler')).toEqual({ moduleRoot: 'v1.2/', moduleName: 'app', propertyPath: 'handler' });
    expect(splitNodeHandler('index.')).toEqual({ moduleRoot: '', moduleName: 'index', propertyPath: '' });
    expect(splitNodeHandler('lib/index')).toBeUndefined();
  });
});

type FileCase = [RuntimeName, string, string[], string[]?];

describe('handler file check', () => {
  it.each<FileCase>([
    ['nodejs20', 'index.handler', ['index.js']],
    ['nodejs20', 'index.handler', ['index.mjs']],
    ['nodejs20', 'index.handler', ['index.cjs']],
    ['nodejs20', 'index.handler', ['index']],
    ['nodejs20', 'src/app.main', ['src/app.cjs']],
    ['nodejs20', './src/app.main', ['src/app.js']],
    ['nodejs20', '/var/task/src/app.main', ['src/app.js']],
    ['nodejs20', '/opt/layer/app.main', ['index.js']],
    ['nodejs20', 'nestedHandler.nested.somethingComplex.handler', ['nestedHandler.js']],
    ['nodejs20', 'handlers/nestedHandler.nested.handler', ['handlers/nestedHandler.js']],
    ['nodejs20', 'lib.handler', ['lib/index.js']],
    ['nodejs20', 'app.handler', ['app/package.json', 'app/dist/main.js']],
    ['nodejs20', '.handler', ['index.js']],
    ['nodejs20', 'my-lib.handler', ['index.js', 'node_modules/my-lib/index.js']],
    ['nodejs20', 'my-lib.handler', ['node_modules/my-lib.js']],
    ['nodejs20', 'src/my-lib.handler', ['node_modules/my-lib/package.json']],
    ['nodejs20', 'src/my-lib.handler', ['src/node_modules/my-lib/index.js']],
    ['nodejs20', 'fs.readFile', ['index.js']],
    ['nodejs20', 'index.handler', ['other.js'], ['index.js']],
    ['nodejs20', 'dist/index.handler', ['build/index.js'], ['dist']],
    ['python3', 'main.handler', ['main.py']],
    ['python3', 'pkg.handler', ['pkg/__init__.py']],
    ['python3', 'pkg.sub.module.function', ['pkg/__init__.py', 'pkg/sub/__init__.py', 'pkg/sub/module.py']],
    ['python3', 'pkg.sub.module.function', ['pkg/sub/module.py']],
    ['python3', 'dir/sub/module.function', ['dir/sub/module.py']],
    ['python3', 'dir/sub.module.function', ['dir/sub/module.py']],
    ['python3', 'lib/sys.handler', ['lib/sys.py']],
    ['python3', 'fast.handler', ['fast.cpython-311-x86_64-linux-gnu.so']],
    ['python3', 'compiled.handler', ['compiled.pyc']],
    ['python3', 'json.loads', ['main.py']],
    ['python3', 'main.handler', ['app.py'], ['main.py']],
  ])('%s %s loads from %j (symlinks %j)', (runtime, handler, files, symlinks) => {
    expect(refusal(() => assertHandlerFileExists(runtime, handler, files, symlinks))).toBeUndefined();
  });

  it.each<FileCase>([
    ['nodejs20', 'index.handler', ['app.js']],
    ['nodejs20', 'index.handler', ['index.json']],
    ['nodejs20', 'index.handler', ['index.ts']],
    ['nodejs20', 'src/app.main', ['app.js']],
    ['nodejs20', 'my-lib.handler', ['node_modules/other/index.js']],
    ['nodejs20', 'src/my-lib.handler', ['lib/node_modules/my-lib/index.js']],
    ['nodejs20', '/var/task/src/app.main', ['app.js']],
    ['python3', 'main.handler', ['app.py']],
    ['python3', 'pkg.sub.module.function', ['pkg/__init__.py', 'pkg/sub/__init__.py']],
    ['python3', 'pkg.handler', ['pkg.txt']],
    ['python3', 'dir/main.handler', ['main.py']],
    ['python3', '.handler', ['main.py']],
    ['python3', '/var/task/main.handler', ['main.py']],
  ])('%s %s is refused for %j', (runtime, handler, files, symlinks) => {
    const err = refusal(() => assertHandlerFileExists(runtime, handler, files, symlinks));
    expect(err?.code).toBe('HandlerNotFound');
    expect(err?.status).toBe(400);
    expect(err?.details).toEqual({ runtimeErrorType: 'Runtime.ImportModuleError' });
    expect(err?.message).toMatch(/^Runtime\.ImportModuleError: handler ".*" cannot load: the package has no /);
    expect(err?.message).toContain(files[0]);
  });

  it('names what it looked for', () => {
    expect(refusal(() => assertHandlerFileExists('nodejs20', 'src/app.main', ['x.js']))?.message).toContain(
      'src/app, src/app.js, src/app.mjs, src/app.cjs, no directory src/app/ and no package "app" in node_modules',
    );
    expect(refusal(() => assertHandlerFileExists('python3', 'pkg.sub.handler', ['x.py']))?.message).toContain('pkg/sub.py, pkg/sub/ (a package)');
  });

  it('leaves provided and java17 to their own checks', () => {
    expect(refusal(() => assertHandlerFileExists('provided', 'anything', ['x']))).toBeUndefined();
    expect(refusal(() => assertHandlerFileExists('java17', 'example.Handler', ['x']))).toBeUndefined();
  });
});

describe('the CLI guess of a handler', () => {
  it('guesses only handlers that name the file the runtime would load', () => {
    expect(guessHandler('nodejs20', ['app.js', 'package.json'], 'dist/app.js')).toBe('dist/app.handler');
    expect(guessHandler('nodejs20', ['app.js'])).toBe('app.handler');
    expect(guessHandler('nodejs20', ['index.js'])).toBeUndefined();
    // `app.v2.handler` would load module `app` with property path v2.handler.
    expect(guessHandler('nodejs20', ['app.v2.js'])).toBeUndefined();
    expect(guessHandler('nodejs20', ['x.js', 'y.js'], 'lib/main.v2.js')).toBeUndefined();
    expect(guessHandler('python3', ['app.py'])).toBe('app.handler');
    expect(guessHandler('python3', ['my.app.py'])).toBeUndefined();
  });
});
