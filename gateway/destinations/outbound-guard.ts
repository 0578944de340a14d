/**
 * The SSRF guard: may the platform open a connection a tenant asked for (a
 * webhook, an `X-Callback-Url`, a broker destination or trigger)? Checked
 * when the URL is configured and again when it is used, after DNS
 * resolution, and the caller then connects to the very address that was
 * checked (`pinnedLookup`), so a name that resolves to a public address at
 * the check and to 127.0.0.1 a moment later (DNS rebinding) gets nowhere.
 *
 * The rules, in order:
 * 1. The host is normalised as a browser would (WHATWG URL): `2130706433`,
 *    `0x7f.1` and `0177.0.0.1` are all 127.0.0.1; brackets and case go.
 * 2. `refuse` entries are refused whatever else says (the platform's own
 *    Redis and Postgres): by the name as written or by any address it
 *    resolves to, on their port (0: every port).
 * 3. A host in `allowHosts` (as `host` or `host:port`, matched against the
 *    URL's host as written, never against what a name resolves to) may be
 *    anything, private and loopback included.
 * 4. Otherwise every address the name resolves to must be public unicast
 *    (`address-ranges.ts`); one private answer refuses the whole name.
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import type { LookupFunction } from 'node:net';
import { isIP } from 'node:net';
import { canonicalAddress, refusedRange } from './address-ranges.ts';

/** What a deployment allows and refuses beyond the rules (`HEARTH_OUTBOUND_ALLOW_HOSTS`, the platform's own services). */
export interface OutboundPolicy {
  /** `host` or `host:port` entries (IPv6 as `[::1]:80` or `::1`) reachable even when private. */
  allowHosts: readonly string[];
  /** Never reachable, allowed or not; port 0 means every port. */
  refuse: ReadonlyArray<{ host: string; port: number }>;
}

/** `dns.lookup`'s shape with `all: true` (what the guard asks for). */
export type Lookup = (hostname: string, options: { all: true }, callback: (err: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void) => void;

/** May connect: to `address` (the one checked), for `host` as written and normalised. */
export interface OutboundAllowed {
  ok: true;
  host: string;
  port: number;
  address: string;
  family: 4 | 6;
}
/** Refused, and why; `transient` when only DNS failed (worth another try later). */
export type OutboundVerdict = OutboundAllowed | { ok: false; reason: string; transient?: true };

/** Ports of the schemes Hearth connects to, when the URL names none. */
const DEFAULT_PORTS: Record<string, number> = {
  'http:': 80,
  'https:': 443,
  'ws:': 80,
  'wss:': 443,
  'redis:': 6379,
  'rediss:': 6379,
  'amqp:': 5672,
  'amqps:': 5671,
  'nats:': 4222,
  'tls:': 4222,
  'mqtt:': 1883,
  'mqtts:': 8883,
};

/** A policy that allows and refuses nothing beyond the rules. */
export const STRICT_OUTBOUND: OutboundPolicy = { allowHosts: [], refuse: [] };

/** `HEARTH_OUTBOUND_ALLOW_HOSTS`'s text as a list: comma-separated, blanks dropped. */
export function parseAllowHosts(text: string | undefined): string[] {
  return (text ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry.length > 0);
}

/**
 * The `refuse` entries for the platform's own services, from their URLs
 * (`REDIS_URL`, `DATABASE_URL`, …): host and port, the scheme's default
 * port when none is written. A URL that does not parse is left out.
 */
export function servicesOf(urls: readonly string[]): Array<{ host: string; port: number }> {
  const ports: Record<string, number> = { ...DEFAULT_PORTS, 'postgres:': 5432, 'postgresql:': 5432 };
  return urls.flatMap((text) => {
    try {
      const url = new URL(text);
      const host = normalHost(url);
      const port = url.port === '' ? ports[url.protocol] : Number(url.port);
      return host && port ? [{ host, port }] : [];
    } catch {
      return [];
    }
  });
}

/**
 * The URL's host as a browser would connect to it: an IP in its one
 * spelling, else a lowercase name; null when it is no host at all. Special
 * schemes (http) are normalised by the URL parser already; others (redis,
 * amqp) keep their host opaque, so it is parsed again as an http host.
 */
export function normalHost(url: URL): string | null {
  const raw = url.hostname;
  if (raw === '') return null;
  if (raw.startsWith('[') && raw.endsWith(']')) {
    const inner = raw.slice(1, -1);
    return isIP(inner) === 6 ? canonicalAddress(inner) : null;
  }
  let host: string;
  try {
    host = new URL(`http://${raw}/`).hostname;
  } catch {
    return null;
  }
  if (host.startsWith('[')) return canonicalAddress(host.slice(1, -1));
  return isIP(host) ? canonicalAddress(host) : host.toLowerCase();
}

/** An allow or refuse entry as `{ host, port }` (port null: any), in `normalHost`'s spelling. */
function entryOf(entry: string): { host: string; port: number | null } | null {
  const text = entry.trim();
  if (isIP(text) === 6) return { host: canonicalAddress(text), port: null };
  try {
    const url = new URL(`http://${text}/`);
    const host = normalHost(url);
    return host ? { host, port: url.port === '' ? null : Number(url.port) } : null;
  } catch {
    return null;
  }
}

const lookupAll = (lookup: Lookup, host: string) =>
  new Promise<LookupAddress[]>((resolve, reject) => lookup(host, { all: true }, (err, addresses) => (err ? reject(err) : resolve(addresses))));

/** Every address `host` stands for (itself when it is an IP). */
async function addressesOf(host: string, lookup: Lookup): Promise<Array<{ address: string; family: 4 | 6 }>> {
  const family = isIP(host);
  if (family) return [{ address: host, family: family as 4 | 6 }];
  const found = await lookupAll(lookup, host);
  return found.map((a) => ({ address: canonicalAddress(a.address), family: (a.family === 6 ? 6 : 4) as 4 | 6 }));
}

/**
 * Whether the platform may connect where `url` points, and to which
 * address: the first one its host resolves to, every one of them checked.
 * Never throws: a name that does not resolve is a reason too.
 */
export async function checkOutbound(url: URL, policy: OutboundPolicy, lookup: Lookup = dnsLookup as Lookup): Promise<OutboundVerdict> {
  const host = normalHost(url);
  if (!host) return { ok: false, reason: `"${url.hostname}" is not a host name or address` };
  const port = url.port === '' ? DEFAULT_PORTS[url.protocol] : Number(url.port);
  if (port === undefined || !Number.isInteger(port) || port < 1 || port > 65535) return { ok: false, reason: `no port for ${url.protocol} URLs: name one` };

  let addresses: Array<{ address: string; family: 4 | 6 }>;
  try {
    addresses = await addressesOf(host, lookup);
  } catch (err) {
    return { ok: false, reason: `${host} does not resolve (${(err as NodeJS.ErrnoException).code ?? 'lookup failed'})`, transient: true };
  }
  if (addresses.length === 0) return { ok: false, reason: `${host} does not resolve to any address` };

  const mine = new Set(addresses.map((a) => a.address));
  for (const refused of policy.refuse) {
    const entry = entryOf(refused.host);
    if (!entry || (refused.port !== 0 && refused.port !== port)) continue;
    // A refused name that does not resolve now is still refused by its name.
    const same = entry.host === host || (await addressesOf(entry.host, lookup).catch(() => [])).some((a) => mine.has(a.address));
    if (same) return { ok: false, reason: `${host}:${port} is one of the platform's own services and is never reachable` };
  }

  const allowed = policy.allowHosts.some((text) => {
    const entry = entryOf(text);
    return entry !== null && entry.host === host && (entry.port === null || entry.port === port);
  });
  if (!allowed) {
    for (const { address } of addresses) {
      const why = refusedRange(address);
      if (why) return { ok: false, reason: address === host ? why : `${host} resolves to ${why}` };
    }
  }
  const first = addresses[0]!;
  return { ok: true, host, port, address: first.address, family: first.family };
}

/**
 * A `lookup` for `http.request` or `net.connect` that answers the checked
 * address whatever name it is asked for: the connection goes where the
 * guard looked, not where DNS says a moment later.
 */
export function pinnedLookup(allowed: OutboundAllowed): LookupFunction {
  return (_hostname, options, callback) => {
    if (options.all) (callback as (err: null, addresses: LookupAddress[]) => void)(null, [{ address: allowed.address, family: allowed.family }]);
    else callback(null, allowed.address, allowed.family);
  };
}
