/**
 * What a function can see and do inside its sandbox, observed from inside
 * real sandboxes started through the public API: no privileges, a read-only
 * root and code directory, a writable /tmp, nothing of another function's
 * code, and no Docker socket anywhere.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uniqueName } from '../helpers/packages.ts';
import { startPlatform, type Platform } from '../helpers/platform.ts';
import { call, deployFunction } from './security-harness.ts';

/** Reports credentials, writes, mounts, /var/task, and every socket or file whose name holds one of `event.needles`. */
const NODE_PROBE = `
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');

function tryWrite(file) {
  try { fs.writeFileSync(file, 'x'); return 'ok'; } catch (err) { return err.code; }
}
function tryMkdir(dir) {
  try { fs.mkdirSync(dir); return 'ok'; } catch (err) { return err.code; }
}
function walk(dir, needles, found) {
  let entries;
  try { entries = fs.readdirSync(dir, { withFileTypes: true }); } catch { return; }
  for (const e of entries) {
    const full = path.join(dir, e.name);
    if (['/proc', '/sys', '/dev'].includes(full)) continue;
    if (e.isSocket()) found.sockets.push(full);
    if (needles.some((n) => e.name.includes(n))) found.matches.push(full);
    if (e.isDirectory()) walk(full, needles, found);
  }
}

exports.handler = async (event) => {
  // A socket of its own, so the walk demonstrably finds sockets.
  const server = net.createServer();
  await new Promise((resolve) => server.listen('/tmp/probe.sock', resolve));
  const found = { sockets: [], matches: [] };
  walk('/', event.needles || [], found);
  await new Promise((resolve) => server.close(resolve));
  return {
    status: fs.readFileSync('/proc/self/status', 'utf8'),
    writes: { root: tryWrite('/probe'), task: tryWrite('/var/task/probe'), taskMkdir: tryMkdir('/var/task/dir'), etc: tryWrite('/etc/passwd'), tmp: tryWrite('/tmp/probe') },
    tmpRead: fs.readFileSync('/tmp/probe', 'utf8'),
    task: fs.readdirSync('/var/task', { recursive: true }).sort(),
    mountinfo: fs.readFileSync('/proc/self/mountinfo', 'utf8'),
    dockerSockets: ['/var/run/docker.sock', '/run/docker.sock', '/var/run/docker', '/run/containerd/containerd.sock'].filter((p) => fs.existsSync(p)),
    ...found,
  };
};
`;

const PYTHON_PROBE = `
import os

def try_write(path):
    try:
        with open(path, "w") as f:
            f.write("x")
        return "ok"
    except OSError as e:
        import errno
        return errno.errorcode.get(e.errno, str(e.errno))

def handler(event, context):
    with open("/proc/self/status") as f:
        status = f.read()
    return {"status": status, "writes": {"root": try_write("/probe"), "task": try_write("/var/task/probe"), "tmp": try_write("/tmp/probe")}}
`;

/** `Key:\tvalue` lines of /proc/self/status. */
function statusFields(status: string): Record<string, string> {
  return Object.fromEntries(status.split('\n').filter(Boolean).map((line) => {
    const at = line.indexOf(':');
    return [line.slice(0, at), line.slice(at + 1).trim()];
  }));
}

interface Mount {
  root: string;
  mountPoint: string;
  options: string;
  fsType: string;
  source: string;
}

/** /proc/self/mountinfo: `id parent major:minor root mount-point options [optional...] - fstype source super-options`. */
function mountsOf(mountinfo: string): Mount[] {
  return mountinfo.split('\n').filter(Boolean).map((line) => {
    const [left = '', right = ''] = line.split(' - ');
    const f = left.split(' ');
    const [fsType = '', source = ''] = right.split(' ');
    return { root: f[3] ?? '', mountPoint: f[4] ?? '', options: f[5] ?? '', fsType, source };
  });
}

function expectUnprivileged(status: string): void {
  const s = statusFields(status);
  expect(s.CapEff).toBe('0000000000000000');
  expect(s.CapPrm).toBe('0000000000000000');
  expect(s.CapInh).toBe('0000000000000000');
  expect(s.CapAmb).toBe('0000000000000000');
  expect(s.NoNewPrivs).toBe('1');
  // Mode 2: a seccomp filter is installed (Docker's default profile).
  expect(s.Seccomp).toBe('2');
  const uids = (s.Uid ?? '').split(/\s+/);
  expect(uids).toEqual(['10001', '10001', '10001', '10001']);
  expect((s.Gid ?? '').split(/\s+/)).toEqual(['10001', '10001', '10001', '10001']);
}

/** What a function can learn of the host's load, CPU counters and memory, through files and through the runtime's own APIs. */
const NODE_HOST_COUNTERS = `
const fs = require('node:fs');
const os = require('node:os');
const read = (p) => { try { return fs.readFileSync(p, 'utf8'); } catch (err) { return err.code; } };
exports.handler = async () => ({
  loadavg: read('/proc/loadavg'),
  stat: read('/proc/stat'),
  meminfo: read('/proc/meminfo'),
  kcore: read('/proc/kcore').slice(0, 16),
  timerList: read('/proc/timer_list'),
  others: Object.fromEntries(['/proc/pressure/cpu', '/proc/vmstat', '/proc/interrupts', '/proc/softirqs', '/proc/diskstats', '/proc/uptime'].map((p) => [p, read(p).slice(0, 16)])),
  uptime: os.uptime(),
  cpus: os.cpus().length,
  availableParallelism: os.availableParallelism(),
  totalmem: os.totalmem(),
});
`;

const PYTHON_HOST_COUNTERS = `
import multiprocessing, os

def handler(event, context):
    with open("/proc/meminfo") as f:
        meminfo = f.read()
    with open("/proc/loadavg") as f:
        loadavg = f.read()
    return {"cpuCount": os.cpu_count(), "mpCpuCount": multiprocessing.cpu_count(), "meminfo": meminfo, "loadavg": loadavg}
`;

describe('sandbox isolation', () => {
  let platform: Platform;
  beforeAll(async () => {
    platform = await startPlatform();
  });
  afterAll(async () => {
    await platform?.stop();
  });

  it('a Node function runs unprivileged: no capabilities, no-new-privileges, seccomp, uid 10001', async () => {
    const name = uniqueName('iso-node');
    await deployFunction(platform, name, { 'index.js': NODE_PROBE }, { runtime: 'nodejs20', timeoutMs: 10_000 });
    const res = await call(platform, name, {});
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expectUnprivileged(res.body.status);
  });

  it('a Python function runs unprivileged and cannot write outside /tmp either', async () => {
    const name = uniqueName('iso-py');
    await deployFunction(platform, name, { 'main.py': PYTHON_PROBE }, { runtime: 'python3' });
    const res = await call(platform, name, {});
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expectUnprivileged(res.body.status);
    expect(res.body.writes).toEqual({ root: 'EROFS', task: 'EROFS', tmp: 'ok' });
  });

  it('the root filesystem and /var/task are read-only; /tmp is writable', async () => {
    const name = uniqueName('iso-fs');
    await deployFunction(platform, name, { 'index.js': NODE_PROBE }, { runtime: 'nodejs20', timeoutMs: 10_000 });
    const res = await call(platform, name, {});
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.writes).toEqual({ root: 'EROFS', task: 'EROFS', taskMkdir: 'EROFS', etc: 'EROFS', tmp: 'ok' });
    expect(res.body.tmpRead).toBe('x');
    const mounts = mountsOf(res.body.mountinfo);
    const byPoint = (point: string) => mounts.filter((m) => m.mountPoint === point);
    expect(byPoint('/')[0]?.options).toMatch(/^ro\b/);
    expect(byPoint('/var/task')).toHaveLength(1);
    expect(byPoint('/var/task')[0]?.options).toMatch(/^ro\b/);
    expect(byPoint('/tmp')[0]).toMatchObject({ fsType: 'tmpfs' });
  });

  it('sees only its own code: /var/task holds its files, no other code directory is mounted or findable, no Docker socket', async () => {
    const mine = uniqueName('iso-mine');
    const theirs = uniqueName('iso-theirs');
    const secret = `secret-${theirs}`;
    await deployFunction(platform, theirs, { 'index.js': NODE_PROBE, [`${secret}.js`]: 'module.exports = "theirs";' }, { runtime: 'nodejs20', timeoutMs: 10_000 });
    await deployFunction(platform, mine, { 'index.js': NODE_PROBE, 'lib/mine.js': 'module.exports = "mine";' }, { runtime: 'nodejs20', timeoutMs: 10_000 });

    // The other function runs first, so its code is unpacked on the host and its container is alive.
    const other = await call(platform, theirs, {});
    expect(other.status).toBe(200);
    expect(other.body.task).toEqual(['index.js', `${secret}.js`]);

    const res = await call(platform, mine, { needles: [secret, 'mine.js'] });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const probe = res.body;
    expect(probe.task).toEqual(['index.js', 'lib', 'lib/mine.js']);
    // The whole filesystem was walked: its own file is found, the other function's is nowhere.
    expect(probe.matches).toEqual(['/var/task/lib/mine.js']);
    // The only socket file is the probe's own: never the Docker socket (and the worker
    // removes the agent's socket file once the agent has connected).
    expect(probe.sockets).toEqual(['/tmp/probe.sock']);
    expect(probe.dockerSockets).toEqual([]);

    // Host directories mounted in: exactly its own task and socket directories, side by side.
    const mounts = mountsOf(probe.mountinfo);
    const fromWorker = mounts.filter((m) => m.root.includes(`/sandboxes/${platform.workerId}/`));
    expect(fromWorker.map((m) => m.mountPoint).sort()).toEqual(['/run/hearth', '/var/task']);
    const task = fromWorker.find((m) => m.mountPoint === '/var/task')!;
    const sock = fromWorker.find((m) => m.mountPoint === '/run/hearth')!;
    expect(task.root).toMatch(/\/task$/);
    expect(sock.root).toBe(task.root.replace(/\/task$/, '/sock'));
    // Not the worker's code cache, not the sandboxes directory, not the other function's sandbox.
    expect(mounts.filter((m) => /\/code(\/|$)/.test(m.root))).toEqual([]);
    const theirTask = mountsOf(other.body.mountinfo).find((m) => m.mountPoint === '/var/task')!;
    expect(theirTask.root).not.toBe(task.root);
    expect(mounts.map((m) => m.root)).not.toContain(theirTask.root);
    expect(mounts.filter((m) => m.root.includes('docker.sock'))).toEqual([]);
  });
  it('host-wide /proc counters (loadavg, stat, meminfo) are static stand-ins; Node and Python still see their CPUs and memory', async () => {
    const node = uniqueName('iso-proc');
    await deployFunction(platform, node, { 'index.js': NODE_HOST_COUNTERS }, { runtime: 'nodejs20', memoryMb: 128 });
    const res = await call(platform, node, {});
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const seen = res.body;
    // Nothing that moves with a neighbour's cold start: no load, no CPU times, no forks, no boot time, no host memory.
    expect(seen.loadavg).toBe('0.00 0.00 0.00 1/1 1\n');
    expect(seen.stat, seen.stat).toMatch(/^btime 0$/m);
    expect(seen.stat).toMatch(/^processes 0$/m);
    expect(seen.stat.split('\n').filter((l: string) => /^cpu/.test(l)).filter((l: string) => !/^cpu\d* +0( 0){9}$/.test(l))).toEqual([]);
    expect(seen.meminfo).toMatch(/^MemTotal:\s+131072 kB$/m);
    // Docker's own masked paths still apply.
    expect(seen.kcore).toMatch(/^(|E[A-Z]+)$/);
    expect(seen.timerList).toBe('');
    // Other host-wide counters (pressure stall, VM, interrupts, disks, host idle time) are masked: empty or absent.
    for (const [path, text] of Object.entries(seen.others as Record<string, string>)) expect(text, path).toMatch(/^(|E[A-Z]+)$/);
    expect(seen.uptime).toBeGreaterThan(0);
    // os.cpus() still lists the CPUs (an empty /proc/stat would make it [] and break pool sizing), and memory is the limit.
    expect(seen.cpus).toBeGreaterThan(0);
    expect(seen.cpus).toBe(seen.availableParallelism);
    expect(seen.totalmem).toBe(128 * 1024 * 1024);

    const py = uniqueName('iso-proc-py');
    await deployFunction(platform, py, { 'main.py': PYTHON_HOST_COUNTERS }, { runtime: 'python3', memoryMb: 128 });
    const pyRes = await call(platform, py, {});
    expect(pyRes.status, JSON.stringify(pyRes.body)).toBe(200);
    expect(pyRes.body.cpuCount).toBeGreaterThan(0);
    expect(pyRes.body.mpCpuCount).toBe(pyRes.body.cpuCount);
    expect(pyRes.body.loadavg).toBe('0.00 0.00 0.00 1/1 1\n');
    expect(pyRes.body.meminfo).toMatch(/^MemTotal:\s+131072 kB$/m);
  });
});
