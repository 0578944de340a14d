/**
 * Shared by the security suite: deploying a function from inline sources,
 * and calling it with the answer already read.
 */
import { expect } from 'vitest';
import { deploy, invoke, zipOf, type DeployFields } from '../helpers/packages.ts';
import type { Platform } from '../helpers/platform.ts';

/** Deploys `files` as a zip and expects `201`. */
export async function deployFunction(platform: Platform, name: string, files: Record<string, string>, fields: DeployFields): Promise<void> {
  const res = await deploy(platform, name, { bytes: await zipOf(files), filename: 'code.zip' }, fields);
  expect(res.status, await res.clone().text()).toBe(201);
}

export interface Called {
  status: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
  coldStart: string | null;
  startKind: string | null;
  invocationId: string | null;
}

/** A sync invoke with the JSON body read. */
export async function call(platform: Platform, name: string, event: unknown = {}): Promise<Called> {
  const res = await invoke(platform, name, event);
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: keep the text for the assertion message
  }
  return {
    status: res.status,
    body,
    coldStart: res.headers.get('x-cold-start'),
    startKind: res.headers.get('x-start-kind'),
    invocationId: res.headers.get('x-invocation-id'),
  };
}

/**
 * A Node handler that reports what the sandbox can reach: TCP connects
 * (`connected`, `timeout` when dropped silently, or the errno code), a DNS
 * lookup, an HTTPS GET, its interfaces; with `listen` it also keeps a TCP
 * server open on that port for later calls.
 */
export const NET_PROBE = `
const dns = require('node:dns').promises;
const fs = require('node:fs');
const https = require('node:https');
const net = require('node:net');
const os = require('node:os');

function connect(target, timeoutMs) {
  const at = target.lastIndexOf(':');
  return new Promise((resolve) => {
    const socket = net.connect({ host: target.slice(0, at), port: Number(target.slice(at + 1)) });
    const timer = setTimeout(() => { socket.destroy(); resolve('timeout'); }, timeoutMs);
    socket.once('connect', () => { clearTimeout(timer); socket.destroy(); resolve('connected'); });
    socket.once('error', (err) => { clearTimeout(timer); resolve(err.code || String(err)); });
  });
}

function httpsStatus(url, timeoutMs) {
  return new Promise((resolve) => {
    // The image's trust store (a copy of the host's), as Node otherwise uses only its bundled CAs.
    const ca = fs.readFileSync('/etc/ssl/certs/ca-certificates.crt');
    const req = https.get(url, { timeout: timeoutMs, ca }, (res) => { res.resume(); resolve(res.statusCode); });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (err) => resolve(err.code || err.message));
  });
}

function read(path) {
  try { return fs.readFileSync(path, 'utf8'); } catch (err) { return err.code; }
}

let server;
exports.handler = async (event) => {
  if (event.listen && !server) {
    server = net.createServer((socket) => socket.end('hello'));
    await new Promise((resolve) => server.listen(event.listen, '0.0.0.0', resolve));
  }
  const timeoutMs = event.timeoutMs || 2000;
  const results = await Promise.all((event.targets || []).map(async (t) => [t, await connect(t, timeoutMs)]));
  return {
    interfaces: fs.readdirSync('/sys/class/net').sort(),
    netDev: read('/proc/net/dev').split('\\n').slice(2).map((l) => l.split(':')[0].trim()).filter(Boolean).sort(),
    ipv4: Object.values(os.networkInterfaces()).flat().filter((a) => a.family === 'IPv4' && !a.internal).map((a) => a.address),
    ipv6: read('/proc/net/if_inet6'),
    resolvConf: read('/etc/resolv.conf'),
    connect: Object.fromEntries(results),
    lookup: event.lookup ? await dns.lookup(event.lookup, { family: 4 }).then((r) => r.address, (err) => err.code) : null,
    https: event.https ? await httpsStatus(event.https, timeoutMs * 2) : null,
  };
};
`;
