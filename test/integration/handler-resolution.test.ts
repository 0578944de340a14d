/**
 * Handler strings resolve in the real runtime images exactly as Lambda's own
 * runtimes resolve them (aws-lambda-nodejs-runtime-interface-client's
 * UserFunction.js, awslambdaric's bootstrap._get_handler): one table per
 * runtime of handlers as Lambda users write them, the files beside them, and
 * what init (then one invocation) gives: a result, or the error type and
 * message Lambda reports. Each case is one container, started the way the
 * worker starts it (test/helpers/agent-harness.ts).
 */
import { describe, expect, it } from 'vitest';
import { agentCases } from '../helpers/agent-cases.ts';
import type { CodeFiles } from '../helpers/agent-harness.ts';

const { deploy } = agentCases();

/** `result`: init succeeds and one invocation returns it. `type`: init fails so. `invokeType`: init succeeds, the invocation fails so. */
type Expected = { result: unknown } | { type: string; message?: RegExp } | { invokeType: string; message?: RegExp };
type Case = [what: string, handler: string, files: CodeFiles, expected: Expected];

async function check(runtime: 'nodejs20' | 'python3', handler: string, files: CodeFiles, expected: Expected) {
  const { session, initResult } = await deploy(runtime, files, { handler });
  if ('type' in expected) {
    expect(initResult, JSON.stringify(initResult)).toMatchObject({ ok: false, error: { type: expected.type } });
    if (expected.message) expect(initResult.error?.message).toMatch(expected.message);
    return;
  }
  expect(initResult, JSON.stringify(initResult.error)).toMatchObject({ ok: true });
  const reply = await session.invoke({ n: 1 });
  if ('result' in expected) {
    expect(reply, JSON.stringify(reply.error)).toMatchObject({ ok: true, result: expected.result });
  } else {
    expect(reply).toMatchObject({ ok: false, error: { type: expected.invokeType } });
    if (expected.message) expect(reply.error?.message).toMatch(expected.message);
  }
}

const cjs = (value: string) => `exports.handler = async () => ${JSON.stringify(value)};\n`;
const esm = (value: string) => `export const handler = async () => ${JSON.stringify(value)};\n`;
const NESTED = `module.exports.nested = { somethingComplex: { handler: async () => 'something interesting' } };\n`;
const TYPE_MODULE = JSON.stringify({ name: 'fn', type: 'module' });

const NODE_CASES: Case[] = [
  ['a CommonJS .js file', 'index.handler', { 'index.js': cjs('cjs') }, { result: 'cjs' }],
  ['a nested property path', 'nestedHandler.nested.somethingComplex.handler', { 'nestedHandler.js': NESTED }, { result: 'something interesting' }],
  ['a nested property path under a directory', 'handlers/nestedHandler.nested.somethingComplex.handler', { 'handlers/nestedHandler.js': NESTED }, { result: 'something interesting' }],
  ['an absolute path', '/var/task/src/app.handler', { 'src/app.js': cjs('absolute') }, { result: 'absolute' }],
  ['a ./ path', './src/app.handler', { 'src/app.js': cjs('dot-slash') }, { result: 'dot-slash' }],
  ['an .mjs file', 'esModule.handler', { 'esModule.mjs': esm('mjs') }, { result: 'mjs' }],
  ['a .cjs file', 'cjsModule.handler', { 'cjsModule.cjs': cjs('cjs') }, { result: 'cjs' }],
  ['an extensionless file, loaded as CommonJS', 'index.handler', { index: cjs('extensionless') }, { result: 'extensionless' }],
  ['an extensionless file under "type": "module", still CommonJS', 'cjs.handler', { 'package.json': TYPE_MODULE, cjs: cjs('extensionless') }, { result: 'extensionless' }],
  [
    'the extensionless file first, then .js, .mjs, .cjs',
    'precedence.handler',
    { precedence: cjs('none'), 'precedence.js': cjs('js'), 'precedence.mjs': esm('mjs'), 'precedence.cjs': cjs('cjs') },
    { result: 'none' },
  ],
  ['.js before .mjs', 'p.handler', { 'p.js': cjs('js'), 'p.mjs': esm('mjs') }, { result: 'js' }],
  ['.mjs before .cjs', 'p.handler', { 'p.mjs': esm('mjs'), 'p.cjs': cjs('cjs') }, { result: 'mjs' }],
  [
    '.js as an ES module under "type": "module", with top-level await',
    'index.handler',
    { 'package.json': TYPE_MODULE, 'index.js': `const v = await new Promise((r) => setTimeout(() => r('awaited'), 50));\nexport const handler = async () => v;\n` },
    { result: 'awaited' },
  ],
  ['top-level await in an .mjs file', 'index.handler', { 'index.mjs': `const v = await Promise.resolve('tla');\nexport const handler = async () => v;\n` }, { result: 'tla' }],
  ['"type": "module" from a package.json above the file', 'nested/even/more/index.handler', { 'package.json': TYPE_MODULE, 'nested/even/more/index.js': esm('deep esm') }, { result: 'deep esm' }],
  [
    'the nearest package.json wins, even one without "type"',
    'nested/index.handler',
    { 'package.json': TYPE_MODULE, 'nested/package.json': '{}', 'nested/index.js': cjs('nearest says commonjs') },
    { result: 'nearest says commonjs' },
  ],
  [
    'the package.json search stopping at node_modules',
    'node_modules/index.handler',
    { 'package.json': TYPE_MODULE, 'node_modules/index.js': cjs('commonjs below node_modules') },
    { result: 'commonjs below node_modules' },
  ],
  ['a package.json "type" other than module, CommonJS', 'index.handler', { 'package.json': '{"type":"Ceci n’est pas un module"}', 'index.js': cjs('cjs') }, { result: 'cjs' }],
  // The RIC warns and goes on as CommonJS, then Node's own require reads the package.json and fails.
  ['a package.json that is not JSON', 'index.handler', { 'package.json': '{not json', 'index.js': cjs('x') }, { type: 'Runtime.UserCodeSyntaxError', message: /^SyntaxError: Error parsing \/var\/task\/package\.json/ }],
  ['ES module syntax in a .js file without "type" (Node 20.19+ detects it)', 'index.handler', { 'index.js': esm('detected') }, { result: 'detected' }],
  ['a CommonJS default export', 'defaultHandler.default', { 'defaultHandler.js': 'module.exports = { default: () => 42 };\n' }, { result: 42 }],
  ['an ES default export', 'defaultHandlerESM.default', { 'defaultHandlerESM.mjs': 'export default () => 42;\n' }, { result: 42 }],
  ['a property of the default export (Lambda RIC 4)', 'index.handler', { 'index.mjs': 'export default { handler: async () => "in default" };\n' }, { result: 'in default' }],
  ['a directory with index.js', 'lib.handler', { 'lib/index.js': cjs('dir index') }, { result: 'dir index' }],
  ['a directory with a package.json main', 'app.handler', { 'app/package.json': '{"main":"dist/main.js"}', 'app/dist/main.js': cjs('main') }, { result: 'main' }],
  ['the code root itself as the module', '.handler', { 'index.js': cjs('root index') }, { result: 'root index' }],
  ['a package in node_modules', 'my-handler-pkg.handler', { 'node_modules/my-handler-pkg/index.js': cjs('from node_modules') }, { result: 'from node_modules' }],
  [
    'a method of an exported class instance (inherited)',
    'index.handle',
    { 'index.js': 'class Service { async handle(e) { return "method " + e.n; } }\nmodule.exports = new Service();\n' },
    { result: 'method 1' },
  ],
  ['ES module importing CommonJS', 'esmImportCjs.handler', { 'esmImportCjs.mjs': `import m from './lib.cjs';\nexport const handler = async () => m.msg;\n`, 'lib.cjs': 'module.exports = { msg: "from cjs" };\n' }, { result: 'from cjs' }],

  ['.. in the handler', 'malformed..handler', { 'index.js': cjs('x') }, { type: 'Runtime.MalformedHandlerName', message: /^'malformed\.\.handler' is not a valid handler name\. Use absolute paths when specifying root directories in handler names\.$/ }],
  ['no dot', 'malformedHandler', { 'index.js': cjs('x') }, { type: 'Runtime.MalformedHandlerName', message: /^Bad handler$/ }],
  ['a missing module', 'noModule.echo', { 'index.js': cjs('x') }, { type: 'Runtime.ImportModuleError', message: /^Error: Cannot find module 'noModule'\nRequire stack:/ }],
  ['a missing CommonJS dependency', 'index.handler', { 'index.js': `require('aws-sdk');\n${cjs('x')}` }, { type: 'Runtime.ImportModuleError', message: /^Error: Cannot find module 'aws-sdk'\nRequire stack:\n- \/var\/task\/index\.js/ }],
  ['a missing ES module dependency (Lambda reports it as Error)', 'index.handler', { 'index.mjs': `import AWS from 'aws-sdk';\n${esm('x')}` }, { type: 'Error', message: /^Cannot find package 'aws-sdk' imported from \/var\/task\/index\.mjs/ }],
  ['a missing nested handler', 'nestedHandler.nested.somethingComplex.nonHandler', { 'nestedHandler.js': NESTED }, { type: 'Runtime.HandlerNotFound', message: /^nestedHandler\.nested\.somethingComplex\.nonHandler is undefined or not exported$/ }],
  ['a handler that is not a function', 'core.noFunctionHandler', { 'core.js': 'exports.noFunctionHandler = "not a function";\n' }, { type: 'Runtime.HandlerNotFound', message: /^core\.noFunctionHandler is not a function$/ }],
  ['a name only the language supplies', 'index.toString', { 'index.js': cjs('x') }, { type: 'Runtime.HandlerNotFound', message: /is undefined or not exported/ }],
  ['a syntax error', 'index.handler', { 'index.js': 'exports.handler = async () => {\n' }, { type: 'Runtime.UserCodeSyntaxError', message: /^SyntaxError: / }],
  ['ES syntax in a .js file under "type": "commonjs"', 'esmModule.handler', { 'package.json': '{"type":"commonjs"}', 'esmModule.js': esm('x') }, { type: 'Runtime.UserCodeSyntaxError', message: /^SyntaxError: Unexpected token 'export'/ }],
  ['CommonJS in a .js file under "type": "module"', 'cjsModule.handler', { 'package.json': TYPE_MODULE, 'cjsModule.js': cjs('x') }, { type: 'ReferenceError', message: /exports is not defined in ES module scope/ }],
  ['CommonJS in an .mjs file', 'cjsInMjs.handler', { 'cjsInMjs.mjs': 'module.exports.handler = async () => 1;\n' }, { type: 'ReferenceError', message: /module is not defined in ES module scope/ }],
  ['require in an .mjs file', 'esmRequireCjs.handler', { 'esmRequireCjs.mjs': `const x = require('./x.cjs');\n${esm('x')}`, 'x.cjs': '' }, { type: 'ReferenceError', message: /require is not defined in ES module scope/ }],
  ['ES syntax in a .cjs file', 'esmInCjs.handler', { 'esmInCjs.cjs': esm('x') }, { type: 'Runtime.UserCodeSyntaxError', message: /^SyntaxError: / }],
  ['a static import in a .cjs file', 'cjsImportESM.handler', { 'cjsImportESM.cjs': `import { x } from './x.mjs';\n${cjs('x')}`, 'x.mjs': 'export const x = 1;\n' }, { type: 'Runtime.UserCodeSyntaxError', message: /^SyntaxError: Cannot use import statement outside a module/ }],
  ['a module that throws', 'index.handler', { 'index.mjs': `throw new Error('config missing');\n` }, { type: 'Error', message: /^config missing$/ }],
  [
    'a rejection during top-level await, with its own class name',
    'asyncInitRejection.handler',
    { 'asyncInitRejection.mjs': `class AsyncInitRejectionException extends Error { constructor(m) { super(m); this.name = this.constructor.name; } }\nawait Promise.reject(new AsyncInitRejectionException('Oh noes! something bad happened'));\n${esm('x')}` },
    { type: 'AsyncInitRejectionException', message: /^Oh noes! something bad happened$/ },
  ],
  ['a directory without anything to load', 'lib.handler', { 'lib/readme.txt': 'nothing\n', 'index.js': cjs('x') }, { type: 'Runtime.ImportModuleError', message: /^Error: Cannot find module '\/var\/task\/lib'/ }],
];

const PY_HANDLER = (value: string) => `def handler(event, context):\n    return ${JSON.stringify(value)}\n`;

const PYTHON_CASES: Case[] = [
  ['a module', 'main.handler', { 'main.py': PY_HANDLER('main') }, { result: 'main' }],
  ['a module under a path', 'dir/sub/module.function', { 'dir/sub/module.py': 'def function(e, c):\n    return "path"\n' }, { result: 'path' }],
  ['a dotted package path', 'pkg.sub.module.function', { 'pkg/__init__.py': '', 'pkg/sub/__init__.py': '', 'pkg/sub/module.py': 'def function(e, c):\n    return "dotted"\n' }, { result: 'dotted' }],
  ['a dotted path through namespace packages', 'pkg.sub.module.function', { 'pkg/sub/module.py': 'def function(e, c):\n    return "namespace"\n' }, { result: 'namespace' }],
  ['a package __init__', 'pkg.handler', { 'pkg/__init__.py': PY_HANDLER('init') }, { result: 'init' }],
  ['a built-in module name under a path', 'lib/sys.handler', { 'lib/sys.py': PY_HANDLER('not the built-in') }, { result: 'not the built-in' }],
  ['a module __getattr__', 'lazy.handler', { 'lazy.py': 'def __getattr__(name):\n    if name == "handler":\n        return lambda e, c: "lazy"\n    raise AttributeError(name)\n' }, { result: 'lazy' }],
  ['a function imported into the module', 'main.handler', { 'main.py': 'from helpers import handler\n', 'helpers.py': PY_HANDLER('imported') }, { result: 'imported' }],

  ['no dot', 'main', { 'main.py': PY_HANDLER('x') }, { type: 'Runtime.MalformedHandlerName', message: /^Bad handler 'main': not enough values to unpack \(expected 2, got 1\)$/ }],
  ['a built-in module', 'sys.handler', { 'sys.py': PY_HANDLER('x') }, { type: 'Runtime.BuiltInModuleConflict', message: /^Cannot use built-in module sys as a handler module$/ }],
  ['a built-in module as a package', 'time.sub.handler', { 'time/sub.py': PY_HANDLER('x') }, { type: 'Runtime.BuiltInModuleConflict', message: /^Cannot use built-in module time\.sub as a handler module$/ }],
  ['a missing module', 'nope.handler', { 'main.py': PY_HANDLER('x') }, { type: 'Runtime.ImportModuleError', message: /^Unable to import module 'nope': No module named 'nope'$/ }],
  ['a missing module under a path', 'dir/nope.handler', { 'main.py': PY_HANDLER('x') }, { type: 'Runtime.ImportModuleError', message: /^Unable to import module 'dir\/nope': No module named 'dir'$/ }],
  ['a failing import in the module', 'main.handler', { 'main.py': `import not_installed\n${PY_HANDLER('x')}` }, { type: 'Runtime.ImportModuleError', message: /^Unable to import module 'main': No module named 'not_installed'$/ }],
  ['a failing from-import in the module', 'main.handler', { 'main.py': `from os import nothing_here\n${PY_HANDLER('x')}` }, { type: 'Runtime.ImportModuleError', message: /^Unable to import module 'main': cannot import name 'nothing_here' from 'os'/ }],
  ['a syntax error', 'main.handler', { 'main.py': 'def handler(e, c)\n    return 1\n' }, { type: 'Runtime.UserCodeSyntaxError', message: /^Syntax error in module 'main': expected ':' \(main\.py, line 1\)$/ }],
  ['an indentation error', 'main.handler', { 'main.py': 'def handler(e, c):\nreturn 1\n' }, { type: 'Runtime.UserCodeSyntaxError', message: /^Syntax error in module 'main': expected an indented block/ }],
  ['a missing function', 'main.handler', { 'main.py': 'def other(e, c):\n    return 1\n' }, { type: 'Runtime.HandlerNotFound', message: /^Handler 'handler' missing on module 'main'$/ }],
  ['a missing function in a dotted package', 'pkg.app.handler', { 'pkg/app.py': 'x = 1\n' }, { type: 'Runtime.HandlerNotFound', message: /^Handler 'handler' missing on module 'pkg\.app'$/ }],
  ['a module that raises', 'main.handler', { 'main.py': 'raise ValueError("config missing")\n' }, { type: 'ValueError', message: /^config missing$/ }],
  ['a value that is not callable (Lambda fails each invocation)', 'main.handler', { 'main.py': 'handler = 42\n' }, { invokeType: 'TypeError', message: /^'int' object is not callable$/ }],
  ['None as the handler', 'main.handler', { 'main.py': 'handler = None\n' }, { invokeType: 'TypeError', message: /^'NoneType' object is not callable$/ }],
];

describe('nodejs20 handler resolution, as Lambda’s Node runtime', () => {
  it.each(NODE_CASES)('%s: %s', async (_what, handler, files, expected) => {
    await check('nodejs20', handler, files, expected);
  });

  it('warns, as Lambda does, about a package.json it cannot read as JSON', async () => {
    const { initResult } = await deploy('nodejs20', { 'package.json': '{not json', 'index.js': cjs('x') }, { handler: 'index.handler' });
    expect(initResult.logs).toContain('/var/task/package.json cannot be read, it will be ignored for ES module detection purposes.');
  });
});

describe('python3 handler resolution, as awslambdaric', () => {
  it.each(PYTHON_CASES)('%s: %s', async (_what, handler, files, expected) => {
    await check('python3', handler, files, expected);
  });
});
