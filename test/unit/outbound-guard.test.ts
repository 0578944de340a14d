/**
 * The SSRF guard (`gateway/destinations/outbound-guard.ts`): every private,
 * loopback, link-local, shared, multicast and reserved address refused in
 * every spelling (decimal, octal, hex, IPv4-mapped and embedded IPv6), names
 * judged by every address they resolve to, the allow-list matched against
 * the host as written, `refuse` stronger than the allow-list, and the
 * pinned lookup answering the address that was checked. DNS is a fake.
 */
import type { LookupAddress } from 'node:dns';
import { describe, expect, it } from 'vitest';
import { refusedRange } from '../../gateway/destinations/address-ranges.ts';
import {
  STRICT_OUTBOUND,
  checkOutbound,
  normalHost,
  parseAllowHosts,
  pinnedLookup,
  servicesOf,
  type Lookup,
  type OutboundAllowed,
  type OutboundPolicy,
} from '../../gateway/destinations/outbound-guard.ts';

/** A resolver of fixed answers; an unknown name fails as ENOTFOUND. */
function fakeDns(table: Record<string, string[]>): Lookup & { asked: string[] } {
  const asked: string[] = [];
  const lookup = ((hostname: string, _options: { all: true }, callback: (err: NodeJS.ErrnoException | null, a: LookupAddress[]) => void) => {
    asked.push(hostname);
    const found = table[hostname];
    if (!found) {
      const err = Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
      queueMicrotask(() => callback(err, []));
      return;
    }
    queueMicrotask(() => callback(null, found.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }))));
  }) as Lookup & { asked: string[] };
  lookup.asked = asked;
  return lookup;
}

const DNS = fakeDns({
  'public.example': ['93.184.215.14'],
  'both.example': ['93.184.215.14', '10.1.2.3'],
  'rebind.example': ['127.0.0.1'],
  'v6.example': ['2606:2800:21f:cb07:6820:80da:af6b:8b2c'],
  'v6-private.example': ['fd00::1'],
  localhost: ['127.0.0.1', '::1'],
  'platform-redis': ['10.9.9.9'],
});

const check = (url: string, policy: OutboundPolicy = STRICT_OUTBOUND, lookup: Lookup = DNS) => checkOutbound(new URL(url), policy, lookup);
const refusedBecause = async (url: string, policy?: OutboundPolicy) => {
  const verdict = await check(url, policy);
  expect(verdict.ok, `${url} should be refused`).toBe(false);
  return verdict.ok ? '' : verdict.reason;
};

describe('address ranges', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['10.0.0.1', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['169.254.169.254', 'link-local'],
    ['0.0.0.0', 'this network'],
    ['100.64.0.1', 'carrier-grade NAT'],
    ['100.127.255.255', 'carrier-grade NAT'],
    ['224.0.0.1', 'multicast'],
    ['239.255.255.250', 'multicast'],
    ['255.255.255.255', 'broadcast'],
    ['198.18.0.1', 'benchmarking'],
    ['::1', 'loopback'],
    ['::', 'unspecified'],
    ['fc00::1', 'unique local'],
    ['fdff:ffff::1', 'unique local'],
    ['fe80::1', 'link-local'],
    ['fe80::1%eth0', 'link-local'],
    ['ff02::1', 'multicast'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['::ffff:169.254.169.254', 'link-local'],
    ['::ffff:a00:1', 'private'],
    ['64:ff9b::a9fe:a9fe', 'link-local'],
    ['2002:7f00:1::', 'loopback'],
    ['::7f00:1', 'IPv4-compatible'],
    ['::127.0.0.1', 'loopback'],
    ['2001::1', 'Teredo'],
  ])('refuses %s (%s)', (address, what) => {
    expect(refusedRange(address)).toContain(what);
  });

  it.each(['93.184.215.14', '8.8.8.8', '172.32.0.1', '100.128.0.1', '11.0.0.1', '2606:4700::1111', '::ffff:8.8.8.8', '64:ff9b::808:808'])(
    'lets public %s through',
    (address) => {
      expect(refusedRange(address)).toBeNull();
    },
  );

  it('refuses what is not an address at all', () => {
    expect(refusedRange('not-an-ip')).toContain('not an IP address');
  });
});

describe('host normalisation', () => {
  it.each([
    ['http://2130706433/', '127.0.0.1'],
    ['http://0x7f000001/', '127.0.0.1'],
    ['http://0177.0.0.1/', '127.0.0.1'],
    ['http://0x7f.1/', '127.0.0.1'],
    ['http://127.1/', '127.0.0.1'],
    ['redis://2130706433:6379', '127.0.0.1'],
    ['amqp://0x7f.0.0.1:5672', '127.0.0.1'],
    ['http://[::FFFF:127.0.0.1]/', '127.0.0.1'],
    ['http://[0:0:0:0:0:0:0:1]/', '::1'],
    ['http://EXAMPLE.com/', 'example.com'],
    ['nats://Example.COM:4222', 'example.com'],
  ])('reads %s as %s', (url, host) => {
    expect(normalHost(new URL(url))).toBe(host);
  });
});

describe('checkOutbound', () => {
  it.each([
    'http://127.0.0.1/',
    'http://2130706433/',
    'http://0x7f000001/',
    'http://017700000001/',
    'http://0177.0.0.1/',
    'http://127.1/',
    'http://[::1]/',
    'http://[::ffff:127.0.0.1]/',
    'http://[::ffff:7f00:1]/',
    'http://169.254.169.254/latest/meta-data/',
    'http://[::ffff:169.254.169.254]/',
    'http://0251.0376.0251.0376/',
    'http://10.0.0.1/',
    'http://192.168.0.10:8080/',
    'http://172.20.1.1/',
    'http://100.64.1.1/',
    'http://0.0.0.0/',
    'http://[::]/',
    'http://[fd12:3456::1]/',
    'http://[fe80::1]/',
    'http://224.0.0.251/',
    'redis://10.0.0.5:6379',
    'amqp://guest:guest@2130706433:5672',
    'nats://[::1]:4222',
  ])('refuses %s', async (url) => {
    expect(await refusedBecause(url)).toMatch(/is|carries/);
  });

  it('refuses a name that resolves to a private address, naming both', async () => {
    expect(await refusedBecause('http://rebind.example/hook')).toBe('rebind.example resolves to 127.0.0.1 is loopback (127.0.0.0/8)');
    expect(await refusedBecause('http://localhost:9000/')).toContain('loopback');
    expect(await refusedBecause('https://v6-private.example/')).toContain('unique local');
  });

  it('refuses a name when any one of its addresses is private', async () => {
    expect(await refusedBecause('https://both.example/')).toContain('10.1.2.3');
  });

  it('refuses a name that does not resolve, and a URL without a port it can tell', async () => {
    expect(await refusedBecause('https://nowhere.example/')).toContain('ENOTFOUND');
    expect(await refusedBecause('gopher://public.example/')).toContain('no port');
  });

  it('allows a public name and answers the address it checked, with the port', async () => {
    expect(await check('https://public.example/hook')).toEqual({ ok: true, host: 'public.example', port: 443, address: '93.184.215.14', family: 4 });
    expect(await check('http://public.example:8080/')).toMatchObject({ ok: true, port: 8080 });
    expect(await check('https://v6.example/')).toMatchObject({ ok: true, address: '2606:2800:21f:cb07:6820:80da:af6b:8b2c', family: 6 });
    expect(await check('redis://public.example')).toMatchObject({ ok: true, port: 6379 });
    expect(await check('amqps://public.example')).toMatchObject({ ok: true, port: 5671 });
  });

  it('allows an allow-listed host, by host or by host:port, however it is spelled in the URL', async () => {
    const policy = { allowHosts: ['127.0.0.1', '10.0.0.1:8080', '[::1]:9000', 'internal.example'], refuse: [] };
    expect(await check('http://127.0.0.1:4000/', policy)).toMatchObject({ ok: true, address: '127.0.0.1', port: 4000 });
    expect(await check('http://2130706433:4000/', policy)).toMatchObject({ ok: true, address: '127.0.0.1' });
    expect(await check('http://10.0.0.1:8080/', policy)).toMatchObject({ ok: true });
    expect(await refusedBecause('http://10.0.0.1:8081/', policy)).toContain('private');
    expect(await check('http://[::1]:9000/', policy)).toMatchObject({ ok: true, family: 6 });
    expect(await refusedBecause('http://[::1]:9001/', policy)).toContain('loopback');
    const dns = fakeDns({ 'internal.example': ['10.4.4.4'] });
    expect(await check('http://INTERNAL.example/', policy, dns)).toMatchObject({ ok: true, address: '10.4.4.4' });
  });

  it('matches the allow-list against the host as written, never against what a name resolves to', async () => {
    const policy = { allowHosts: ['127.0.0.1'], refuse: [] };
    expect(await refusedBecause('http://localhost:4000/', policy)).toContain('loopback');
    expect(await refusedBecause('http://rebind.example/', policy)).toContain('loopback');
  });

  it('refuses the platform\'s own services even when allowed, by name, by address and by what a name resolves to', async () => {
    const policy = {
      allowHosts: ['127.0.0.1', 'localhost', '10.9.9.9'],
      refuse: [
        { host: '127.0.0.1', port: 6379 },
        { host: 'platform-redis', port: 6380 },
        { host: '127.0.0.1', port: 5432 },
      ],
    };
    expect(await refusedBecause('redis://127.0.0.1:6379', policy)).toContain("platform's own");
    expect(await refusedBecause('redis://2130706433:6379', policy)).toContain("platform's own");
    expect(await refusedBecause('redis://localhost:6379', policy)).toContain("platform's own");
    expect(await refusedBecause('redis://10.9.9.9:6380', policy)).toContain("platform's own");
    expect(await refusedBecause('postgres://127.0.0.1:5432', policy)).toContain("platform's own");
    expect(await check('http://127.0.0.1:6380/', policy)).toMatchObject({ ok: true });
    const everyPort = { allowHosts: ['127.0.0.1'], refuse: [{ host: '127.0.0.1', port: 0 }] };
    expect(await refusedBecause('http://127.0.0.1:4000/', everyPort)).toContain("platform's own");
  });

  it('never throws, whatever the URL', async () => {
    for (const url of ['redis://a%00b:1', 'redis://a%2Fb:1', 'nats://[::1]', 'mailto:someone@example.com', 'file:///etc/passwd', 'redis://xn--:6379']) {
      const verdict = await check(url).catch((err: unknown) => ({ ok: 'threw', err }));
      expect(verdict.ok, url).toBe(false);
    }
  });
});

describe('pinnedLookup', () => {
  const allowed: OutboundAllowed = { ok: true, host: 'public.example', port: 443, address: '93.184.215.14', family: 4 };

  it('answers the checked address whatever it is asked, in both of lookup\'s forms', async () => {
    const lookup = pinnedLookup(allowed);
    const one = await new Promise((resolve) => lookup('rebind.example', {}, (err, address, family) => resolve({ err, address, family })));
    expect(one).toEqual({ err: null, address: '93.184.215.14', family: 4 });
    const all = await new Promise((resolve) => lookup('rebind.example', { all: true }, (err, addresses) => resolve({ err, addresses })));
    expect(all).toEqual({ err: null, addresses: [{ address: '93.184.215.14', family: 4 }] });
  });
});

describe('parseAllowHosts', () => {
  it('splits on commas and drops blanks', () => {
    expect(parseAllowHosts(' 127.0.0.1, hooks.internal:8443 ,,[::1]:80 ')).toEqual(['127.0.0.1', 'hooks.internal:8443', '[::1]:80']);
    expect(parseAllowHosts(undefined)).toEqual([]);
  });
});

describe('servicesOf', () => {
  it("turns the platform's service URLs into refuse entries, default ports included", () => {
    expect(servicesOf(['redis://:pw@127.0.0.1:6380/0', 'postgres://postgres@db.internal/hearth', 'rediss://Cache.example', 'not a url'])).toEqual([
      { host: '127.0.0.1', port: 6380 },
      { host: 'db.internal', port: 5432 },
      { host: 'cache.example', port: 6379 },
    ]);
  });
});
