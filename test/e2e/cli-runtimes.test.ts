/**
 * `hearth runtimes` and the runtime `hearth deploy` guesses for a custom
 * runtime or a Java package, on a real platform. Whether the provided and
 * java17 images exist here is not this file's to decide: a deploy of one is
 * checked against what `GET /v1/runtimes` says.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cliWith, STACK, suffix, useCliPlatform } from '../helpers/cli-platform.ts';
import { writeTree } from '../helpers/code-fixtures.ts';
import type { Platform } from '../helpers/platform.ts';
import { waitFor } from '../helpers/wait.ts';

describe('hearth runtimes', () => {
  let platform: Platform;
  let env: Record<string, string>;
  let work: string;
  useCliPlatform((started) => ({ platform, env, work } = started));
  const hearth = cliWith(() => env);
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const listing = async (): Promise<any[]> => (await (await platform.api('/v1/runtimes')).json()).runtimes;

  it('prints every runtime with availability, versions, image size, Lambda names and default handler', async () => {
    await waitFor('versions reported', async () => (await listing()).find((r) => r.name === 'nodejs20')?.versions.node !== undefined, 30_000);
    const runtimes = await listing();
    const run = await hearth(['runtimes']);
    expect(run.code, run.stderr).toBe(0);
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^RUNTIME\s+AVAILABLE\s+VERSIONS\s+IMAGE\s+LAMBDA NAMES\s+DEFAULT HANDLER$/);
    const node = runtimes.find((r) => r.name === 'nodejs20');
    expect(lines[1]).toMatch(new RegExp(`^nodejs20\\s+yes \\(1 worker\\)\\s+node ${node.versions.node.replace(/\./g, '\\.')}\\s+[\\d.]+ MiB\\s+nodejs18\\.x nodejs20\\.x nodejs22\\.x\\s+index\\.handler$`));
    expect(lines[2]).toMatch(/^python3\s+yes \(1 worker\)\s+python 3\.\d+\.\d+\s+[\d.]+ MiB\s+python3\.8 .* python3\.13\s+main\.handler$/);
    for (const r of runtimes.filter((x) => !x.available)) {
      expect(run.stdout).toMatch(new RegExp(`^${r.name}\\s+no\\s+–\\s+–\\s`, 'm'));
      expect(run.stderr).toContain(`${r.name}: ${r.unavailableReason}`);
    }
    const long = await hearth(['runtimes', '--long']);
    expect(long.stdout).toContain('java17 handler: package.Class::method or package.Class');
  });

  it('guesses provided for a folder with a bootstrap and java17 for jars, and deploys as the platform allows', async () => {
    const custom = join(work, `custom-${suffix()}`);
    await writeTree(custom, [{ path: 'bootstrap', data: '#!/bin/sh\necho hi\n', mode: 0o755 }, { path: 'README.md', data: 'x' }]);
    const dry = await hearth(['deploy', custom, '--dry-run']);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toMatch(/\(provided, default handler\)/);

    const java = join(work, `java-${suffix()}`);
    await writeTree(java, [{ path: 'lib/app.jar', data: 'PK' }, { path: 'lib/gson.jar', data: 'PK' }]);
    expect((await hearth(['deploy', java, '--dry-run'])).stdout).toMatch(/\(java17, default handler\)/);

    const provided = (await listing()).find((r) => r.name === 'provided');
    const deployed = await hearth(['deploy', custom, '--name', `custom-${suffix()}`]);
    if (provided.available) {
      expect(deployed.code, deployed.stderr).toBe(0);
      expect(deployed.stdout).toMatch(/\(provided, bootstrap,/);
    } else {
      expect(deployed.code).toBe(1);
      expect(deployed.stderr).toMatch(/^hearth: RuntimeUnavailable: runtime provided is not available on this installation: .* Available: nodejs20, python3/m);
      expect(deployed.stderr).not.toMatch(STACK);
    }
  });
});
