/**
 * Handlers as Lambda users write them, end to end on a real platform: the
 * ones Lambda loads deploy by HTTP upload and answer (extensionless files,
 * nested property paths, directories, node_modules packages, ES modules by
 * package.json, dotted Python packages, paths); the ones that fail at init
 * reach the caller with Lambda's Runtime.* type, on Hearth's API (502
 * FunctionError, the record) and on the Lambda API (200, X-Amz-Function-Error
 * Unhandled, errorType); the ones that can never load are refused at deploy
 * with the type named.
 */
import { CreateFunctionCommand, InvokeCommand } from '@aws-sdk/client-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { failureOf, json, lambdaClients, parsePayload } from '../helpers/lambda-sdk.ts';
import { deploy, invoke, uniqueName, zipOf, type Files } from '../helpers/packages.ts';
import { recordOf, startPlatform, type Platform } from '../helpers/platform.ts';

let platform: Platform;
const sdk = lambdaClients(() => platform.url);

beforeAll(async () => {
  platform = await startPlatform();
});
afterAll(async () => {
  sdk.destroyAll();
  await platform?.stop();
});

async function deployed(runtime: string, handler: string, files: Files): Promise<string> {
  const name = uniqueName('handler');
  const res = await deploy(platform, name, { bytes: await zipOf(files), filename: 'code.zip' }, { runtime, handler });
  expect(res.status, await res.clone().text()).toBe(201);
  return name;
}

const TYPE_MODULE = '{"type":"module"}';

describe('handlers Lambda loads deploy and answer', () => {
  it.each<[string, string, string, Files, unknown]>([
    ['an extensionless CommonJS file', 'nodejs20', 'index.handler', { index: 'exports.handler = async (e) => ({ extensionless: e.n });' }, { extensionless: 1 }],
    [
      'a nested property path',
      'nodejs20',
      'nestedHandler.nested.somethingComplex.handler',
      { 'nestedHandler.js': 'exports.nested = { somethingComplex: { handler: async () => "something interesting" } };' },
      'something interesting',
    ],
    ['a directory module', 'nodejs20', 'lib.handler', { 'lib/index.js': 'exports.handler = async () => "lib/index.js";' }, 'lib/index.js'],
    ['a node_modules package', 'nodejs20', 'fn-pkg.handler', { 'node_modules/fn-pkg/package.json': '{"main":"main.js"}', 'node_modules/fn-pkg/main.js': 'exports.handler = async () => "pkg";' }, 'pkg'],
    [
      'an ES module by package.json, top-level await',
      'nodejs20',
      'src/app.handlers.main',
      { 'package.json': TYPE_MODULE, 'src/app.js': 'const v = await Promise.resolve("tla");\nexport const handlers = { main: async () => v };' },
      'tla',
    ],
    ['an absolute path', 'nodejs20', '/var/task/src/app.handler', { 'src/app.mjs': 'export const handler = async () => "absolute";' }, 'absolute'],
    ['a dotted package', 'python3', 'pkg.sub.app.handler', { 'pkg/__init__.py': '', 'pkg/sub/app.py': 'def handler(e, c):\n    return "dotted"\n' }, 'dotted'],
    ['a module under a path', 'python3', 'dir/sub/app.handler', { 'dir/sub/app.py': 'def handler(e, c):\n    return "path"\n' }, 'path'],
    ['a built-in name under a path', 'python3', 'lib/sys.handler', { 'lib/sys.py': 'def handler(e, c):\n    return "lib/sys.py"\n' }, 'lib/sys.py'],
  ])('%s (%s %s)', async (_what, runtime, handler, files, expected) => {
    const name = await deployed(runtime, handler, files);
    const res = await invoke(platform, name, { n: 1 });
    expect(res.status, await res.clone().text()).toBe(200);
    expect(await res.json()).toEqual(expected);
  });
});

describe('init failures reach the caller with Lambda’s type', () => {
  it.each<[string, string, string, Files, string, RegExp]>([
    ['a missing export', 'nodejs20', 'index.handler', { 'index.js': 'exports.other = async () => 1;' }, 'Runtime.HandlerNotFound', /^index\.handler is undefined or not exported$/],
    ['a missing dependency', 'nodejs20', 'index.handler', { 'index.js': 'require("aws-sdk");' }, 'Runtime.ImportModuleError', /^Error: Cannot find module 'aws-sdk'/],
    ['a syntax error', 'nodejs20', 'index.handler', { 'index.js': 'exports.handler = async () => {' }, 'Runtime.UserCodeSyntaxError', /^SyntaxError: /],
    ['CommonJS under "type": "module"', 'nodejs20', 'index.handler', { 'package.json': TYPE_MODULE, 'index.js': 'exports.handler = async () => 1;' }, 'ReferenceError', /exports is not defined in ES module scope/],
    ['a failing import', 'python3', 'main.handler', { 'main.py': 'import not_installed\n' }, 'Runtime.ImportModuleError', /^Unable to import module 'main': No module named 'not_installed'$/],
    // math is compiled into Hearth's interpreter (on Lambda it is a shared module): refused at init, not at deploy.
    ['a module named after one of Hearth’s built-ins', 'python3', 'math.handler', { 'math.py': 'def handler(e, c):\n    return 1\n' }, 'Runtime.BuiltInModuleConflict', /^Cannot use built-in module math as a handler module$/],
  ])('Hearth API: %s is 502 FunctionError %s', async (_what, runtime, handler, files, type, message) => {
    const name = await deployed(runtime, handler, files);
    const res = await invoke(platform, name, {});
    expect(res.status).toBe(502);
    const { error } = await res.json();
    expect(error).toMatchObject({ code: 'FunctionError', type });
    expect(error.message).toMatch(message);
    const record = await recordOf(platform, res.headers.get('x-invocation-id'));
    expect(record).toMatchObject({ status: 'failed' });
    expect(JSON.stringify(record)).toContain(type);
  });

  it('Lambda API: a handler Lambda loads is created and invoked; an init failure is Unhandled with errorType', async () => {
    const lambda = sdk.clientWith('HEARTHDEFAULT', platform.apiKey);
    const create = (name: string, handler: string, files: Files) =>
      zipOf(files).then((ZipFile) =>
        lambda.send(new CreateFunctionCommand({ FunctionName: name, Runtime: 'nodejs20.x', Handler: handler, Role: 'arn:aws:iam::123456789012:role/x', Code: { ZipFile } })),
      );

    const nested = uniqueName('lambda-nested');
    await create(nested, 'handlers/app.routes.get', { 'handlers/app.js': 'exports.routes = { get: async (e) => ({ got: e.n }) };' });
    const ok = await lambda.send(new InvokeCommand({ FunctionName: nested, Payload: json({ n: 7 }) }));
    expect(ok.FunctionError).toBeUndefined();
    expect(parsePayload(ok.Payload)).toEqual({ got: 7 });

    const broken = uniqueName('lambda-initfail');
    await create(broken, 'index.handler', { 'index.js': 'exports.other = 1;' });
    const failed = await lambda.send(new InvokeCommand({ FunctionName: broken, Payload: json({}) }));
    expect(failed.StatusCode).toBe(200);
    expect(failed.FunctionError).toBe('Unhandled');
    expect(parsePayload(failed.Payload)).toMatchObject({ errorType: 'Runtime.HandlerNotFound', errorMessage: 'index.handler is undefined or not exported' });

    // Nothing in the package could ever load: refused at create, naming Lambda's type.
    const refused = await failureOf(create(uniqueName('lambda-nofile'), 'app.handler', { 'index.js': 'exports.handler = async () => 1;' }));
    expect(refused.name).toBe('InvalidParameterValueException');
    expect(refused.message).toMatch(/^Runtime\.ImportModuleError: handler "app\.handler" cannot load/);
  });
});

describe('what can never load is refused at deploy, naming the type', () => {
  it.each<[string, string, string, Files, string, string]>([
    ['.. in a Node handler', 'nodejs20', '../index.handler', { 'index.js': '' }, 'InvalidParameter', 'Runtime.MalformedHandlerName'],
    ['a Node handler without a dot', 'nodejs20', 'index', { 'index.js': '' }, 'InvalidParameter', 'Runtime.MalformedHandlerName'],
    ['a core built-in as the Python module', 'python3', 'sys.handler', { 'sys.py': '' }, 'InvalidParameter', 'Runtime.BuiltInModuleConflict'],
    ['no file for the Node module', 'nodejs20', 'app.handler', { 'index.js': '' }, 'HandlerNotFound', 'Runtime.ImportModuleError'],
    ['no file for the Python module', 'python3', 'pkg.app.handler', { 'pkg/other.py': '' }, 'HandlerNotFound', 'Runtime.ImportModuleError'],
  ])('%s: 400 %s naming %s', async (_what, runtime, handler, files, code, type) => {
    const res = await deploy(platform, uniqueName('refused'), { bytes: await zipOf(files), filename: 'code.zip' }, { runtime, handler });
    expect(res.status).toBe(400);
    const { error } = await res.json();
    expect(error.code).toBe(code);
    expect(error.message).toContain(type);
    if (code === 'HandlerNotFound') expect(error.runtimeErrorType).toBe(type);
  });
});
