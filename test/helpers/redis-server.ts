/**
 * A `redis-server` of a test's own, started from the machine's binary on a
 * free port with an append-only file (and no RDB snapshots) in a directory of
 * its own, so stopping it never touches the Redis other tests use and a
 * restart reloads what was queued from the AOF alone.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { Redis, type RedisOptions } from 'ioredis';
import { freePort } from './ports.ts';
import { stopGracefully } from './processes.ts';
import { waitFor } from './wait.ts';

export interface RedisServerOptions {
  /**
   * How often the AOF is fsynced: `everysec` (the platform's own
   * configuration) or `always` (nothing acknowledged is lost to a stop).
   */
  appendfsync?: 'everysec' | 'always';
}

/** A `redis-server` child with an append-only file in `dir`. */
export class RedisServer {
  private child: ChildProcess | null = null;
  private exited: Promise<void> = Promise.resolve();
  private closed = false;

  private constructor(
    readonly port: number,
    private readonly dir: string,
    private readonly logFile: string,
    private readonly appendfsync: 'everysec' | 'always',
  ) {}

  static async start(dir: string, logFile: string, options: RedisServerOptions = {}): Promise<RedisServer> {
    mkdirSync(dir, { recursive: true });
    const server = new RedisServer(await freePort(), dir, logFile, options.appendfsync ?? 'everysec');
    await server.start();
    return server;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.child !== null;
  }

  async start(): Promise<void> {
    if (this.child) return;
    if (this.closed) throw new Error('redis is closed');
    const args = ['--port', String(this.port), '--bind', '127.0.0.1', '--appendonly', 'yes', '--appendfsync', this.appendfsync];
    args.push('--dir', this.dir, '--save', '', '--daemonize', 'no', '--protected-mode', 'no');
    const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const out = createWriteStream(this.logFile, { flags: 'a' });
    child.stdout!.pipe(out, { end: false });
    child.stderr!.pipe(out, { end: false });
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    this.child = child;
    await waitFor(`redis on port ${this.port}`, () => this.ping(), 20_000);
    if (this.closed) await this.stop();
  }

  /** Stops for good: a `start()` still under way stops again once up. */
  async close(): Promise<void> {
    this.closed = true;
    await this.stop();
  }

  /** SIGTERM: Redis flushes the AOF and exits, as `SHUTDOWN` does. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child) return;
    await stopGracefully(child, this.exited, 15_000);
    this.child = null;
  }

  private ping(): Promise<boolean> {
    return pingRedis({ port: this.port, host: '127.0.0.1' });
  }
}

/** One PING on a connection of its own (no retries); true on PONG, a rejection when nothing answers. */
export async function pingRedis(target: string | RedisOptions): Promise<boolean> {
  const once = { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null };
  const client = typeof target === 'string' ? new Redis(target, once) : new Redis({ ...target, ...once });
  client.on('error', () => {});
  try {
    await client.connect();
    return (await client.ping()) === 'PONG';
  } finally {
    client.disconnect();
  }
}
