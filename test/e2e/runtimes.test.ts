/**
 * The runtimes of a real platform (real Docker, Redis, Postgres): what
 * `GET /v1/runtimes` says against what the engine holds (`docker image
 * inspect`), a Lambda runtime name resolved and run, and a deploy of a
 * runtime no worker serves refused. Which images exist is not this file's
 * to decide (provided and java17 may or may not be built on this machine):
 * it asserts that the answer agrees with the engine, whatever it holds.
 */
import Dockerode from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RUNTIME_NAMES, RUNTIMES, type RuntimeName } from '../../runtime-images/runtimes.ts';
import { deploy, invoke, uniqueName, zipOf } from '../helpers/packages.ts';
import { startPlatform, type Platform } from '../helpers/platform.ts';
import { waitFor } from '../helpers/wait.ts';

const docker = new Dockerode();

/** Each catalogue image as the engine has it now: id and size, or null. */
async function engineImages(): Promise<Record<RuntimeName, { id: string; size: number } | null>> {
  const entries = await Promise.all(
    RUNTIME_NAMES.map(async (name) => {
      const info = await docker.getImage(RUNTIMES[name].image).inspect().catch(() => null);
      return [name, info ? { id: info.Id, size: info.Size } : null] as const;
    }),
  );
  return Object.fromEntries(entries) as Record<RuntimeName, { id: string; size: number } | null>;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
async function runtimesOf(platform: Platform): Promise<{ workers: number; runtimes: any[] }> {
  const res = await platform.api('/v1/runtimes');
  expect(res.status).toBe(200);
  return res.json();
}

describe('runtimes of a real platform', () => {
  let platform: Platform;
  let before: Awaited<ReturnType<typeof engineImages>>;
  beforeAll(async () => {
    before = await engineImages();
    platform = await startPlatform();
  });
  afterAll(async () => {
    await platform?.stop();
  });

  it('lists nodejs20 and python3 available with the versions and sizes of their images, and the others as the engine has them', async () => {
    // Versions fill in once the worker's probes of its images have run: wait for that, not for a time.
    let listing = await runtimesOf(platform);
    await waitFor('the worker to report its image versions', async () => {
      listing = await runtimesOf(platform);
      return listing.runtimes.filter((r) => r.available).every((r) => Object.keys(r.versions).length > 0);
    }, 30_000, 100);
    const after = await engineImages();
    const byName = Object.fromEntries(listing.runtimes.map((r) => [r.name, r]));
    expect(listing.workers).toBe(1);
    expect(listing.runtimes.map((r) => r.name)).toEqual(RUNTIME_NAMES);

    expect(byName.nodejs20).toMatchObject({ available: true, workers: 1, imageSizeBytes: after.nodejs20!.size, images: [{ imageId: after.nodejs20!.id, workers: 1 }] });
    expect(byName.nodejs20.versions.node).toMatch(/^20\.\d+\.\d+$/);
    expect(byName.python3).toMatchObject({ available: true, workers: 1, imageSizeBytes: after.python3!.size, images: [{ imageId: after.python3!.id, workers: 1 }] });
    expect(byName.python3.versions.python).toMatch(/^3\.\d+\.\d+/);

    for (const name of RUNTIME_NAMES) {
      const view = byName[name];
      expect(view).toMatchObject({ image: RUNTIMES[name].image, lambdaRuntimes: [...RUNTIMES[name].lambdaRuntimes], defaultHandler: RUNTIMES[name].defaultHandler, handlerConvention: RUNTIMES[name].handlerConvention });
      // An image built or removed while this test ran (another build on the machine) proves nothing either way.
      if (before[name]?.id !== after[name]?.id) continue;
      const present = after[name] !== null;
      expect(view.available, `${name}: the engine ${present ? 'has' : 'lacks'} ${RUNTIMES[name].image}`).toBe(present);
      if (present) {
        expect(view).toMatchObject({ imageSizeBytes: after[name]!.size, images: [{ imageId: after[name]!.id }] });
        expect(Object.keys(view.versions).length, `${name} versions`).toBeGreaterThan(0);
      } else {
        expect(view).toMatchObject({ imageSizeBytes: null, images: [], versions: {} });
        expect(view.unavailableReason).toMatch(/none of the 1 live worker/);
      }
    }
  });

  it('runs a nodejs22.x deploy on nodejs20, and says so with the version it runs', async () => {
    const name = uniqueName('lambda-name');
    const code = { bytes: await zipOf({ 'index.js': 'exports.handler = async () => process.version;\n' }), filename: 'code.zip' };
    const res = await deploy(platform, name, code, { runtime: 'nodejs22.x' });
    expect(res.status, await res.clone().text()).toBe(201);
    const body = await res.json();
    expect(body.latest.runtime).toBe('nodejs20');
    expect(body.runtimeResolved).toMatchObject({ requested: 'nodejs22.x', runtime: 'nodejs20' });
    const called = await invoke(platform, name, {});
    expect(called.status, await called.clone().text()).toBe(200);
    const ran = await called.json();
    expect(ran).toMatch(/^v20\./);
    // The version the answer names is the one the function ran on (once the worker's probe has reported it).
    if (body.runtimeResolved.version !== undefined) expect(`v${body.runtimeResolved.version}`).toBe(ran);
    const listed = (await runtimesOf(platform)).runtimes.find((r) => r.name === 'nodejs20');
    expect(`v${listed.versions.node}`).toBe(ran);
  });

  it('runs a python3.12 deploy on the python the list names', async () => {
    const name = uniqueName('lambda-py');
    const code = { bytes: await zipOf({ 'main.py': 'import platform\ndef handler(e, c):\n    return platform.python_version()\n' }), filename: 'code.zip' };
    const res = await deploy(platform, name, code, { runtime: 'python3.12' });
    expect(res.status, await res.clone().text()).toBe(201);
    const body = await res.json();
    expect(body.runtimeResolved).toMatchObject({ requested: 'python3.12', runtime: 'python3' });
    const ran = await (await invoke(platform, name, {})).json();
    const listed = (await runtimesOf(platform)).runtimes.find((r) => r.name === 'python3');
    expect(listed.versions.python).toBe(ran);
  });
});

describe('a worker that serves only some runtimes (HEARTH_RUNTIMES=nodejs20,python3)', () => {
  let platform: Platform;
  beforeAll(async () => {
    platform = await startPlatform({ runtimes: ['nodejs20', 'python3'] });
  });
  afterAll(async () => {
    await platform?.stop();
  });

  it('reports only those, and the others unavailable whatever images the engine has', async () => {
    const workers = await (await platform.api('/v1/workers')).json();
    expect(workers.workers.map((w: { runtimes: string[] }) => w.runtimes)).toEqual([['nodejs20', 'python3']]);
    const listing = await runtimesOf(platform);
    const available = listing.runtimes.filter((r) => r.available).map((r) => r.name);
    expect(available).toEqual(['nodejs20', 'python3']);
    for (const name of ['provided', 'java17']) {
      expect(listing.runtimes.find((r) => r.name === name)).toMatchObject({ available: false, workers: 0, unavailableReason: expect.stringMatching(/HEARTH_RUNTIMES/) });
    }
  });

  it('refuses a deploy of java17 or provided.al2023 with 400 RuntimeUnavailable naming what is available, and stores nothing', async () => {
    const jar = { bytes: await zipOf({ 'app.jar': 'PK' }), filename: 'code.zip' };
    const java = uniqueName('java');
    const refused = await deploy(platform, java, jar, { runtime: 'java17', handler: 'example.Handler::handleRequest' });
    expect(refused.status).toBe(400);
    expect((await refused.json()).error).toEqual({
      code: 'RuntimeUnavailable',
      message: 'runtime java17 is not available on this installation: none of the 1 live worker(s) serves it. Available: nodejs20, python3 (GET /v1/runtimes).',
      runtime: 'java17',
      available: ['nodejs20', 'python3'],
    });
    const custom = await deploy(platform, uniqueName('custom'), { bytes: await zipOf({ bootstrap: '#!/bin/sh\n' }), filename: 'code.zip' }, { runtime: 'provided.al2023' });
    expect(custom.status).toBe(400);
    expect((await custom.json()).error.message).toMatch(/^"provided.al2023" runs on provided, which is not available.*Available: nodejs20, python3/);
    expect((await platform.api(`/v1/functions/${java}`)).status).toBe(404);
    // What it serves still deploys.
    const node = await deploy(platform, uniqueName('node'), { bytes: Buffer.from('exports.handler = async () => 1;\n'), filename: 'index.js' }, { runtime: 'nodejs20' });
    expect(node.status).toBe(201);
  });
});
