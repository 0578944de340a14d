/** Where a container's CPU time is read when its engine does not use Docker's default cgroup parent. */
import { describe, expect, it } from 'vitest';
import { cpuFileFromProcCgroup, defaultCpuFiles } from '../../worker/engine/cgroup-cpu.ts';

describe("a container's CPU accounting file", () => {
  it("is under Docker's default parent first, for either cgroup version and driver", () => {
    expect(defaultCpuFiles('abc').map((f) => f.path)).toEqual([
      '/sys/fs/cgroup/cpuacct/docker/abc/cpuacct.usage',
      '/sys/fs/cgroup/cpu,cpuacct/docker/abc/cpuacct.usage',
      '/sys/fs/cgroup/cpuacct/system.slice/docker-abc.scope/cpuacct.usage',
      '/sys/fs/cgroup/system.slice/docker-abc.scope/cpu.stat',
      '/sys/fs/cgroup/docker/abc/cpu.stat',
    ]);
  });

  it("follows the process's cgroup on v1 (cpuacct alone or with cpu) and on v2", () => {
    const v1 = '12:pids:/hearth-lab-a/abc\n4:cpu:/hearth-lab-a/abc\n3:cpuacct:/hearth-lab-a/abc\n1:name=systemd:/\n0::/\n';
    expect(cpuFileFromProcCgroup(v1)?.path).toBe('/sys/fs/cgroup/cpuacct/hearth-lab-a/abc/cpuacct.usage');
    expect(cpuFileFromProcCgroup('5:cpu,cpuacct:/ops.slice/abc\n')?.path).toBe('/sys/fs/cgroup/cpuacct/ops.slice/abc/cpuacct.usage');
    const v2 = cpuFileFromProcCgroup('0::/hearth-lab-a/abc\n');
    expect(v2?.path).toBe('/sys/fs/cgroup/hearth-lab-a/abc/cpu.stat');
    expect(v2?.parse('usage_usec 1500\nuser_usec 1000\n')).toBe(1_500_000);
    expect(cpuFileFromProcCgroup(v1)?.parse('123456789\n')).toBe(123456789);
  });

  it('takes no path it has not checked', () => {
    expect(cpuFileFromProcCgroup('3:cpuacct:../../etc\n')).toBeNull();
    expect(cpuFileFromProcCgroup('3:cpuacct:/a/../../etc\n0::/x/../..\n')).toBeNull();
    expect(cpuFileFromProcCgroup('')).toBeNull();
    expect(cpuFileFromProcCgroup('not a cgroup line\n')).toBeNull();
    expect(cpuFileFromProcCgroup('0::/\n')?.path).toBe('/sys/fs/cgroup/cpu.stat');
    expect(defaultCpuFiles('x')[0]!.parse('garbage')).toBeNull();
  });
});
