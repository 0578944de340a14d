/**
 * The sandbox is hostile: functions written as a hostile tenant would write
 * them, against a real stack. They print bytes Postgres refuses, reach the
 * agent's own socket and write forged frames (logs over the cap, any
 * duration, another call's id, garbage, a result nested too deeply to
 * serialise), and try to fill the host's disk through the socket directory.
 * None of it may lose, duplicate or poison another call's record, be billed
 * by the tenant's own figures, or be blamed on the platform.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOG_CAP_BYTES } from '../../worker/sandbox/agent-protocol.ts';
import { SANDBOX_LABELS } from '../../worker/engine/container-runtime.ts';
import { invoke, uniqueName } from '../helpers/packages.ts';
import { recordOf, startPlatform, type Platform } from '../helpers/platform.ts';
import { pollHealth } from '../helpers/health-poll.ts';
import { waitFor } from '../helpers/wait.ts';
import { call, deployFunction } from './security-harness.ts';

/** A Node function that can do, on request, what a hostile tenant would. */
const NODE_HOSTILE = `
const fs = require('node:fs');
const net = require('node:net');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
/** The agent's connection to the worker: it shares this process. */
function agentSocket() {
  return process._getActiveHandles().find((h) => h instanceof net.Socket && !h._isStdio && h.writable);
}
function frame(body) {
  const bytes = Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
  const head = Buffer.alloc(4);
  head.writeUInt32BE(bytes.length);
  return Buffer.concat([head, bytes]);
}
exports.handler = async (event, context) => {
  const id = context.awsRequestId;
  switch (event.mode) {
    case 'nul':
      console.log('bad \\u0000 byte and a lone \\ud800 surrogate');
      return { nul: '\\u0000' };
    case 'nul-throw':
      throw new Error('message with \\u0000 in it');
    case 'forge-logs':
      agentSocket().write(frame({ type: 'invokeResult', id, ok: true, result: { forged: true, host: require('os').hostname() }, durationMs: event.durationMs,
        logs: 'L'.repeat(8 * 1024 * 1024), logsTruncated: false }));
      // The agent's own answer follows at once: unasked-for, so it ends this container.
      return 'real';
    case 'other-id':
      agentSocket().write(frame({ type: 'invokeResult', id: '00000000-0000-4000-8000-000000000000', ok: true, result: 'stolen', logs: '', logsTruncated: false }));
      await sleep(2000);
      return 'real';
    case 'garbage':
      agentSocket().write(Buffer.concat([Buffer.from([0, 0, 0, 5]), Buffer.from('{{{{{')]));
      await sleep(2000);
      return 'real';
    case 'flat-frame':
      agentSocket().write(frame('{"type":"invokeResult","id":' + JSON.stringify(id) + ',"ok":true,"logs":"","logsTruncated":false,"result":['
        + Array(4000000).fill('[]').join(',') + ']}'));
      await sleep(2000);
      return 'real';
    case 'flood': {
      // Forty 12 MB frames at once: only the first may be read; the worker must not buffer the rest.
      const one = frame('{"type":"invokeResult","id":' + JSON.stringify(id) + ',"ok":true,"logs":"","logsTruncated":false,"result":['
        + Array(4000000).fill('[]').join(',') + ']}');
      for (let n = 0; n < 40; n++) agentSocket().write(one);
      await sleep(5000);
      return 'real';
    }
    case 'huge-frame':
      agentSocket().write(Buffer.from([0xff, 0xff, 0xff, 0xff]));
      await sleep(2000);
      return 'real';
    case 'deep-result':
      agentSocket().write(frame('{"type":"invokeResult","id":' + JSON.stringify(id) + ',"ok":true,"logs":"","logsTruncated":false,"result":'
        + '['.repeat(event.depth) + ']'.repeat(event.depth) + '}'));
      await sleep(2000);
      return 'real';
    case 'socket-dir': {
      const tries = {};
      for (const path of ['/run/hearth/fill', '/run/hearth/.hidden']) {
        try { fs.writeFileSync(path, Buffer.alloc(1024 * 1024)); tries[path] = 'written'; } catch (err) { tries[path] = err.code; }
      }
      try { fs.mkdirSync('/run/hearth/sub'); tries.mkdir = 'made'; } catch (err) { tries.mkdir = err.code; }
      try { fs.unlinkSync('/run/hearth/agent.sock'); tries.unlink = 'removed'; } catch (err) { tries.unlink = err.code; }
      return tries;
    }
    default:
      return { clean: event.n ?? null };
  }
};
`;

const PY_HOSTILE = `
import json, struct, time
import __main__

def frame(obj):
    body = json.dumps(obj).encode()
    return struct.pack('>I', len(body)) + body

def handler(event, context):
    mode = event.get('mode')
    if mode == 'nul':
        print('python \\x00 nul')
        return {'nul': '\\x00'}
    if mode == 'forge':
        __main__._sock.sendall(frame({'type': 'invokeResult', 'id': context.aws_request_id, 'ok': True, 'result': 'forged',
                                      'durationMs': -5, 'logs': 'P' * (4 * 1024 * 1024), 'logsTruncated': False}))
        time.sleep(0.2)
        return 'real'
    if mode == 'other-id':
        __main__._sock.sendall(frame({'type': 'invokeResult', 'id': 'x', 'ok': True, 'result': 1, 'logs': '', 'logsTruncated': False}))
        time.sleep(2)
        return 'real'
    return {'clean': True}
`;

let platform: Platform;
const node = uniqueName('hostile-node');
const clean = uniqueName('clean-neighbour');
const py = uniqueName('hostile-py');

beforeAll(async () => {
  platform = await startPlatform();
  await Promise.all([
    deployFunction(platform, node, { 'index.js': NODE_HOSTILE }, { runtime: 'nodejs20', handler: 'index.handler', timeoutMs: 5000 }),
    deployFunction(platform, clean, { 'index.js': NODE_HOSTILE }, { runtime: 'nodejs20', handler: 'index.handler' }),
    deployFunction(platform, py, { 'main.py': PY_HOSTILE }, { runtime: 'python3', handler: 'main.handler', timeoutMs: 5000 }),
  ]);
}, 120_000);

afterAll(async () => {
  await platform?.stop();
});

async function recordsOf(name: string): Promise<Array<{ id: string; status: string; logs: string; error_code: string | null }>> {
  const { rows } = await platform.database.db.$client.query(
    `select i.id, i.status, i.logs, i.error_code from invocations i join functions f on f.id = i.function_id where f.name = $1`,
    [name],
  );
  return rows;
}

/** How many containers the worker holds for function `name`. */
async function containerIdsOf(name: string): Promise<string[]> {
  const list = await platform.docker.listContainers({ all: true, filters: { label: [`${SANDBOX_LABELS.functionName}=${name}`] } });
  return list.map((c) => c.Id);
}

describe('a hostile tenant beside a clean one', () => {
  it('NUL bytes in output and errors lose, fail and duplicate nothing, its own calls included', async () => {
    const calls: Array<Promise<{ name: string; status: number; id: string | null }>> = [];
    for (let n = 0; n < 40; n++) {
      calls.push(call(platform, clean, { n }).then((c) => ({ name: clean, status: c.status, id: c.invocationId })));
      calls.push(call(platform, node, { mode: n % 2 ? 'nul' : 'nul-throw' }).then((c) => ({ name: node, status: c.status, id: c.invocationId })));
    }
    const answers = await Promise.all(calls);
    expect(answers.filter((a) => a.name === clean).map((a) => a.status)).toEqual(Array(40).fill(200));
    expect(answers.filter((a) => a.name === node && a.status === 200)).toHaveLength(20);
    expect(answers.filter((a) => a.name === node && a.status === 502)).toHaveLength(20);

    // Replies go out before the group commit writes the records: wait for them.
    await waitFor('all 80 records', async () => (await recordsOf(clean)).length >= 40 && (await recordsOf(node)).length >= 40, 15_000, 50);
    const cleanRecords = await recordsOf(clean);
    expect(cleanRecords).toHaveLength(40);
    expect(new Set(cleanRecords.map((r) => r.id)).size).toBe(40);
    expect(cleanRecords.every((r) => r.status === 'succeeded')).toBe(true);
    const hostileRecords = await recordsOf(node);
    expect(hostileRecords).toHaveLength(40);
    expect(hostileRecords.filter((r) => r.status === 'succeeded').every((r) => r.logs.includes('bad \uFFFD byte and a lone \uFFFD'))).toBe(true);
    expect(hostileRecords.filter((r) => r.status === 'failed').every((r) => r.error_code === 'FunctionError')).toBe(true);
  });

  it('an async call of a NUL-printing function runs once and is recorded succeeded, not dead-lettered', async () => {
    const res = await invoke(platform, node, { mode: 'nul' }, '?async=true');
    expect(res.status).toBe(202);
    const { invocationId } = await res.json();
    const record = await recordOf(platform, invocationId, 15_000);
    expect(record.status).toBe('succeeded');
    expect(record.result).toEqual({ nul: '\u0000' });
  });

  it('cannot write to the host disk through the socket directory', async () => {
    const res = await call(platform, node, { mode: 'socket-dir' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ '/run/hearth/fill': 'EACCES', '/run/hearth/.hidden': 'EACCES', mkdir: 'EACCES' });
    // Once the agent is connected the socket file is gone (the worker stops listening); either way it stays.
    expect(['EACCES', 'ENOENT']).toContain(res.body.unlink);
  });

  it('a forged result frame is capped and timed by the worker; the real one that follows ends that container', async () => {
    for (const durationMs of [5e9, -5, 'NaN']) {
      const res = await call(platform, node, { mode: 'forge-logs', durationMs });
      // The tenant may answer its own call early; that is all it gets.
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(res.body).toEqual({ forged: true, host: expect.any(String) });
      const record = await recordOf(platform, res.invocationId);
      expect(Buffer.byteLength(record.logs)).toBeLessThanOrEqual(LOG_CAP_BYTES);
      expect(record.logsTruncated).toBe(true);
      expect(record.timings.durationMs).toBeGreaterThanOrEqual(0);
      expect(record.timings.durationMs).toBeLessThan(5000);
      expect(record.timings.billedMs).toBeLessThan(5000);
      // The handler's own answer arrives right after, unasked-for: a protocol
      // violation, so that sandbox is destroyed rather than reused.
      // By its id (the container's host name), not a count taken now: it may already be gone.
      const host = res.body.host as string;
      expect(host).toMatch(/^[0-9a-f]{12}$/); // Docker's default host name: the id's first 12 digits
      await waitFor('the forging sandbox to be gone', async () => !(await containerIdsOf(node)).some((id) => id.startsWith(host)), 10_000, 50);
    }
    const next = await call(platform, node, {});
    expect(next.status).toBe(200);
    expect(next.body).toEqual({ clean: null });
    // Reading them back stays bounded: a page of logs is at most its calls × the cap.
    const page = await platform.api(`/v1/functions/${node}/logs?limit=50`);
    expect(page.status).toBe(200);
    const text = await page.text();
    const items = JSON.parse(text).items as unknown[];
    expect(Buffer.byteLength(text)).toBeLessThan(items.length * (LOG_CAP_BYTES * 1.1 + 1024));
  });

  it('answering for another invocation, garbage and oversized frames are the function crashing: not retried, container replaced', async () => {
    for (const mode of ['other-id', 'garbage', 'huge-frame']) {
      const res = await call(platform, node, { mode });
      expect(res.status, mode).toBe(502);
      expect(res.body.error, mode).toMatchObject({ code: 'FunctionCrashed', type: 'Runtime.ProtocolViolation' });
      const after = await call(platform, node, { n: 1 });
      expect(after.status).toBe(200);
      expect(after.body).toEqual({ clean: 1 });
    }
    const asyncRes = await invoke(platform, node, { mode: 'other-id' }, '?async=true');
    const { invocationId } = await asyncRes.json();
    const record = await recordOf(platform, invocationId, 15_000);
    expect(record.status).toBe('failed');
    expect(record.error).toMatchObject({ code: 'FunctionCrashed', type: 'Runtime.ProtocolViolation' });
  });

  it('a forged result nested too deeply to serialise is a MarshalError, not a platform failure', async () => {
    const res = await call(platform, node, { mode: 'deep-result', depth: 8000 });
    expect(res.status).toBe(502);
    expect(res.body.error).toMatchObject({ code: 'FunctionError', type: 'Runtime.MarshalError' });
  });

  it('a forged frame of a million nested arrays, too deep for the parsing thread, is a protocol violation', async () => {
    const res = await call(platform, node, { mode: 'deep-result', depth: 1_000_000 });
    expect(res.status).toBe(502);
    expect(res.body.error).toMatchObject({ code: 'FunctionCrashed', type: 'Runtime.ProtocolViolation' });
  });

  it('a forged 12 MB frame of four million empty arrays is parsed off the worker\'s event loop: /healthz never waits for it', async () => {
    const stop = pollHealth(platform.url);
    const res = await call(platform, node, { mode: 'flat-frame' });
    const health = await stop();
    console.log(`[hostile-tenant] 12 MB flat frame: ${res.status}; worst /healthz ${health.worstHealthMs} ms, worst loop delay ${health.worstLoopDelayMs} ms`);
    expect(res.status).toBe(502);
    expect(res.body.error).toMatchObject({ code: 'FunctionError', type: 'Runtime.ResponseSizeTooLarge' });
    expect(health.failures).toBe(0);
    // JSON.parse of this frame on the loop takes ~0.8 s on this machine.
    expect(health.worstHealthMs).toBeLessThan(250);
  });

  it('a sandbox flooding its socket with 480 MB of frames gets one read; the worker buffers none of the rest and a neighbour keeps answering', async () => {
    const before = process.memoryUsage().rss;
    let peak = before;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss);
    }, 20);
    const flood = call(platform, node, { mode: 'flood' });
    const neighbour: number[] = [];
    let done = false;
    void flood.finally(() => {
      done = true;
    });
    while (!done) neighbour.push((await call(platform, clean, { n: neighbour.length })).status);
    const res = await flood;
    clearInterval(sampler);
    const grewMiB = (peak - before) / 1024 / 1024;
    console.log(`[hostile-tenant] flood: ${res.status} ${res.body?.error?.type} ${res.body?.error?.message}; ${neighbour.length} neighbour calls meanwhile; test process RSS +${grewMiB.toFixed(0)} MiB at peak`);
    expect(res.status).toBe(502);
    expect(neighbour.every((s) => s === 200)).toBe(true);
    // One frame and its parse on the thread (~350 MB for four million arrays), not forty frames: without
    // the pause the worker read all 480 MB besides.
    expect(grewMiB).toBeLessThan(500);
  }, 60_000);

  it('the same holds for Python: NUL, forged frames from the agent module, another id', async () => {
    const nul = await call(platform, py, { mode: 'nul' });
    expect(nul.status).toBe(200);
    expect((await recordOf(platform, nul.invocationId)).logs).toContain('python \uFFFD nul');
    const forged = await call(platform, py, { mode: 'forge' });
    expect(forged.status).toBe(200);
    const record = await recordOf(platform, forged.invocationId);
    expect(Buffer.byteLength(record.logs)).toBeLessThanOrEqual(LOG_CAP_BYTES);
    expect(record.timings.durationMs).toBeGreaterThanOrEqual(0);
    const other = await call(platform, py, { mode: 'other-id' });
    expect(other.status).toBe(502);
    expect(other.body.error).toMatchObject({ code: 'FunctionCrashed', type: 'Runtime.ProtocolViolation' });
    expect((await call(platform, py, {})).body).toEqual({ clean: true });
  });

  it('reads its own writes: the record exists as soon as a sync call has answered', async () => {
    for (let i = 0; i < 20; i++) {
      const res = await call(platform, clean, { n: i });
      expect(res.status).toBe(200);
      const record = await platform.api(`/v1/invocations/${res.invocationId}`);
      expect((await record.json()).status).toBe('succeeded');
    }
  });
});
