import { describe, expect, it } from 'vitest';
import { RUNTIMES } from '../../runtime-images/runtimes.ts';
import { parseRuntimeList, loadWorkerConfig } from '../../worker/config.ts';
import type { ContainerRuntime, ImageInfo } from '../../worker/engine/container-runtime.ts';
import { silentLogger } from '../../worker/common/logger.ts';
import { openRuntimeInventory, VERSION_LABEL, versionsFromLabel, versionsFromProbe } from '../../worker/run/runtime-inventory.ts';

/** An engine holding `images` by tag (and by id); each probe answers `outputs[runtime]`, in the order asked. */
function engineWith(images: Record<string, Partial<ImageInfo>>, outputs: Record<string, string | undefined> = {}) {
  const probes: Array<{ tag: string; probe: readonly string[] }> = [];
  const byTag = new Map(Object.entries(images).map(([tag, partial], i) => [tag, { id: `sha256:${i}`, sizeBytes: 1000 * (i + 1), createdAt: '2025-01-01T00:00:00Z', labels: {}, env: {}, entrypoint: [], ...partial } as ImageInfo]));
  const runtimeOf = (id: string) => [...byTag].find(([, info]) => info.id === id)?.[0];
  const unused = () => Promise.reject(new Error('not used here'));
  const engine: ContainerRuntime = {
    start: unused,
    kill: unused,
    remove: unused,
    pause: unused,
    unpause: unused,
    cpuUsageNs: unused,
    waitForExit: unused,
    list: unused,
    ping: async () => {},
    async imageInfo(tag, probe) {
      const info = byTag.get(tag) ?? [...byTag.values()].find((i) => i.id === tag);
      if (!info) return null;
      if (!probe) return info;
      probes.push({ tag, probe });
      const output = outputs[runtimeOf(info.id) ?? ''];
      return output === undefined ? info : { ...info, probeOutput: output };
    },
  };
  return { engine, probes };
}

describe('runtime inventory', () => {
  it('serves the runtimes whose images exist, and fills their versions from probes of the images\' own binaries', async () => {
    const { engine, probes } = engineWith(
      {
        [RUNTIMES.nodejs20.image]: { entrypoint: ['/usr/bin/node', '/opt/hearth/bootstrap.mjs'] },
        [RUNTIMES.python3.image]: { entrypoint: ['/usr/bin/python3.11', '-I', '-B', '/opt/hearth/bootstrap.py'] },
      },
      { [RUNTIMES.nodejs20.image]: 'v20.19.2\r\n', [RUNTIMES.python3.image]: 'Python 3.11.2\r\n' },
    );
    const inventory = await openRuntimeInventory({ runtime: engine, log: silentLogger });
    expect(inventory.runtimes()).toEqual(['nodejs20', 'python3']);
    await inventory.probed;
    expect(probes.map((p) => p.probe)).toEqual([
      ['/usr/bin/node', '--version'],
      ['/usr/bin/python3.11', '--version'],
    ]);
    expect(inventory.images()).toEqual([
      { runtime: 'nodejs20', image: RUNTIMES.nodejs20.image, imageId: 'sha256:0', sizeBytes: 1000, createdAt: '2025-01-01T00:00:00Z', versions: { node: '20.19.2' } },
      { runtime: 'python3', image: RUNTIMES.python3.image, imageId: 'sha256:1', sizeBytes: 2000, createdAt: '2025-01-01T00:00:00Z', versions: { python: '3.11.2' } },
    ]);
  });

  it('serves only the runtimes it is asked to, and believes a version label without probing', async () => {
    const { engine, probes } = engineWith({
      [RUNTIMES.nodejs20.image]: {},
      [RUNTIMES.python3.image]: {},
      [RUNTIMES.java17.image]: { labels: { [VERSION_LABEL]: 'java 17.0.15' } },
    });
    const inventory = await openRuntimeInventory({ runtime: engine, wanted: ['java17', 'provided'], log: silentLogger });
    await inventory.probed;
    expect(inventory.runtimes()).toEqual(['java17']);
    expect(inventory.images()[0]!.versions).toEqual({ java: '17.0.15' });
    expect(probes).toEqual([]);
  });

  it('says what provided claims, adds the C library a probe finds, and leaves out what a probe cannot read', async () => {
    const { engine } = engineWith(
      { [RUNTIMES.provided.image]: { id: 'sha256:p' }, [RUNTIMES.nodejs20.image]: { id: 'sha256:n' } },
      { [RUNTIMES.provided.image]: 'GNU C Library (Debian GLIBC 2.36-9+deb12u10) stable release version 2.36.\n', [RUNTIMES.nodejs20.image]: 'Segmentation fault; v999 <script>' },
    );
    const inventory = await openRuntimeInventory({ runtime: engine, log: silentLogger });
    await inventory.probed;
    const versions = Object.fromEntries(inventory.images().map((i) => [i.runtime, i.versions]));
    expect(versions).toEqual({ nodejs20: {}, provided: { lambda: 'provided.al2023-compatible', glibc: '2.36' } });
  });
});

describe('version words', () => {
  it('reads a label of one or several components, dropping malformed parts', () => {
    expect(versionsFromLabel('node v20.19.2')).toEqual({ node: '20.19.2' });
    expect(versionsFromLabel('java 17.0.15; glibc 2.36')).toEqual({ java: '17.0.15', glibc: '2.36' });
    expect(versionsFromLabel('Node 20; x <b>; python 3.11 extra')).toBeUndefined();
    expect(versionsFromLabel(undefined)).toBeUndefined();
  });

  it('reads each runtime\'s probe output through its own pattern', () => {
    expect(versionsFromProbe('java17', 'openjdk version "17.0.15" 2025-04-15\nOpenJDK Runtime Environment (build 17.0.15+6-Debian-1deb12u1)\n')).toEqual({ java: '17.0.15' });
    expect(versionsFromProbe('python3', 'Python 3.11.2\n')).toEqual({ python: '3.11.2' });
    expect(versionsFromProbe('nodejs20', `v20.1.0${'x'.repeat(100)}\n`)).toEqual({});
  });
});

describe('HEARTH_RUNTIMES', () => {
  it('lists runtimes, once each; unset means every runtime with an image', () => {
    expect(parseRuntimeList(' nodejs20, python3,nodejs20 ')).toEqual(['nodejs20', 'python3']);
    expect(loadWorkerConfig({ HEARTH_RUNTIMES: 'java17' }).HEARTH_RUNTIMES).toEqual(['java17']);
    expect(loadWorkerConfig({}).HEARTH_RUNTIMES).toBeUndefined();
  });

  it('refuses unknown names and an empty list, naming the runtimes', () => {
    expect(() => loadWorkerConfig({ HEARTH_RUNTIMES: 'nodejs20,nodejs22.x' })).toThrow(/HEARTH_RUNTIMES.*"nodejs22.x".*nodejs20, python3, provided, java17/);
    expect(() => loadWorkerConfig({ HEARTH_RUNTIMES: ' , ' })).toThrow(/HEARTH_RUNTIMES is empty/);
  });
});
