/**
 * Deploying and managing functions through the public HTTP API: every upload
 * format, immutable versions, rollback, deletion (containers included), and
 * a clear 4xx for each kind of bad request.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deploy, invoke, tarGzOf, uniqueName, zipOf } from '../helpers/packages.ts';
import { fetchWithoutKey, startPlatform, type ApiResponse, type Platform } from '../helpers/platform.ts';
import { waitUntil } from '../helpers/wait.ts';

const nodeReturning = (value: string) => `exports.handler = async () => ${JSON.stringify(value)};\n`;

describe('deploying functions', () => {
  let platform: Platform;
  beforeAll(async () => {
    platform = await startPlatform();
  });
  afterAll(async () => {
    await platform?.stop();
  });

  describe('accepts every upload format for both runtimes', () => {
    const cases = [
      { runtime: 'nodejs20', format: 'zip', handler: 'index.handler', files: { 'index.js': nodeReturning('zip-node') }, expected: 'zip-node' },
      { runtime: 'nodejs20', format: 'tar.gz', handler: 'src/app.main', files: { 'src/app.js': 'exports.main = async () => "tgz-node";' }, expected: 'tgz-node' },
      { runtime: 'nodejs20', format: 'file', handler: 'hello.handler', files: { 'hello.js': nodeReturning('file-node') }, expected: 'file-node' },
      { runtime: 'python3', format: 'zip', handler: 'main.handler', files: { 'main.py': 'def handler(e, c):\n    return "zip-py"\n' }, expected: 'zip-py' },
      { runtime: 'python3', format: 'tar.gz', handler: 'app.run', files: { 'app.py': 'def run(e, c):\n    return "tgz-py"\n' }, expected: 'tgz-py' },
      { runtime: 'python3', format: 'file', handler: 'main.handler', files: { 'main.py': 'def handler(e, c):\n    return "file-py"\n' }, expected: 'file-py' },
    ] as const;

    for (const c of cases) {
      it(`${c.runtime} as ${c.format}`, async () => {
        const name = uniqueName(`fmt-${c.format.replace('.', '')}`);
        const [path, content] = Object.entries(c.files)[0]!;
        const code =
          c.format === 'zip'
            ? { bytes: await zipOf(c.files), filename: 'code.zip' }
            : c.format === 'tar.gz'
              ? { bytes: await tarGzOf(c.files), filename: 'code.tar.gz' }
              : { bytes: Buffer.from(content), filename: path };
        const res = await deploy(platform, name, code, { runtime: c.runtime, handler: c.handler });
        expect(res.status, await res.clone().text()).toBe(201);
        const fn = await res.json();
        expect(fn).toMatchObject({ name, version: 1, latestVersion: 1, latest: { runtime: c.runtime, handler: c.handler, memoryMb: 128, timeoutMs: 3000 } });
        expect(fn.latest.codeSha256).toMatch(/^[0-9a-f]{64}$/);
        const called = await invoke(platform, name, {});
        expect(called.status, await called.clone().text()).toBe(200);
        expect(await called.json()).toBe(c.expected);
      });
    }
  });

  it('creates immutable versions, pins them, and rolls latest back', async () => {
    const name = uniqueName('versions');
    const v1 = await deploy(platform, name, { bytes: Buffer.from(nodeReturning('one')), filename: 'index.js' }, { runtime: 'nodejs20' });
    expect((await v1.json()).version).toBe(1);
    const v2 = await deploy(platform, name, { bytes: Buffer.from(nodeReturning('two')), filename: 'index.js' }, { runtime: 'nodejs20', memoryMb: 256 });
    expect((await v2.json()).version).toBe(2);

    expect(await (await invoke(platform, name, {})).json()).toBe('two');
    expect(await (await invoke(platform, name, {}, '?version=1')).json()).toBe('one');

    const rolled = await platform.api(`/v1/functions/${name}/rollback`, { method: 'POST', body: JSON.stringify({ version: 1 }) });
    expect(rolled.status).toBe(200);
    expect((await rolled.json()).latestVersion).toBe(1);
    expect(await (await invoke(platform, name, {})).json()).toBe('one');
    expect(await (await invoke(platform, name, {}, '?version=2')).json()).toBe('two');

    // Versions keep counting up after a rollback; nothing is overwritten.
    const v3 = await deploy(platform, name, { bytes: Buffer.from(nodeReturning('three')), filename: 'index.js' }, { runtime: 'nodejs20' });
    expect((await v3.json()).version).toBe(3);

    const details = await (await platform.api(`/v1/functions/${name}`)).json();
    expect(details.latestVersion).toBe(3);
    expect(details.versions.map((v: { version: number }) => v.version)).toEqual([3, 2, 1]);
    expect(details.versions[1].memoryMb).toBe(256);

    const missing = await platform.api(`/v1/functions/${name}/rollback`, { method: 'POST', body: JSON.stringify({ version: 7 }) });
    expect(missing.status).toBe(404);
    expect((await missing.json()).error.code).toBe('VersionNotFound');
    const bad = await platform.api(`/v1/functions/${name}/rollback`, { method: 'POST', body: JSON.stringify({ version: 'x' }) });
    expect(bad.status).toBe(400);
  });

  it('lists functions with their latest version', async () => {
    const name = uniqueName('listed');
    await deploy(platform, name, { bytes: Buffer.from(nodeReturning('x')), filename: 'index.js' }, { runtime: 'nodejs20', timeoutMs: 5000 });
    const res = await platform.api('/v1/functions');
    expect(res.status).toBe(200);
    const { functions } = await res.json();
    const found = functions.find((f: { name: string }) => f.name === name);
    expect(found).toMatchObject({ name, latestVersion: 1, latest: { timeoutMs: 5000, runtime: 'nodejs20' } });
  });

  it('deleting a function removes it and its warm containers', async () => {
    const name = uniqueName('doomed');
    await deploy(platform, name, { bytes: Buffer.from(nodeReturning('bye')), filename: 'index.js' }, { runtime: 'nodejs20' });
    expect((await invoke(platform, name, {})).status).toBe(200);
    const labels = [`io.hearth.function=${name}`, `io.hearth.worker=${platform.workerId}`];
    const containers = () => platform.docker.listContainers({ all: true, filters: { label: labels } });
    expect((await containers()).length).toBe(1);

    const res = await platform.api(`/v1/functions/${name}`, { method: 'DELETE' });
    expect(res.status).toBe(204);
    await waitUntil(async () => (await containers()).length === 0, 10_000);
    expect(await containers()).toEqual([]);

    expect((await platform.api(`/v1/functions/${name}`)).status).toBe(404);
    expect((await invoke(platform, name, {})).status).toBe(404);
    expect((await platform.api(`/v1/functions/${name}`, { method: 'DELETE' })).status).toBe(404);
  });

  describe('rejects bad deploys with a clear 4xx and stores nothing', () => {
    const code = { bytes: Buffer.from(nodeReturning('x')), filename: 'index.js' };
    const expectError = async (res: ApiResponse, status: number, errorCode: string) => {
      expect(res.status, await res.clone().text()).toBe(status);
      const body = await res.json();
      expect(body.error.code).toBe(errorCode);
      expect(typeof body.error.message).toBe('string');
      return body.error;
    };

    it('bad names', async () => {
      for (const name of ['Upper', 'under_score', '-lead', 'trail-', 'a'.repeat(64), 'dot.name']) {
        await expectError(await deploy(platform, name, code, { runtime: 'nodejs20' }), 400, 'InvalidName');
      }
    });

    it('bad settings, all listed at once', async () => {
      const name = uniqueName('bad');
      const error = await expectError(
        await deploy(platform, name, code, { runtime: 'cobol', memoryMb: 10, timeoutMs: 1_000_000 }),
        400,
        'InvalidParameter',
      );
      expect(error.problems).toHaveLength(3);
      await expectError(await deploy(platform, name, code, { runtime: 'nodejs20', memoryMb: 4097 }), 400, 'InvalidParameter');
      await expectError(await deploy(platform, name, code, { runtime: 'nodejs20', handler: '../etc.passwd' }), 400, 'InvalidParameter');
      const badEnv = new FormData();
      badEnv.set('code', new Blob([code.bytes]), 'index.js');
      badEnv.set('runtime', 'nodejs20');
      badEnv.set('env', '{"A": 1}');
      await expectError(await platform.api(`/v1/functions/${name}`, { method: 'PUT', body: badEnv }), 400, 'InvalidParameter');
      badEnv.set('env', 'not json');
      await expectError(await platform.api(`/v1/functions/${name}`, { method: 'PUT', body: badEnv }), 400, 'InvalidParameter');
      expect((await platform.api(`/v1/functions/${name}`)).status).toBe(404);
    });

    it('a handler whose file is not in the package', async () => {
      const name = uniqueName('nohandler');
      await expectError(await deploy(platform, name, code, { runtime: 'nodejs20', handler: 'missing.handler' }), 400, 'HandlerNotFound');
      expect((await platform.api(`/v1/functions/${name}`)).status).toBe(404);
    });

    it('missing code, wrong content type, malformed multipart, corrupt archive', async () => {
      const name = uniqueName('nocode');
      const noCode = new FormData();
      noCode.set('runtime', 'nodejs20');
      await expectError(await platform.api(`/v1/functions/${name}`, { method: 'PUT', body: noCode }), 400, 'MissingCode');
      await expectError(
        await platform.api(`/v1/functions/${name}`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '{}' }),
        415,
        'UnsupportedMediaType',
      );
      await expectError(
        await platform.api(`/v1/functions/${name}`, {
          method: 'PUT',
          headers: { 'content-type': 'multipart/form-data; boundary=xyz' },
          body: '--xyz\r\nContent-Disposition: form-data; name="runtime"\r\n\r\nnodejs20\r\n--xy',
        }),
        400,
        'InvalidMultipart',
      );
      const corrupt = Buffer.concat([Buffer.from('PK\x03\x04'), Buffer.alloc(64, 7)]);
      await expectError(await deploy(platform, name, { bytes: corrupt, filename: 'x.zip' }, { runtime: 'nodejs20' }), 400, 'InvalidArchive');
      expect((await platform.api(`/v1/functions/${name}`)).status).toBe(404);
    });

    it('no key, or the wrong key', async () => {
      const res = await fetchWithoutKey(`${platform.url}/v1/functions`);
      await expectError(res, 401, 'Unauthorized');
      const wrong = await fetchWithoutKey(`${platform.url}/v1/functions`, { headers: { authorization: 'Bearer nope' } });
      await expectError(wrong, 401, 'Unauthorized');
    });
  });
});
