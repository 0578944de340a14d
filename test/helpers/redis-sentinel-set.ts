/**
 * A Redis Sentinel set of a test's own, in a temporary directory: a master
 * and one replica (`redis-server`, append-only file on) and three Sentinels
 * (`redis-server --sentinel`, the binary Debian's `redis-sentinel` links to)
 * watching them with quorum 2 and a one-second `down-after-milliseconds`.
 * It can SIGKILL whichever server is the master now, and tells when the
 * Sentinels announced the new one (`+switch-master`). `stop()` ends every
 * process it started and removes the directory.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from './ports.ts';
import { stopGracefully } from './processes.ts';
import { waitFor } from './wait.ts';

export interface SentinelSetOptions {
  /** The master's name the Sentinels know it by (default `mymaster`). */
  name?: string;
  /** How often the servers fsync their AOF (default `everysec`, as the platform's `redis.conf`). */
  appendfsync?: 'everysec' | 'always';
  /** How long a master is silent before a Sentinel holds it down (default 1000 ms). */
  downAfterMs?: number;
  /** Sentinel's failover-timeout (default 5000 ms). */
  failoverTimeoutMs?: number;
  /** Where the processes' logs go (default the set's own directory). */
  logDir?: string;
}

/** One `redis-server` of the set, in data or sentinel mode. */
interface Member {
  role: 'server' | 'sentinel';
  port: number;
  args: string[];
  logFile: string;
  child: ChildProcess | null;
  exited: Promise<void>;
}

/** When a failover was seen: the `+switch-master` event's time and the new master's port. */
export interface SwitchSeen {
  at: number;
  from: number;
  to: number;
}

export class RedisSentinelSet {
  private readonly switches: SwitchSeen[] = [];
  private watcher: Redis | null = null;

  private constructor(
    readonly name: string,
    readonly dir: string,
    private readonly servers: Member[],
    private readonly sentinelMembers: Member[],
  ) {}

  static async start(options: SentinelSetOptions = {}): Promise<RedisSentinelSet> {
    const name = options.name ?? 'mymaster';
    const dir = await mkdtemp(join(tmpdir(), 'hearth-sentinel-'));
    const logDir = options.logDir ?? dir;
    const fsync = options.appendfsync ?? 'everysec';
    const serverPorts = [await freePort(), await freePort()];
    const sentinelPorts = [await freePort(), await freePort(), await freePort()];
    const servers: Member[] = [];
    const sentinels: Member[] = [];
    const set = new RedisSentinelSet(name, dir, servers, sentinels);
    try {
      for (const [i, port] of serverPorts.entries()) {
        const data = join(dir, `server-${port}`);
        mkdirSync(data, { recursive: true });
        const args = ['--port', String(port), '--bind', '127.0.0.1', '--protected-mode', 'no', '--dir', data, '--save', ''];
        args.push('--appendonly', 'yes', '--appendfsync', fsync, '--daemonize', 'no', '--maxmemory-policy', 'noeviction');
        if (i > 0) args.push('--replicaof', '127.0.0.1', String(serverPorts[0]));
        servers.push(spawnMember('server', port, args, join(logDir, `redis-${port}.log`)));
      }
      await Promise.all(servers.map((s) => waitFor(`redis on port ${s.port}`, () => ping(s.port), 20_000)));
      await waitFor('the replica in sync', async () => (await info(serverPorts[1]!, 'replication')).includes('master_link_status:up'), 20_000);
      for (const port of sentinelPorts) {
        // Sentinel rewrites its configuration file: each has one of its own.
        const conf = join(dir, `sentinel-${port}.conf`);
        writeFileSync(
          conf,
          [
            `port ${port}`,
            'bind 127.0.0.1',
            'protected-mode no',
            `dir ${dir}`,
            `sentinel monitor ${name} 127.0.0.1 ${serverPorts[0]} 2`,
            `sentinel down-after-milliseconds ${name} ${options.downAfterMs ?? 1000}`,
            `sentinel failover-timeout ${name} ${options.failoverTimeoutMs ?? 5000}`,
            `sentinel parallel-syncs ${name} 1`,
            '',
          ].join('\n'),
        );
        sentinels.push(spawnMember('sentinel', port, [conf, '--sentinel'], join(logDir, `sentinel-${port}.log`)));
      }
      // Ready once every Sentinel knows the replica and the other two Sentinels.
      await waitFor(
        'the sentinels to know each other and the replica',
        async () => {
          for (const s of sentinels) {
            const master = await sentinelCommand(s.port, ['sentinel', 'master', name]);
            const fields = pairs(master as string[]);
            if (fields['num-slaves'] !== '1' || fields['num-other-sentinels'] !== '2') return false;
          }
          return true;
        },
        30_000,
        200,
      );
      await set.watchSwitches();
      return set;
    } catch (err) {
      await set.stop();
      throw err;
    }
  }

  /** `host:port,…` of the three Sentinels, as `HEARTH_REDIS_SENTINELS` takes them. */
  get sentinels(): string {
    return this.sentinelMembers.map((s) => `127.0.0.1:${s.port}`).join(',');
  }

  /** Every `+switch-master` one Sentinel announced since the set started. */
  get switchesSeen(): readonly SwitchSeen[] {
    return this.switches;
  }

  /** The master's port as the Sentinels say now (the first that answers). */
  async masterPort(): Promise<number> {
    for (const s of this.sentinelMembers) {
      if (!s.child) continue;
      try {
        const addr = (await sentinelCommand(s.port, ['sentinel', 'get-master-addr-by-name', this.name])) as [string, string];
        return Number(addr[1]);
      } catch {
        // the next Sentinel
      }
    }
    throw new Error('no sentinel answers');
  }

  /** SIGKILLs the current master (no AOF flush, no goodbye); resolves once it has exited, with its port and the time of the kill. */
  async killMaster(): Promise<{ port: number; at: number }> {
    const port = await this.masterPort();
    const member = this.servers.find((s) => s.port === port);
    if (!member?.child) throw new Error(`the master on port ${port} is not one of this set's running servers`);
    const at = Date.now();
    member.child.kill('SIGKILL');
    await member.exited;
    member.child = null;
    return { port, at };
  }

  /**
   * Starts the server on `port` again (after `killMaster`), on its own AOF,
   * as a replica of the current master; resolves once it is in sync. (Started
   * as it was first configured, a master, the Sentinels would demote it
   * themselves, but only some 15 s later.)
   */
  async restartServer(port: number): Promise<void> {
    const member = this.servers.find((s) => s.port === port);
    if (!member || member.child) throw new Error(`no stopped server on port ${port}`);
    const base = member.args.includes('--replicaof') ? member.args.slice(0, member.args.indexOf('--replicaof')) : member.args;
    const again = spawnMember('server', port, [...base, '--replicaof', '127.0.0.1', String(await this.masterPort())], member.logFile);
    member.child = again.child;
    member.exited = again.exited;
    await waitFor(`redis on port ${port} again`, () => ping(port), 20_000);
    await this.replicaInSync(port);
  }

  /** The port of a running server that is not the master now (null when there is none). */
  async replicaPort(): Promise<number | null> {
    const master = await this.masterPort();
    return this.servers.find((s) => s.child && s.port !== master)?.port ?? null;
  }

  /** Resolves once the server on `port` is a replica with its link to the master up. */
  async replicaInSync(port: number, timeoutMs = 30_000): Promise<void> {
    await waitFor(`the replica on port ${port} in sync`, async () => {
      const replication = await info(port, 'replication');
      return replication.includes('role:slave') && replication.includes('master_link_status:up') && !replication.includes('master_sync_in_progress:1');
    }, timeoutMs, 100);
  }

  /**
   * SIGSTOPs the current master: its connections stay open and silent, as
   * behind a partition. Returns its port, the time, and `thaw()` (SIGCONT),
   * after which the Sentinels turn it into a replica of the new master.
   */
  async freezeMaster(): Promise<{ port: number; at: number; thaw(): void }> {
    const port = await this.masterPort();
    const member = this.servers.find((s) => s.port === port);
    if (!member?.child) throw new Error(`the master on port ${port} is not one of this set's running servers`);
    const child = member.child;
    const at = Date.now();
    child.kill('SIGSTOP');
    return { port, at, thaw: () => void child.kill('SIGCONT') };
  }

  /** Connections to the server on `port` other than the Sentinels', a replica's and this question's own (`CLIENT LIST` lines). */
  async otherClientsOn(port: number): Promise<string[]> {
    const list = String(await sentinelCommand(port, ['client', 'list']));
    return list
      .split('\n')
      .filter(Boolean)
      .filter((line) => !/ name=sentinel-/.test(line) && !/ flags=S/.test(line) && !/ cmd=client\|list/.test(line));
  }

  /** The role (`master`, `slave`) the server on `port` says it has. */
  async roleOf(port: number): Promise<string> {
    const role = (await sentinelCommand(port, ['role'])) as [string, ...unknown[]];
    return role[0];
  }

  /** Resolves with the first `+switch-master` announced after `since` (epoch ms). */
  async switchAfter(since: number, timeoutMs = 30_000): Promise<SwitchSeen> {
    await waitFor('a +switch-master from the sentinels', () => this.switches.some((s) => s.at >= since), timeoutMs, 20);
    return this.switches.find((s) => s.at >= since)!;
  }

  /** A plain client on the current master (for a test's own reads). */
  async masterClient(): Promise<Redis> {
    return new Redis({ host: '127.0.0.1', port: await this.masterPort(), maxRetriesPerRequest: 1 });
  }

  /** SIGCONTs every server (a frozen one included). */
  thawAll(): void {
    for (const s of this.servers) s.child?.kill('SIGCONT');
  }

  /** SIGTERMs everything still running and removes the directory. */
  async stop(): Promise<void> {
    // A frozen server cannot take a SIGTERM.
    this.thawAll();
    this.watcher?.disconnect();
    this.watcher = null;
    await Promise.all([...this.sentinelMembers, ...this.servers].map(stopMember));
    await rm(this.dir, { recursive: true, force: true });
  }

  /** Subscribes to `+switch-master` on one Sentinel (each sees the same failover). */
  private async watchSwitches(): Promise<void> {
    const watcher = new Redis({ host: '127.0.0.1', port: this.sentinelMembers[0]!.port, maxRetriesPerRequest: null });
    watcher.on('error', () => {});
    this.watcher = watcher;
    watcher.on('message', (_channel: string, message: string) => {
      // "<name> <old ip> <old port> <new ip> <new port>"
      const [name, , from, , to] = message.split(' ');
      if (name === this.name) this.switches.push({ at: Date.now(), from: Number(from), to: Number(to) });
    });
    await watcher.subscribe('+switch-master');
  }
}

/** Every server and Sentinel still running, SIGKILLed if this process exits before `stop()` (a test run cut short). */
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

function spawnMember(role: Member['role'], port: number, args: string[], logFile: string): Member {
  const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  child.once('exit', () => live.delete(child));
  const out = createWriteStream(logFile, { flags: 'a' });
  child.stdout!.pipe(out, { end: false });
  child.stderr!.pipe(out, { end: false });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.once('error', () => {});
  return { role, port, args, logFile, child, exited };
}

async function stopMember(member: Member): Promise<void> {
  const child = member.child;
  if (!child) return;
  member.child = null;
  await stopGracefully(child, member.exited, 10_000);
}

/** A one-shot command on 127.0.0.1:`port` (no retries: an error is the answer). */
async function sentinelCommand(port: number, args: string[]): Promise<unknown> {
  const client = new Redis({ host: '127.0.0.1', port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 1000 });
  client.on('error', () => {});
  try {
    await client.connect();
    return await client.call(args[0]!, ...args.slice(1));
  } finally {
    client.disconnect();
  }
}

async function ping(port: number): Promise<boolean> {
  return (await sentinelCommand(port, ['ping'])) === 'PONG';
}

async function info(port: number, section: string): Promise<string> {
  return String(await sentinelCommand(port, ['info', section]));
}

/** `[k1, v1, k2, v2, …]` as an object. */
function pairs(flat: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) out[flat[i]!] = flat[i + 1]!;
  return out;
}
