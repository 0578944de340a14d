/**
 * The Lambda operations that change functions, signed, in memory: they go
 * through the same function service as the REST routes, so they store,
 * tombstone and announce as those do, and answer in Lambda's words.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { lambdaSigner } from '../helpers/sigv4-signer.ts';
import { zipOf } from '../helpers/code-fixtures.ts';
import { PLATFORM_KEY, createFakeGateway, type FakeGateway } from './fake-deps.ts';

let g: FakeGateway;
beforeEach(async () => {
  g = await createFakeGateway();
});

const HOST = 'gw.example';
const REGION = 'us-east-1';

/** Sends `path` signed as the SDK signs, with the platform key. */
async function signed(method: string, path: string, body = '') {
  const request = await lambdaSigner('HEARTHDEFAULT', PLATFORM_KEY, REGION).sign({
    method,
    protocol: 'http:',
    hostname: HOST,
    path,
    headers: { host: HOST, 'content-type': 'application/json', ...(body ? { 'content-length': String(Buffer.byteLength(body)) } : {}) },
    body,
  });
  return g.app.request(`http://${HOST}${path}`, { method, headers: request.headers as Record<string, string>, ...(body ? { body } : {}) });
}

const zipFile = async (text = 'exports.handler = async (e) => e;\n') => (await zipOf([{ path: 'index.js', data: text }])).toString('base64');

async function create(name: string, fields: Record<string, unknown> = {}) {
  const body = { FunctionName: name, Runtime: 'nodejs20.x', Handler: 'index.handler', Role: 'arn:aws:iam::000000000000:role/x', Code: { ZipFile: await zipFile() }, ...fields };
  return signed('POST', '/2015-03-31/functions', JSON.stringify(body));
}

async function expectLambdaError(res: Response, status: number, type: string): Promise<string> {
  const text = await res.text();
  expect(res.status, text.slice(0, 300)).toBe(status);
  expect(res.headers.get('x-amzn-errortype')).toBe(type);
  return (JSON.parse(text) as { message: string }).message;
}

describe('Lambda CreateFunction', () => {
  it('deploys version 1 and announces it; a second create of the name is a conflict', async () => {
    const res = await create('f', { MemorySize: 256 });
    expect(res.status).toBe(201);
    expect(await res.json()).toMatchObject({ FunctionName: 'f', MemorySize: 256, Version: '$LATEST' });
    expect((await g.functions.get('default', 'f'))?.latestVersion).toBe(1);
    expect(g.announced).toEqual([
      { type: 'function-changed', namespace: 'default', name: 'f', code: { sha256: expect.stringMatching(/^[0-9a-f]{64}$/), runtime: expect.any(String) } },
    ]);
    await expectLambdaError(await create('f'), 409, 'ResourceConflictException');
    expect((await g.functions.get('default', 'f'))?.latestVersion).toBe(1);
  });

  it('refuses a package without the handler\'s file, storing nothing', async () => {
    await expectLambdaError(await create('f', { Handler: 'main.handler' }), 400, 'InvalidParameterValueException');
    expect(await g.functions.get('default', 'f')).toBeNull();
    expect(g.announced).toEqual([]);
  });
});

describe('Lambda UpdateFunctionCode', () => {
  it('makes the next version with the same settings and new code', async () => {
    await create('f', { MemorySize: 512 });
    const before = (await g.functions.get('default', 'f'))!;
    const res = await signed('PUT', '/2015-03-31/functions/f/code', JSON.stringify({ ZipFile: await zipFile('exports.handler = async () => 2;\n') }));
    expect(res.status).toBe(200);
    const after = (await g.functions.get('default', 'f'))!;
    expect(after.latestVersion).toBe(2);
    expect(after.latest.memoryMb).toBe(512);
    expect(after.latest.codeSha256).not.toBe(before.latest.codeSha256);
    expect(g.announced).toHaveLength(2);
  });

  it('checks the code on a dry run and stores nothing', async () => {
    await create('f');
    const res = await signed('PUT', '/2015-03-31/functions/f/code', JSON.stringify({ ZipFile: await zipFile(), DryRun: true }));
    expect(res.status).toBe(200);
    expect((await g.functions.get('default', 'f'))?.latestVersion).toBe(1);
    expect(g.announced).toHaveLength(1);
    const missing = JSON.stringify({ ZipFile: (await zipOf([{ path: 'other.js', data: 'x' }])).toString('base64'), DryRun: true });
    await expectLambdaError(await signed('PUT', '/2015-03-31/functions/f/code', missing), 400, 'InvalidParameterValueException');
  });

  it('answers a missing function 404 ResourceNotFoundException naming its ARN', async () => {
    const message = await expectLambdaError(await signed('PUT', '/2015-03-31/functions/nope/code', JSON.stringify({ ZipFile: await zipFile() })), 404, 'ResourceNotFoundException');
    expect(message).toBe(`Function not found: arn:aws:lambda:${REGION}:000000000000:function:nope`);
  });
});

describe('Lambda UpdateFunctionConfiguration', () => {
  it('makes the next version with the new settings and the same code', async () => {
    await create('f');
    const before = (await g.functions.get('default', 'f'))!;
    const res = await signed('PUT', '/2015-03-31/functions/f/configuration', JSON.stringify({ Timeout: 9 }));
    expect(res.status).toBe(200);
    const after = (await g.functions.get('default', 'f'))!;
    expect(after.latestVersion).toBe(2);
    expect(after.latest).toMatchObject({ timeoutMs: 9000, codeSha256: before.latest.codeSha256 });
    expect(g.announced).toHaveLength(2);
  });
});

describe('Lambda DeleteFunction', () => {
  it('writes the tombstone, deletes the function and announces it', async () => {
    const fn = g.functions.seed('default', 'f');
    const res = await signed('DELETE', '/2015-03-31/functions/f');
    expect(res.status).toBe(204);
    expect(g.queue.deletedFunctions).toEqual([fn.id]);
    expect(await g.functions.get('default', 'f')).toBeNull();
    expect(g.announced).toEqual([{ type: 'function-deleted', namespace: 'default', name: 'f', functionId: fn.id }]);
  });

  it('answers a missing function 404 ResourceNotFoundException naming its ARN, writing no tombstone', async () => {
    const message = await expectLambdaError(await signed('DELETE', '/2015-03-31/functions/nope'), 404, 'ResourceNotFoundException');
    expect(message).toBe(`Function not found: arn:aws:lambda:${REGION}:000000000000:function:nope`);
    expect(g.queue.deletedFunctions).toEqual([]);
  });
});
