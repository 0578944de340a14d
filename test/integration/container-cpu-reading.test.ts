/**
 * The freezer reads each idle sandbox's CPU time to tell a quiet one (left
 * running) from one that works while idle (paused). On a real engine: a
 * container under Docker's default cgroup parent, and one under another
 * parent (an engine started with `--cgroup-parent`, as the multi-host lab's
 * are), both read. Without the second, every idle sandbox on such a host was
 * paused after its grace.
 */
import { randomBytes } from 'node:crypto';
import { readdirSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import Docker from 'dockerode';
import { afterAll, describe, expect, it } from 'vitest';
import { DockerContainerRuntime } from '../../worker/engine/docker-container-runtime.ts';
import { RUNTIMES } from '../../runtime-images/runtimes.ts';

const docker = new Docker();
const runtime = new DockerContainerRuntime({ docker });
const parent = `hearth-test-cpu-${randomBytes(3).toString('hex')}`;
const started: string[] = [];

/** A container that burns ~150 ms of CPU, then idles; under `cgroupParent` when given. */
async function busyThenIdle(cgroupParent?: string): Promise<string> {
  const container = await docker.createContainer({
    Image: RUNTIMES.nodejs20.image,
    Entrypoint: ['/usr/bin/node', '-e', 'const t = Date.now(); while (Date.now() - t < 150); setInterval(() => {}, 1000);'],
    Labels: { 'io.hearth.test': 'container-cpu-reading' },
    HostConfig: { NetworkMode: 'none', ...(cgroupParent ? { CgroupParent: `/${cgroupParent}` } : {}) },
  });
  started.push(container.id);
  await container.start();
  return container.id;
}

afterAll(async () => {
  await Promise.all(started.map((id) => docker.getContainer(id).remove({ force: true }).catch(() => {})));
  // The engine leaves the parent's (now empty) directories behind: remove them in every hierarchy.
  const root = '/sys/fs/cgroup';
  for (const hierarchy of ['', ...readdirSync(root)]) {
    try {
      rmdirSync(join(root, hierarchy, parent));
    } catch {
      // not in this hierarchy
    }
  }
});

describe("reading a sandbox's CPU time", () => {
  it("under Docker's default cgroup parent and under another parent alike", async () => {
    for (const id of [await busyThenIdle(), await busyThenIdle(parent)]) {
      let ns: number | null = null;
      // The busy loop is the container's first 150 ms: read until it shows.
      for (let i = 0; i < 100 && !(ns !== null && ns > 50e6); i++) {
        ns = await runtime.cpuUsageNs(id);
        await new Promise((r) => setTimeout(r, 20));
      }
      expect(ns, id).not.toBeNull();
      expect(ns!, id).toBeGreaterThan(50e6);
    }
  });
});
