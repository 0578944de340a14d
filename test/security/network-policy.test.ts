/**
 * What a function can reach over the network, observed from inside real
 * sandboxes: a default function has no interface but loopback; an `egress`
 * function reaches the internet but never the host, private ranges, cloud
 * metadata or another sandbox.
 *
 * "timeout" below means the SYN was silently dropped by the host firewall
 * (worker/engine/egress-network.ts). Without those rules the same connects answer:
 * `ECONNREFUSED` from a host address where nothing listens on it, or
 * `connected` (this test's own listener binds every host address).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { lookup } from 'node:dns/promises';
import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import { uniqueName } from '../helpers/packages.ts';
import { startPlatform, type Platform } from '../helpers/platform.ts';
import { EGRESS_GATEWAY, EGRESS_SUBNET, dockerResolvers, hostIpv4Addresses } from '../../worker/engine/egress-network.ts';
import { NET_PROBE, call, deployFunction } from './security-harness.ts';

const INTERNET_HOST = 'registry.npmjs.org';
const DOCKER_TCP_PORT = 2375;

/** Every IPv4 address of this host but loopback (down bridges and the egress gateway included). */
async function hostAddresses(): Promise<string[]> {
  const ips = (await hostIpv4Addresses()).map((a) => a.address).filter((ip) => !ip.startsWith('127.'));
  expect(ips).toContain(EGRESS_GATEWAY);
  return ips;
}

/** The host's default IPv4 gateway (a neighbour on its own network), from /proc/net/route. */
function defaultGateway(): string | null {
  for (const line of readFileSync('/proc/net/route', 'utf8').split('\n').slice(1)) {
    const [, destination, gateway] = line.trim().split(/\s+/);
    if (destination === '00000000' && gateway && gateway !== '00000000') {
      const n = Number.parseInt(gateway, 16);
      return [0, 8, 16, 24].map((shift) => (n >>> shift) & 255).join('.');
    }
  }
  return null;
}

const isPrivate = (ip: string) => /^(10\.|127\.|169\.254\.|192\.168\.|172\.(1[6-9]|2\d|3[01])\.|100\.(6[4-9]|[7-9]\d|1[01]\d|12[0-7])\.)/.test(ip);

describe('network policy', () => {
  let platform: Platform;
  let listener: Server;
  let listenerConnections = 0;
  let ports: { redis: number; postgres: number; gateway: number; listener: number; docker: number };
  let internetIp: string;

  beforeAll(async () => {
    platform = await startPlatform();
    // A service on every host address: reachable from a sandbox unless the firewall drops it.
    listener = createServer((socket) => {
      listenerConnections += 1;
      socket.end('host');
    });
    await new Promise<void>((resolve) => listener.listen(0, '0.0.0.0', resolve));
    ports = {
      redis: Number(new URL(inject('redisUrl')).port || 6379),
      postgres: Number(new URL(inject('databaseUrl')).port || 5432),
      gateway: Number(new URL(platform.url).port),
      listener: (listener.address() as { port: number }).port,
      docker: DOCKER_TCP_PORT,
    };
    internetIp = (await lookup(INTERNET_HOST, { family: 4 })).address;
  });
  afterAll(async () => {
    await new Promise((resolve) => listener?.close(resolve));
    await platform?.stop();
  });

  const hostTargets = async () => (await hostAddresses()).flatMap((ip) => Object.values(ports).map((port) => `${ip}:${port}`));

  it('a default function has only loopback: the host, its services and the internet are unreachable', async () => {
    const name = uniqueName('net-none');
    await deployFunction(platform, name, { 'index.js': NET_PROBE }, { runtime: 'nodejs20', timeoutMs: 10_000 });
    const loopback = Object.values(ports).map((port) => `127.0.0.1:${port}`);
    const elsewhere = [...(await hostTargets()), '169.254.169.254:80', `${internetIp}:443`];
    const res = await call(platform, name, { targets: [...loopback, ...elsewhere], lookup: INTERNET_HOST });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const probe = res.body;

    expect(probe.interfaces).toEqual(['lo']);
    expect(probe.netDev).toEqual(['lo']);
    expect(probe.ipv4).toEqual([]);
    // 127.0.0.1 is the sandbox's own loopback: nothing of the host's listens there.
    for (const target of loopback) expect(probe.connect[target], target).toBe('ECONNREFUSED');
    for (const target of elsewhere) expect(probe.connect[target], target).toBe('ENETUNREACH');
    expect(probe.lookup).not.toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    expect(listenerConnections).toBe(0);
  });

  describe('an egress function', () => {
    let egress: string;
    beforeAll(async () => {
      egress = uniqueName('net-egress');
      await deployFunction(platform, egress, { 'index.js': NET_PROBE }, { runtime: 'nodejs20', timeoutMs: 15_000, network: 'egress' });
    });

    it('reaches the internet by name: DNS through Docker\'s resolver, TCP and HTTPS to the npm registry', async () => {
      const res = await call(platform, egress, { targets: [`${internetIp}:443`], lookup: INTERNET_HOST, https: `https://${INTERNET_HOST}/-/ping` });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      const probe = res.body;
      expect(probe.interfaces).toEqual(['eth0', 'lo']);
      expect(probe.ipv4).toHaveLength(1);
      expect(probe.ipv4[0]).toMatch(new RegExp(`^${EGRESS_SUBNET.split('.').slice(0, 3).join('\\.')}\\.`));
      // IPv4 only: the network has no IPv6, so no address at all (not even link-local).
      expect(['', 'ENOENT']).toContain(probe.ipv6);
      expect(probe.resolvConf).toMatch(/^nameserver 127\.0\.0\.11$/m);
      expect(probe.lookup).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
      expect(probe.connect[`${internetIp}:443`]).toBe('connected');
      expect(probe.https).toBe(200);
    });

    it('cannot reach the host: Redis, Postgres, the gateway, dockerd or any listener, on any host address', async () => {
      const targets = await hostTargets();
      const res = await call(platform, egress, { targets: [...targets, `127.0.0.1:${ports.redis}`, `${internetIp}:443`] });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      const probe = res.body;
      for (const target of targets) expect(probe.connect[target], target).toBe('timeout');
      expect(probe.connect[`127.0.0.1:${ports.redis}`]).toBe('ECONNREFUSED');
      // The same call still reaches the internet: the drops are the firewall's, not a dead network.
      expect(probe.connect[`${internetIp}:443`]).toBe('connected');
      expect(listenerConnections).toBe(0);
    });

    it('cannot reach private ranges, cloud metadata or the host\'s own network', async () => {
      const gateway = defaultGateway();
      const targets = ['10.1.2.3:80', '172.16.5.5:80', '192.168.1.1:80', '100.64.0.1:80', '169.254.169.254:80'];
      if (gateway && !isPrivate(gateway)) targets.push(`${gateway}:80`);
      const res = await call(platform, egress, { targets: [...targets, `${internetIp}:443`] });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      for (const target of targets) expect(res.body.connect[target], target).toBe('timeout');
      expect(res.body.connect[`${internetIp}:443`]).toBe('connected');
    });

    const privateResolvers = dockerResolvers().filter(isPrivate).filter((ip) => !ip.startsWith('127.'));
    it.runIf(privateResolvers.length > 0)('may talk to the host\'s private DNS resolver on port 53 only', async () => {
      const targets = privateResolvers.flatMap((ip) => [`${ip}:53`, `${ip}:80`, `${ip}:443`]);
      const res = await call(platform, egress, { targets });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      for (const ip of privateResolvers) {
        expect(res.body.connect[`${ip}:53`], `${ip}:53`).toBe('connected');
        expect(res.body.connect[`${ip}:80`], `${ip}:80`).toBe('timeout');
        expect(res.body.connect[`${ip}:443`], `${ip}:443`).toBe('timeout');
      }
    });

    it('cannot reach another egress function\'s container (no inter-container traffic)', async () => {
      const server = uniqueName('net-peer');
      await deployFunction(platform, server, { 'index.js': NET_PROBE }, { runtime: 'nodejs20', timeoutMs: 15_000, network: 'egress' });
      const listening = await call(platform, server, { listen: 8080 });
      expect(listening.status, JSON.stringify(listening.body)).toBe(200);
      const peer = `${listening.body.ipv4[0]}:8080`;
      const closed = `${listening.body.ipv4[0]}:8081`;
      // The peer's server answers on its egress address (from the peer itself), a closed port refuses.
      const self = await call(platform, server, { targets: [peer, closed] });
      expect(self.body.connect).toEqual({ [peer]: 'connected', [closed]: 'ECONNREFUSED' });

      // From another egress sandbox both are silently dropped: no answer, not even a refusal.
      const res = await call(platform, egress, { targets: [peer, closed, `${internetIp}:443`] });
      expect(res.body.connect[peer]).toBe('timeout');
      expect(res.body.connect[closed]).toBe('timeout');
      expect(res.body.connect[`${internetIp}:443`]).toBe('connected');
    });
  });

  it('the host firewall holds the planned rules, DNS exceptions ahead of the drops', () => {
    const input = execFileSync('iptables', ['-S', 'INPUT'], { encoding: 'utf8' });
    expect(input).toMatch(/^-A INPUT -i hearth-egress0 -j DROP$/m);
    const user = execFileSync('iptables', ['-S', 'DOCKER-USER'], { encoding: 'utf8' }).split('\n');
    const firstDrop = user.findIndex((l) => l.includes('-i hearth-egress0 -j DROP'));
    const lastReturn = user.findLastIndex((l) => l.includes('-i hearth-egress0') && l.endsWith('-j RETURN'));
    expect(firstDrop).toBeGreaterThan(-1);
    expect(lastReturn).toBeLessThan(firstDrop);
    for (const range of ['0.0.0.0/8', '10.0.0.0/8', '100.64.0.0/10', '127.0.0.0/8', '169.254.0.0/16', '172.16.0.0/12', '192.168.0.0/16', '224.0.0.0/4']) {
      expect(user, range).toContain(`-A DOCKER-USER -d ${range} -i hearth-egress0 -j DROP`);
    }
  });
});
