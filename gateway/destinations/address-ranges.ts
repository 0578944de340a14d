/**
 * Which IP addresses an outbound connection a tenant names (a webhook, a
 * callback, a broker) must never reach: the host itself, private and
 * shared networks, link-local (the cloud metadata service is
 * 169.254.169.254), "this network", multicast and the reserved ranges. An
 * IPv6 address that carries an IPv4 one (mapped, NAT64, 6to4, SIIT) is
 * judged by the IPv4 address it carries, so `::ffff:127.0.0.1` is loopback.
 *
 * Input is an address as `net.isIP` accepts it (dotted quad or IPv6): the
 * caller has already turned decimal, octal and hex spellings into that.
 */
import ipaddr from 'ipaddr.js';

type Range = readonly [cidr: string, what: string];

const IPV4_REFUSED: readonly Range[] = [
  ['0.0.0.0/8', '"this network" (0.0.0.0/8)'],
  ['10.0.0.0/8', 'private (10.0.0.0/8)'],
  ['100.64.0.0/10', 'shared address space, carrier-grade NAT (100.64.0.0/10)'],
  ['127.0.0.0/8', 'loopback (127.0.0.0/8)'],
  ['169.254.0.0/16', 'link-local, where cloud metadata lives (169.254.0.0/16)'],
  ['172.16.0.0/12', 'private (172.16.0.0/12)'],
  ['192.0.0.0/24', 'IETF protocol assignments (192.0.0.0/24)'],
  ['192.0.2.0/24', 'documentation (192.0.2.0/24)'],
  ['192.88.99.0/24', '6to4 relay anycast (192.88.99.0/24)'],
  ['192.168.0.0/16', 'private (192.168.0.0/16)'],
  ['198.18.0.0/15', 'benchmarking (198.18.0.0/15)'],
  ['198.51.100.0/24', 'documentation (198.51.100.0/24)'],
  ['203.0.113.0/24', 'documentation (203.0.113.0/24)'],
  ['224.0.0.0/4', 'multicast (224.0.0.0/4)'],
  ['240.0.0.0/4', 'reserved or broadcast (240.0.0.0/4)'],
];

const IPV6_REFUSED: readonly Range[] = [
  ['::/128', 'unspecified (::)'],
  ['::1/128', 'loopback (::1)'],
  // Deprecated IPv4-compatible addresses: nothing routes them, so none is needed.
  ['::/96', 'IPv4-compatible (::/96, deprecated)'],
  ['64:ff9b:1::/48', 'local-use NAT64 (64:ff9b:1::/48)'],
  ['100::/64', 'discard-only (100::/64)'],
  // Teredo hides its IPv4 address (XORed): refused whole rather than decoded.
  ['2001::/32', 'Teredo (2001::/32)'],
  ['2001:db8::/32', 'documentation (2001:db8::/32)'],
  ['fc00::/7', 'unique local, private (fc00::/7)'],
  ['fe80::/10', 'link-local (fe80::/10)'],
  ['fec0::/10', 'site-local (fec0::/10, deprecated)'],
  ['ff00::/8', 'multicast (ff00::/8)'],
];

const parsed = (ranges: readonly Range[]) => ranges.map(([cidr, what]) => [ipaddr.parseCIDR(cidr), what] as const);
const V4 = parsed(IPV4_REFUSED);
const V6 = parsed(IPV6_REFUSED);

/** IPv6 prefixes whose last 32 bits (or, for 6to4, bits 16–48) are an IPv4 address, judged as that address. */
const CARRIES_IPV4: ReadonlyArray<readonly [ReturnType<typeof ipaddr.parseCIDR>, (p: number[]) => [number, number]]> = [
  [ipaddr.parseCIDR('::ffff:0:0/96'), (p) => [p[6]!, p[7]!]],
  [ipaddr.parseCIDR('::ffff:0:0:0/96'), (p) => [p[6]!, p[7]!]],
  [ipaddr.parseCIDR('64:ff9b::/96'), (p) => [p[6]!, p[7]!]],
  [ipaddr.parseCIDR('2002::/16'), (p) => [p[1]!, p[2]!]],
];

const ipv4Of = ([high, low]: [number, number]) => new ipaddr.IPv4([high >> 8, high & 0xff, low >> 8, low & 0xff]);

/**
 * Why `address` must not be connected to ("127.0.0.1 is loopback
 * (127.0.0.0/8)"), or null for a public unicast address. Anything that does
 * not parse as an address is refused too.
 */
export function refusedRange(address: string): string | null {
  let ip: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    ip = ipaddr.parse(address);
  } catch {
    return `${address} is not an IP address`;
  }
  if (ip.kind() === 'ipv6') {
    const v6 = ip as ipaddr.IPv6;
    for (const [range, embedded] of CARRIES_IPV4) {
      if (!v6.match(range)) continue;
      const v4 = ipv4Of(embedded(v6.parts));
      const inner = refusedV4(v4);
      return inner ? `${address} carries ${v4.toString()}, which is ${inner}` : null;
    }
    for (const [range, what] of V6) if (v6.match(range)) return `${address} is ${what}`;
    return null;
  }
  const inner = refusedV4(ip as ipaddr.IPv4);
  return inner ? `${address} is ${inner}` : null;
}

function refusedV4(ip: ipaddr.IPv4): string | null {
  for (const [range, what] of V4) if (ip.match(range)) return what;
  return null;
}

/** One spelling per address: IPv4 dotted, IPv4-mapped IPv6 as its IPv4, IPv6 compressed lowercase (zone dropped). */
export function canonicalAddress(address: string): string {
  try {
    const ip = ipaddr.process(address.replace(/%.*$/, ''));
    return ip.toString();
  } catch {
    return address.toLowerCase();
  }
}
