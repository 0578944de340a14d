/**
 * The Docker network that sandboxes of `network=egress` functions join, and
 * the host firewall rules that make it "internet only".
 *
 * The network is a bridge of its own (`hearth-egress`, bridge device
 * `hearth-egress0`, subnet `EGRESS_SUBNET`, IPv4 only) with inter-container
 * traffic off and IP masquerade on. The rules, all keyed on traffic arriving
 * from that bridge:
 *
 * - `INPUT`: everything to the host itself is dropped (IPv4 and IPv6) — the
 *   gateway, Redis, Postgres, dockerd, whatever listens on any host address,
 *   the network's own gateway address included. Nothing is allowed.
 * - `DOCKER-USER` (forwarded traffic, evaluated before Docker's own rules):
 *   dropped to every private, shared, link-local (cloud metadata), loopback,
 *   "this network" and multicast range, and to the networks the host's own
 *   addresses are on. Replies to allowed connections travel the other way
 *   (into the bridge) and match none of these rules.
 * - DNS: Docker's embedded resolver forwards a sandbox's queries from inside
 *   the sandbox's network namespace to the resolvers in the host's
 *   resolv.conf. When such a resolver sits in a dropped range (common: a
 *   VPC or site resolver), UDP and TCP port 53 to exactly that address are
 *   let through ahead of the drops — the only private destination an egress
 *   function can reach, and only for DNS. A loopback resolver cannot be
 *   reached from a sandbox at all; Docker then falls back to public
 *   resolvers, which need no exception.
 *
 * Every rule is checked with `-C` and inserted only when absent, so calling
 * this again (every set-up and every worker start) is cheap and changes
 * nothing on a host that already has it all.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { promisify } from 'node:util';
import type Dockerode from 'dockerode';
import ipaddr from 'ipaddr.js';
import { EGRESS_NETWORK } from './docker-container-runtime.ts';
import { PrerequisiteError, binaryPath } from '../common/host-binaries.ts';

const run = promisify(execFile);

/** A dedicated subnet, unlikely to clash with a site's own 10.x networks. */
export const EGRESS_SUBNET = '10.213.0.0/24';
/** The host's address on the egress bridge (dropped like every host address). */
export const EGRESS_GATEWAY = '10.213.0.1';
/** The Linux bridge device, named so the firewall rules can match it. */
const EGRESS_BRIDGE = 'hearth-egress0';

/** Destinations an egress sandbox never reaches, besides the host's own networks. */
const BLOCKED_IPV4_RANGES = [
  '0.0.0.0/8', // "this network"
  '10.0.0.0/8', // private
  '100.64.0.0/10', // carrier-grade NAT (shared)
  '127.0.0.0/8', // loopback
  '169.254.0.0/16', // link-local, cloud metadata (169.254.169.254)
  '172.16.0.0/12', // private (Docker's own bridges too)
  '192.168.0.0/16', // private
  '224.0.0.0/4', // multicast
] as const;

const NETWORK_OPTIONS = {
  'com.docker.network.bridge.name': EGRESS_BRIDGE,
  'com.docker.network.bridge.enable_icc': 'false',
  'com.docker.network.bridge.enable_ip_masquerade': 'true',
} as const;

/** The egress network or its firewall cannot be set up; the message says why and what to do. */
class EgressNetworkError extends PrerequisiteError {
  override name = 'EgressNetworkError';
}

type Log = (line: string) => void;

/** One iptables rule: the binary, the chain, and the match/target arguments. */
interface FirewallRule {
  binary: 'iptables' | 'ip6tables';
  chain: 'INPUT' | 'FORWARD' | 'DOCKER-USER';
  args: string[];
}

/** What the rules depend on besides the constants: read from the host by `ensureEgressNetwork`. */
interface HostFacts {
  /** IPv4 resolvers Docker's embedded DNS forwards to that sit in a dropped range. */
  privateResolvers: string[];
  /** The host's own IPv4 networks (CIDR) not already inside a blocked range. */
  hostNetworks: string[];
  /** The kernel has IPv6: add the ip6tables rules too. */
  ipv6: boolean;
}

/**
 * The rules for `facts`, in priority order per chain (the DNS exceptions
 * first). Pure, so the plan can be read apart from the host.
 */
function planEgressRules(facts: HostFacts): FirewallRule[] {
  const from = ['-i', EGRESS_BRIDGE];
  const rules: FirewallRule[] = [{ binary: 'iptables', chain: 'INPUT', args: [...from, '-j', 'DROP'] }];
  for (const resolver of facts.privateResolvers) {
    for (const proto of ['udp', 'tcp']) {
      rules.push({ binary: 'iptables', chain: 'DOCKER-USER', args: [...from, '-d', `${resolver}/32`, '-p', proto, '-m', proto, '--dport', '53', '-j', 'RETURN'] });
    }
  }
  for (const range of [...BLOCKED_IPV4_RANGES, ...facts.hostNetworks]) {
    rules.push({ binary: 'iptables', chain: 'DOCKER-USER', args: [...from, '-d', range, '-j', 'DROP'] });
  }
  if (facts.ipv6) {
    // The network has no IPv6 and the bridge's is switched off; these hold even if it comes back.
    rules.push({ binary: 'ip6tables', chain: 'INPUT', args: [...from, '-j', 'DROP'] });
    rules.push({ binary: 'ip6tables', chain: 'FORWARD', args: [...from, '-j', 'DROP'] });
  }
  return rules;
}

/**
 * Makes sure the `hearth-egress` network exists with the settings above and
 * that the firewall rules are in place. Needs root and iptables; throws
 * `EgressNetworkError` with the reason otherwise, so a worker that cannot
 * keep egress sandboxes off the host does not start.
 */
export async function ensureEgressNetwork(docker: Dockerode, log: Log): Promise<void> {
  if (process.platform !== 'linux') throw new EgressNetworkError('the egress network needs Linux (iptables and a Docker bridge)');
  await ensureNetwork(docker, log);
  disableBridgeIpv6(log);

  const resolvers = dockerResolvers();
  const ownNetworks = await hostNetworks();
  const facts: HostFacts = {
    privateResolvers: resolvers.filter((ip) => !isLoopback(ip) && isBlocked(ip, ownNetworks)),
    hostNetworks: ownNetworks,
    ipv6: existsSync('/proc/net/if_inet6'),
  };
  if (resolvers.length > 0 && resolvers.every(isLoopback)) {
    log(`egress dns: the host's only resolvers (${resolvers.join(', ')}) are loopback, unreachable from sandboxes; Docker then forwards to its default public resolvers (8.8.8.8, 8.8.4.4)`);
  }
  for (const ip of facts.privateResolvers) log(`egress dns: resolver ${ip} is in a private range; allowing udp/tcp 53 to it, nothing else`);

  const rules = planEgressRules(facts);
  const added = await applyRules(rules);
  log(`egress firewall: ${rules.length} rules in place${added > 0 ? ` (${added} added)` : ''}`);
}

async function ensureNetwork(docker: Dockerode, log: Log): Promise<void> {
  let info = await inspectNetwork(docker);
  if (!info) {
    try {
      await docker.createNetwork({
        Name: EGRESS_NETWORK,
        Driver: 'bridge',
        CheckDuplicate: true,
        EnableIPv6: false,
        Internal: false,
        Attachable: false,
        IPAM: { Driver: 'default', Config: [{ Subnet: EGRESS_SUBNET, Gateway: EGRESS_GATEWAY }] },
        Options: { ...NETWORK_OPTIONS },
        Labels: { 'io.hearth.role': 'egress' },
      });
      log(`egress network: created ${EGRESS_NETWORK} (${EGRESS_SUBNET}, bridge ${EGRESS_BRIDGE}, no inter-container traffic)`);
    } catch (err) {
      // Another process may have created it a moment ago; anything else is fatal.
      if ((err as { statusCode?: number }).statusCode !== 409) {
        throw new EgressNetworkError(`could not create the Docker network ${EGRESS_NETWORK} on ${EGRESS_SUBNET}: ${(err as Error).message}`);
      }
    }
    info = await inspectNetwork(docker);
    if (!info) throw new EgressNetworkError(`the Docker network ${EGRESS_NETWORK} vanished right after it was created`);
  }
  const problems: string[] = [];
  if (info.Driver !== 'bridge') problems.push(`driver is ${info.Driver}, not bridge`);
  if (info.EnableIPv6) problems.push('IPv6 is enabled');
  if (info.Internal) problems.push('it is internal (no internet)');
  const subnets = (info.IPAM?.Config ?? []).map((c) => c.Subnet);
  if (subnets.length !== 1 || subnets[0] !== EGRESS_SUBNET) problems.push(`subnet is ${subnets.join(', ') || 'unset'}, not ${EGRESS_SUBNET}`);
  for (const [key, value] of Object.entries(NETWORK_OPTIONS)) {
    if (info.Options?.[key] !== value) problems.push(`${key} is ${info.Options?.[key] ?? 'unset'}, not ${value}`);
  }
  if (problems.length > 0) {
    throw new EgressNetworkError(
      `the existing Docker network ${EGRESS_NETWORK} is not what Hearth needs (${problems.join('; ')}): remove it (docker network rm ${EGRESS_NETWORK}, after removing its containers) and run set-up again`,
    );
  }
}

async function inspectNetwork(docker: Dockerode): Promise<Dockerode.NetworkInspectInfo | null> {
  try {
    return (await docker.getNetwork(EGRESS_NETWORK).inspect()) as Dockerode.NetworkInspectInfo;
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode === 404) return null;
    throw new EgressNetworkError(`could not inspect the Docker network ${EGRESS_NETWORK}: ${(err as Error).message}`);
  }
}

/** The bridge gets no IPv6 address at all, not even link-local (the ip6tables rules stay as a second wall). */
function disableBridgeIpv6(log: Log): void {
  const path = `/proc/sys/net/ipv6/conf/${EGRESS_BRIDGE}/disable_ipv6`;
  if (!existsSync(path)) return;
  try {
    if (readFileSync(path, 'utf8').trim() !== '1') writeFileSync(path, '1');
  } catch (err) {
    log(`egress network: could not disable IPv6 on ${EGRESS_BRIDGE} (${(err as Error).message}); the ip6tables rules still drop it`);
  }
}

/**
 * Inserts each absent rule at the top of its chain. Rules are walked from
 * lowest to highest priority, so a first install ends in plan order; if a
 * drop was added above existing DNS exceptions, the exceptions are moved
 * back on top. Returns how many rules were added.
 */
async function applyRules(rules: FirewallRule[]): Promise<number> {
  for (const binary of new Set(rules.map((r) => r.binary))) {
    if (!binaryPath(binary)) {
      throw new EgressNetworkError(`${binary} is not installed; it is needed to keep egress functions off the host and private networks: install the iptables package`);
    }
    for (const chain of new Set(rules.filter((r) => r.binary === binary).map((r) => r.chain))) {
      await firewall(binary, ['-S', chain]).catch((err: unknown) => {
        const hint = chain === 'DOCKER-USER' ? ': dockerd must run with its iptables integration on (the default)' : '';
        throw new EgressNetworkError(`${binary} has no usable ${chain} chain${hint} (${(err as Error).message})`);
      });
    }
  }
  let added = 0;
  let dropAdded = false;
  for (const rule of [...rules].reverse()) {
    if (await present(rule)) continue;
    await firewall(rule.binary, ['-I', rule.chain, '1', ...rule.args]);
    added += 1;
    if (rule.args.at(-1) === 'DROP') dropAdded = true;
  }
  const exceptions = rules.filter((r) => r.args.at(-1) === 'RETURN');
  if (dropAdded && exceptions.length > 0) {
    for (const rule of exceptions) while (await present(rule)) await firewall(rule.binary, ['-D', rule.chain, ...rule.args]);
    for (const rule of [...exceptions].reverse()) await firewall(rule.binary, ['-I', rule.chain, '1', ...rule.args]);
  }
  return added;
}

async function present(rule: FirewallRule): Promise<boolean> {
  try {
    await firewall(rule.binary, ['-C', rule.chain, ...rule.args]);
    return true;
  } catch (err) {
    // Exit status 1 is "no such rule"; anything else (no permission, no binary) is a real failure.
    if ((err as { exitCode?: number }).exitCode === 1) return false;
    throw err;
  }
}

async function firewall(binary: FirewallRule['binary'], args: string[]): Promise<string> {
  try {
    const { stdout } = await run(binaryPath(binary) ?? binary, ['-w', '10', ...args]);
    return stdout;
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { code?: string | number; stderr?: string };
    const detail = (e.stderr ?? e.message).trim();
    const failure = new EgressNetworkError(`${binary} ${args.join(' ')} failed: ${detail}${/permission|root/i.test(detail) ? ' (run as root)' : ''}`);
    (failure as { exitCode?: number }).exitCode = typeof e.code === 'number' ? e.code : undefined;
    throw failure;
  }
}

/**
 * The nameservers Docker's embedded resolver forwards to: the host's
 * resolv.conf, or systemd-resolved's upstream list when resolv.conf only
 * names its 127.0.0.53 stub (Docker makes the same choice). IPv4 only: the
 * egress network has no IPv6.
 */
export function dockerResolvers(): string[] {
  const read = (path: string) => {
    try {
      return [...readFileSync(path, 'utf8').matchAll(/^\s*nameserver\s+(\S+)/gm)].map((m) => m[1] ?? '');
    } catch {
      return [];
    }
  };
  let servers = read('/etc/resolv.conf');
  if (servers.length > 0 && servers.every((s) => s === '127.0.0.53')) servers = read('/run/systemd/resolve/resolv.conf');
  return servers.filter((s) => ipaddr.IPv4.isValidFourPartDecimal(s));
}

/** One IPv4 address of this host, with its interface and prefix length. */
interface HostAddress {
  interface: string;
  address: string;
  prefix: number;
}

/**
 * Every IPv4 address of this host, on every interface, up or down (a bridge
 * without containers is "down" and Node's `networkInterfaces()` leaves it
 * out). From `ip -o -4 addr show`, or `networkInterfaces()` without iproute2.
 */
export async function hostIpv4Addresses(): Promise<HostAddress[]> {
  try {
    const { stdout } = await run('ip', ['-o', '-4', 'addr', 'show']);
    return [...stdout.matchAll(/^\d+:\s+(\S+)\s+inet\s+([\d.]+)\/(\d+)/gm)].map((m) => ({
      interface: m[1] ?? '',
      address: m[2] ?? '',
      prefix: Number(m[3]),
    }));
  } catch {
    return Object.entries(networkInterfaces()).flatMap(([name, list]) =>
      (list ?? []).filter((a) => a.family === 'IPv4').map((a) => ({ interface: name, address: a.address, prefix: Number(a.cidr?.split('/')[1] ?? 32) })),
    );
  }
}

/** The host's own IPv4 networks outside the blocked ranges (a /32 when the prefix is wider than /16). */
async function hostNetworks(): Promise<string[]> {
  const nets = new Set<string>();
  for (const a of await hostIpv4Addresses()) {
    if (a.interface === EGRESS_BRIDGE || isBlocked(a.address, [])) continue;
    nets.add(a.prefix >= 16 ? `${ipaddr.IPv4.networkAddressFromCIDR(`${a.address}/${a.prefix}`)}/${a.prefix}` : `${a.address}/32`);
  }
  return [...nets].sort();
}

/** In a blocked range or in one of `extra` (CIDR); false for anything that is not a dotted-quad IPv4 address. */
function isBlocked(ip: string, extra: string[]): boolean {
  return [...BLOCKED_IPV4_RANGES, ...extra].some((cidr) => inCidr(ip, cidr));
}

function isLoopback(ip: string): boolean {
  return inCidr(ip, '127.0.0.0/8');
}

function inCidr(ip: string, cidr: string): boolean {
  return ipaddr.IPv4.isValidFourPartDecimal(ip) && ipaddr.IPv4.parse(ip).match(ipaddr.IPv4.parseCIDR(cidr));
}
