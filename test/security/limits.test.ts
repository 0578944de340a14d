/**
 * Resource limits, hit on purpose from inside real sandboxes: the /tmp cap,
 * the pids limit (a fork bomb), the memory limit, open files and the
 * timeout. Each must stop the function cleanly, as a result or an error of
 * its own, and leave the platform (and its neighbours) serving.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uniqueName } from '../helpers/packages.ts';
import { recordOf, startPlatform, type Platform } from '../helpers/platform.ts';
import { waitFor } from '../helpers/wait.ts';
import { call, deployFunction } from './security-harness.ts';

const MiB = 1024 * 1024;
/** The sandbox limits set by worker/engine/docker-container-runtime.ts. */
const TMP_MB = 64;
const PIDS_LIMIT = 64;
const NOFILE = 1024;

const TMP_FILL = `
const fs = require('node:fs');
exports.handler = async (event) => {
  if (event.mode === 'fill') {
    // Files of 16 MiB each, so the filesystem cap (ENOSPC) is met before the per-file one (EFBIG).
    const chunk = Buffer.alloc(1024 * 1024, 7);
    let written = 0;
    let error = null;
    for (let i = 0; i < 8 && !error; i++) {
      const fd = fs.openSync('/tmp/fill-' + i, 'w');
      try {
        for (let j = 0; j < 16; j++) written += fs.writeSync(fd, chunk);
      } catch (err) {
        error = err.code;
      } finally {
        fs.closeSync(fd);
      }
    }
    return { written, error };
  }
  if (event.mode === 'one-file') {
    const chunk = Buffer.alloc(1024 * 1024, 7);
    let written = 0;
    let error = null;
    const fd = fs.openSync('/tmp/big', 'w');
    try {
      for (let j = 0; j < 100; j++) written += fs.writeSync(fd, chunk);
    } catch (err) {
      error = err.code;
    } finally {
      fs.closeSync(fd);
    }
    fs.rmSync('/tmp/big');
    return { written, error };
  }
  const stat = fs.statfsSync('/tmp');
  const files = fs.readdirSync('/tmp').sort();
  for (const f of files) fs.rmSync('/tmp/' + f);
  return { files, sizeBytes: stat.blocks * stat.bsize, freeBytes: stat.bavail * stat.bsize };
};
`;

const PY_FORK_BOMB = `
import errno, os, time

def handler(event, context):
    pids = []
    error = None
    try:
        while len(pids) < 1000:
            pid = os.fork()
            if pid == 0:
                time.sleep(60)
                os._exit(0)
            pids.append(pid)
    except OSError as e:
        error = errno.errorcode.get(e.errno, str(e.errno))
    spawned = len(pids)
    time.sleep(event.get("holdSeconds", 0))
    for pid in pids:
        os.kill(pid, 9)
    for pid in pids:
        os.waitpid(pid, 0)
    return {"spawned": spawned, "error": error}
`;

const NODE_SPAWN_BOMB = `
const { spawn } = require('node:child_process');
exports.handler = async () => {
  const children = [];
  let error = null;
  while (!error && children.length < 1000) {
    const child = spawn('/usr/bin/node', ['-e', 'setInterval(() => {}, 1e6)'], { stdio: 'ignore' });
    error = await new Promise((resolve) => {
      child.once('spawn', () => resolve(null));
      child.once('error', (err) => resolve(err.code || String(err)));
    });
    if (!error) children.push(child);
  }
  const spawned = children.length;
  await Promise.all(children.map((c) => new Promise((resolve) => { c.once('exit', resolve); c.kill('SIGKILL'); })));
  return { spawned, error };
};
`;

const MEMORY_HOG = `
exports.handler = async (event) => {
  if (event.mode !== 'hog') return { ok: true };
  const keep = [];
  for (;;) keep.push(Buffer.alloc(8 * 1024 * 1024, 1));
};
`;

const FILE_OPENER = `
const fs = require('node:fs');
exports.handler = async () => {
  const fds = [];
  let error = null;
  try {
    for (;;) fds.push(fs.openSync('/dev/null', 'r'));
  } catch (err) {
    error = err.code;
  }
  const opened = fds.length;
  for (const fd of fds) fs.closeSync(fd);
  const limits = fs.readFileSync('/proc/self/limits', 'utf8').split('\\n').find((l) => l.startsWith('Max open files'));
  return { opened, error, limits };
};
`;

const SLEEPER = `
exports.handler = async (event) => {
  await new Promise((resolve) => setTimeout(resolve, event.sleepMs));
  return 'woke';
};
`;

describe('resource limits', () => {
  let platform: Platform;
  beforeAll(async () => {
    platform = await startPlatform();
  });
  afterAll(async () => {
    await platform?.stop();
  });

  it(`/tmp is writable up to its ${TMP_MB} MB cap (ENOSPC), and the next call of the same function still works`, async () => {
    const name = uniqueName('lim-tmp');
    // tmpfs pages count against the memory limit: leave room for them.
    await deployFunction(platform, name, { 'index.js': TMP_FILL }, { runtime: 'nodejs20', memoryMb: 256, timeoutMs: 20_000 });
    const filled = await call(platform, name, { mode: 'fill' });
    expect(filled.status, JSON.stringify(filled.body)).toBe(200);
    expect(filled.body.error).toBe('ENOSPC');
    expect(filled.body.written).toBeGreaterThan((TMP_MB - 2) * MiB);
    expect(filled.body.written).toBeLessThanOrEqual(TMP_MB * MiB);

    const after = await call(platform, name, { mode: 'report' });
    expect(after.status, JSON.stringify(after.body)).toBe(200);
    expect(after.coldStart).toBe('false');
    expect(after.body.files).toEqual(['fill-0', 'fill-1', 'fill-2', 'fill-3', 'fill-4']);
    expect(after.body.sizeBytes).toBe(TMP_MB * MiB);
    expect(after.body.freeBytes).toBeLessThan(MiB);

    // A single file stops at the same size: the per-file limit (fsize) equals the /tmp size.
    const one = await call(platform, name, { mode: 'one-file' });
    expect(one.status, JSON.stringify(one.body)).toBe(200);
    expect(['EFBIG', 'ENOSPC']).toContain(one.body.error);
    expect(one.body.written).toBe(TMP_MB * MiB);
  });

  it(`a fork bomb stops at the pids limit (${PIDS_LIMIT}, EAGAIN) while a neighbouring function keeps answering`, async () => {
    const bomb = uniqueName('lim-fork');
    const neighbour = uniqueName('lim-neighbour');
    await deployFunction(platform, bomb, { 'main.py': PY_FORK_BOMB }, { runtime: 'python3', memoryMb: 256, timeoutMs: 20_000 });
    await deployFunction(platform, neighbour, { 'index.js': 'exports.handler = async () => "still here";' }, { runtime: 'nodejs20' });
    expect((await call(platform, neighbour)).body).toBe('still here');

    let bombDoneAt = 0;
    const bombCall = call(platform, bomb, { holdSeconds: 3 }).then((res) => {
      bombDoneAt = Date.now();
      return res;
    });
    // The neighbour is asked while the bomb's children are alive: once its container holds most of the pids limit.
    const processesOf = async (name: string) => {
      const [found] = await platform.docker.listContainers({ filters: { label: [`io.hearth.worker=${platform.workerId}`, `io.hearth.function=${name}`] } });
      return found ? ((await platform.docker.getContainer(found.Id).top()).Processes?.length ?? 0) : 0;
    };
    await waitFor('the bomb to fork', async () => (await processesOf(bomb)) > PIDS_LIMIT / 2, 20_000, 50);
    const answers: { status: number; body: unknown; at: number }[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await call(platform, neighbour);
      answers.push({ status: res.status, body: res.body, at: Date.now() });
    }
    const res = await bombCall;
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.error).toBe('EAGAIN');
    expect(res.body.spawned).toBeGreaterThan(PIDS_LIMIT / 2);
    expect(res.body.spawned).toBeLessThan(PIDS_LIMIT);
    // All three answers came while the bomb's processes were still alive.
    for (const a of answers) {
      expect(a).toMatchObject({ status: 200, body: 'still here' });
      expect(a.at).toBeLessThan(bombDoneAt);
    }
    // The bomb's own sandbox recovers once its children are gone.
    const again = await call(platform, bomb, { holdSeconds: 0 });
    expect(again.status).toBe(200);
    expect(again.coldStart).toBe('false');
  });

  it('a Node function spawning processes in a loop gets EAGAIN from spawn and answers', async () => {
    const name = uniqueName('lim-spawn');
    await deployFunction(platform, name, { 'index.js': NODE_SPAWN_BOMB }, { runtime: 'nodejs20', memoryMb: 1024, timeoutMs: 20_000 });
    const res = await call(platform, name);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.error).toBe('EAGAIN');
    expect(res.body.spawned).toBeGreaterThan(0);
    expect(res.body.spawned).toBeLessThan(PIDS_LIMIT);
  });

  it('allocating past the memory limit is FunctionOutOfMemory, and the container is not reused', async () => {
    const name = uniqueName('lim-oom');
    await deployFunction(platform, name, { 'index.js': MEMORY_HOG }, { runtime: 'nodejs20', memoryMb: 128, timeoutMs: 20_000 });
    const warm = await call(platform, name, { mode: 'ok' });
    expect(warm.status).toBe(200);

    const oom = await call(platform, name, { mode: 'hog' });
    expect(oom.status).toBe(502);
    expect(oom.body.error).toMatchObject({ code: 'FunctionOutOfMemory' });
    expect(oom.body.error.message).toContain('128 MB');
    const record = await recordOf(platform, oom.invocationId);
    expect(record).toMatchObject({ status: 'failed', error: { code: 'FunctionOutOfMemory' } });

    const next = await call(platform, name, { mode: 'ok' });
    expect(next.status).toBe(200);
    expect(next.coldStart).toBe('true');
    expect(next.startKind).toBe('cold');
  });

  it(`opening more than ${NOFILE} files fails with EMFILE`, async () => {
    const name = uniqueName('lim-files');
    await deployFunction(platform, name, { 'index.js': FILE_OPENER }, { runtime: 'nodejs20' });
    const res = await call(platform, name);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.error).toBe('EMFILE');
    expect(res.body.opened).toBeGreaterThan(NOFILE - 64);
    expect(res.body.opened).toBeLessThan(NOFILE);
    expect(res.body.limits).toMatch(new RegExp(`^Max open files\\s+${NOFILE}\\s+${NOFILE}\\s+files`));
  });

  it('running past the timeout is 504 FunctionTimeout naming the limit, and the container is replaced', async () => {
    const name = uniqueName('lim-timeout');
    await deployFunction(platform, name, { 'index.js': SLEEPER }, { runtime: 'nodejs20', timeoutMs: 1000 });
    const started = Date.now();
    const res = await call(platform, name, { sleepMs: 10_000 });
    expect(res.status).toBe(504);
    expect(res.body.error).toMatchObject({ code: 'FunctionTimeout' });
    expect(res.body.error.message).toContain('1000 ms');
    expect(Date.now() - started).toBeLessThan(5000);

    const next = await call(platform, name, { sleepMs: 0 });
    expect(next).toMatchObject({ status: 200, body: 'woke', coldStart: 'true' });
  });
});
