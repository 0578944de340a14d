/**
 * `GET /v1/runtimes`, the deploy answer's `runtimeResolved` and the refusal
 * of a runtime no live worker serves, over fake worker reports
 * (`fakes/runtime-reports.ts`); the Lambda front door's runtime names. No services.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { RUNTIME_NAMES, RUNTIMES, type RuntimeName } from '../../runtime-images/runtimes.ts';
import { zipOf } from '../helpers/code-fixtures.ts';
import { PLATFORM_KEY, TENANT_KEY, bearer, createFakeGateway, expectError, type FakeGateway } from './fake-deps.ts';
import { FAKE_IMAGES, workerServing } from './fakes/runtime-reports.ts';
import { expectJson, expectLambdaError, signedLambda } from './lambda-signed.ts';
import { workerReport } from './fakes/invocation-queue.ts';

let g: FakeGateway;
beforeEach(async () => {
  g = await createFakeGateway();
});

const get = (key = PLATFORM_KEY) => g.app.request('/v1/runtimes', { headers: bearer(key) });
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const json = (res: Response): Promise<any> => res.json();
const byName = (body: { runtimes: Array<{ name: string }> }) => Object.fromEntries(body.runtimes.map((r) => [r.name, r])) as Record<RuntimeName, any>;

/** A deploy of a one-file package for `runtime` (`index.js` unless told). */
function deploy(name: string, runtime: string, file: { name: string; text: string } = { name: 'index.js', text: 'exports.handler = async () => 1;\n' }, handler?: string) {
  const form = new FormData();
  form.append('runtime', runtime);
  if (handler) form.append('handler', handler);
  form.append('code', new Blob([file.text]), file.name);
  return g.app.request(`/v1/functions/${name}`, { method: 'PUT', headers: bearer(PLATFORM_KEY), body: form });
}

describe('GET /v1/runtimes', () => {
  it('lists every catalogue runtime, unavailable while no worker has reported, with its names and handler rules', async () => {
    const body = await json(await get());
    expect(body.workers).toBe(0);
    expect(body.runtimes.map((r: { name: string }) => r.name)).toEqual(RUNTIME_NAMES);
    for (const name of RUNTIME_NAMES) {
      expect(byName(body)[name]).toEqual({
        name,
        available: false,
        workers: 0,
        unavailableReason: 'no worker has reported yet',
        image: RUNTIMES[name].image,
        versions: {},
        imageSizeBytes: null,
        images: [],
        lambdaRuntimes: [...RUNTIMES[name].lambdaRuntimes],
        reportedLambdaRuntime: RUNTIMES[name].reportedLambdaRuntime,
        defaultHandler: RUNTIMES[name].defaultHandler,
        handlerConvention: RUNTIMES[name].handlerConvention,
      });
    }
  });

  it("merges live workers' reports: available where one serves it, the image most of them have, every distinct image", async () => {
    const newer = { imageId: 'sha256:node-new', versions: { node: '20.20.0' }, sizeBytes: 1 };
    g.workers.push(
      workerServing('w1', ['nodejs20', 'python3']),
      workerServing('w2', ['nodejs20']),
      workerServing('w3', ['nodejs20', 'provided'], { nodejs20: newer }),
      // A worker older than runtimeImages: it serves python3, nothing more is known of it.
      { ...workerReport('w4'), runtimes: ['python3'] },
    );
    const runtimes = byName(await json(await get()));
    expect(runtimes.nodejs20).toMatchObject({ available: true, workers: 3, versions: { node: '20.19.2' }, imageSizeBytes: FAKE_IMAGES.nodejs20.sizeBytes });
    expect(runtimes.nodejs20.images).toEqual([
      { ...FAKE_IMAGES.nodejs20, workers: 2 },
      { ...FAKE_IMAGES.nodejs20, ...newer, workers: 1 },
    ]);
    expect(runtimes.python3).toMatchObject({ available: true, workers: 2, versions: { python: '3.11.2' } });
    expect(runtimes.provided).toMatchObject({ available: true, workers: 1, versions: { lambda: 'provided.al2023-compatible', glibc: '2.36' } });
    expect(runtimes.java17).toMatchObject({ available: false, workers: 0, imageSizeBytes: null });
    expect(runtimes.java17.unavailableReason).toMatch(/none of the 4 live worker\(s\) serves it.*HEARTH_RUNTIMES/);
  });

  it('takes, of one image, the versions of the worker that has probed it', async () => {
    g.workers.push(workerServing('w1', ['nodejs20'], { nodejs20: { versions: {} } }), workerServing('w2', ['nodejs20']));
    expect(byName(await json(await get())).nodejs20).toMatchObject({ versions: { node: '20.19.2' }, images: [{ workers: 2, versions: { node: '20.19.2' } }] });
  });

  it('answers any valid key, a namespace key too, and no caller without one', async () => {
    expect((await get(TENANT_KEY)).status).toBe(200);
    await expectError(await g.app.request('/v1/runtimes'), 401, 'Unauthorized');
  });

  it('is in the OpenAPI document', async () => {
    const doc = await json(await g.app.request('/openapi.json'));
    expect(doc.paths['/v1/runtimes'].get).toMatchObject({ operationId: 'listRuntimes' });
    const deploy = doc.paths['/v1/functions/{name}'].put;
    expect(deploy.responses['400']['x-error-codes']).toContain('RuntimeUnavailable');
  });
});

describe('deploying with a Lambda runtime name', () => {
  it('answers runtimeResolved with the version live workers report', async () => {
    g.workers.push(workerServing('w1', ['nodejs20', 'python3']));
    const res = await deploy('f', 'nodejs22.x');
    expect(res.status).toBe(201);
    const body = await json(res);
    expect(body.runtimeResolved).toEqual({ requested: 'nodejs22.x', runtime: 'nodejs20', version: '20.19.2' });
    expect(body.latest.runtime).toBe('nodejs20');
  });

  it('leaves the version out while no worker knows it, and says nothing for a Hearth name', async () => {
    const lambda = await json(await deploy('f', 'python3.13', { name: 'main.py', text: 'def handler(e, c):\n  return 1\n' }));
    expect(lambda.runtimeResolved).toEqual({ requested: 'python3.13', runtime: 'python3' });
    const own = await json(await deploy('g', 'nodejs20'));
    expect(own).not.toHaveProperty('runtimeResolved');
  });
});

describe('deploying a runtime no live worker serves', () => {
  it('is refused 400 RuntimeUnavailable naming what is available, storing and announcing nothing', async () => {
    g.workers.push(workerServing('w1', ['nodejs20', 'python3']), workerServing('w2', ['nodejs20']));
    const error = await expectError(await deploy('j', 'java17', { name: 'app.jar', text: 'PK' }, 'example.Handler'), 400, 'RuntimeUnavailable');
    expect(error.message).toBe('runtime java17 is not available on this installation: none of the 2 live worker(s) serves it. Available: nodejs20, python3 (GET /v1/runtimes).');
    const lambdaName = await expectError(await deploy('p', 'provided.al2023', { name: 'bootstrap', text: '#!/bin/sh\n' }), 400, 'RuntimeUnavailable');
    expect(lambdaName.message).toMatch(/^"provided.al2023" runs on provided, which is not available/);
    expect(await g.functions.get('default', 'j')).toBeNull();
    expect(await g.functions.get('default', 'p')).toBeNull();
    expect(g.announced).toEqual([]);
  });

  it('is accepted while no worker has reported (nothing is known of the images yet)', async () => {
    expect((await deploy('j', 'java17', { name: 'app.jar', text: 'PK' }, 'example.Handler')).status).toBe(201);
  });

  it('is accepted once a worker serves it', async () => {
    g.workers.push(workerServing('w1', ['nodejs20']), workerServing('w2', ['java17']));
    expect((await deploy('j', 'java17', { name: 'app.jar', text: 'PK' }, 'example.Handler')).status).toBe(201);
  });
});

describe('the Lambda API and runtime names', () => {
  const signed = signedLambda(() => g);
  const packages: Record<RuntimeName, { handler: string; file: string; text: string }> = {
    nodejs20: { handler: 'index.handler', file: 'index.js', text: 'exports.handler = async () => 1;\n' },
    python3: { handler: 'main.handler', file: 'main.py', text: 'def handler(e, c):\n  return 1\n' },
    provided: { handler: 'bootstrap', file: 'bootstrap', text: '#!/bin/sh\n' },
    java17: { handler: 'example.Handler::handleRequest', file: 'app.jar', text: 'PK' },
  };
  const create = async (name: string, runtime: string, hearth: RuntimeName) => {
    const { handler, file, text } = packages[hearth];
    const zip = (await zipOf([{ path: file, data: text, mode: 0o755 }])).toString('base64');
    return signed('POST', '/2015-03-31/functions', { FunctionName: name, Runtime: runtime, Handler: handler, Role: 'arn:aws:iam::000000000000:role/x', Code: { ZipFile: zip } });
  };
  const cases = RUNTIME_NAMES.flatMap((hearth) => RUNTIMES[hearth].lambdaRuntimes.map((lambda) => [lambda, hearth] as const));

  it('takes every Lambda name of the catalogue (nodejs18.x-22.x, python3.8-3.13, provided*, java17)', () => {
    expect(cases.map(([lambda]) => lambda)).toEqual(
      expect.arrayContaining(['nodejs18.x', 'nodejs20.x', 'nodejs22.x', 'python3.8', 'python3.9', 'python3.10', 'python3.11', 'python3.12', 'python3.13', 'provided', 'provided.al2', 'provided.al2023', 'java17']),
    );
  });

  it.each(cases)('CreateFunction with %s runs on %s, and the configuration read back names what runs', async (lambda, hearth) => {
    const created = await expectJson(await create('f', lambda, hearth), 201);
    expect(created.Runtime).toBe(RUNTIMES[hearth].reportedLambdaRuntime);
    expect((await g.functions.resolveVersion('default', 'f'))?.runtime).toBe(hearth);
    const configuration = await expectJson(await signed('GET', '/2015-03-31/functions/f/configuration'));
    expect(configuration.Runtime).toBe(RUNTIMES[hearth].reportedLambdaRuntime);
  });

  it('refuses CreateFunction of a runtime no live worker serves, as InvalidParameterValueException', async () => {
    g.workers.push(workerServing('w1', ['nodejs20', 'python3']));
    const message = await expectLambdaError(await create('f', 'java17', 'java17'), 400, 'InvalidParameterValueException');
    expect(message).toMatch(/runtime java17 is not available.*Available: nodejs20, python3/);
    expect(await g.functions.get('default', 'f')).toBeNull();
  });

  it('refuses UpdateFunctionConfiguration to such a runtime, and keeps a change that stays on a served one', async () => {
    g.workers.push(workerServing('w1', ['nodejs20', 'python3']));
    await expectJson(await create('f', 'nodejs20.x', 'nodejs20'), 201);
    await expectLambdaError(await signed('PUT', '/2015-03-31/functions/f/configuration', { Runtime: 'java17', Handler: 'example.Handler' }), 400, 'InvalidParameterValueException');
    expect((await g.functions.resolveVersion('default', 'f'))?.runtime).toBe('nodejs20');
    expect((await expectJson(await signed('PUT', '/2015-03-31/functions/f/configuration', { MemorySize: 256 }))).Runtime).toBe('nodejs20.x');
  });
});
