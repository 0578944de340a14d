/**
 * The chaos run's own Redis and Postgres: started from the machine's binaries
 * on free ports with their data in a temporary directory, so stopping them
 * (the faults) never touches the services other people's tests use.
 *
 * Redis keeps an append-only file (`appendfsync everysec`, as the platform's
 * own configuration does) and no RDB snapshots: a restart reloads the queue
 * from the AOF alone. Postgres is a throwaway cluster (`initdb -A trust`),
 * run as the `postgres` OS user when we are root (initdb refuses root).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { chownSync, createWriteStream, existsSync, mkdirSync, readdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import pg from 'pg';

const run = promisify(execFile);
export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** A port nothing listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Polls `check` until it resolves true or `timeoutMs` passes. */
export async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await check().catch(() => false)) return;
    await sleep(100);
  }
  throw new Error(`${what} not ready within ${timeoutMs} ms`);
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
  ) {}

  static async start(dir: string, logFile: string): Promise<RedisServer> {
    mkdirSync(dir, { recursive: true });
    const server = new RedisServer(await freePort(), dir, logFile);
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
    const args = ['--port', String(this.port), '--bind', '127.0.0.1', '--appendonly', 'yes', '--appendfsync', 'everysec'];
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
    child.kill('SIGTERM');
    const done = await Promise.race([this.exited.then(() => true), sleep(15_000).then(() => false)]);
    if (!done) {
      child.kill('SIGKILL');
      await this.exited;
    }
    this.child = null;
  }

  private async ping(): Promise<boolean> {
    const client = new Redis({ port: this.port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    client.on('error', () => {});
    try {
      await client.connect();
      return (await client.ping()) === 'PONG';
    } finally {
      client.disconnect();
    }
  }
}

/** Where the newest installed Postgres keeps `initdb` and `pg_ctl`. */
function postgresBinDir(): string {
  if (process.env.PG_BIN_DIR) return process.env.PG_BIN_DIR;
  const base = '/usr/lib/postgresql';
  const versions = existsSync(base) ? readdirSync(base).filter((v) => existsSync(join(base, v, 'bin', 'initdb'))) : [];
  const newest = versions.sort((a, b) => Number(b) - Number(a))[0];
  if (!newest) throw new Error(`no Postgres binaries under ${base} (set PG_BIN_DIR)`);
  return join(base, newest, 'bin');
}

/** A throwaway Postgres cluster in `dir`, controlled with `pg_ctl`. */
export class PostgresServer {
  private readonly bin = postgresBinDir();
  private readonly asPostgres = process.getuid?.() === 0;
  private up = false;
  private closed = false;

  private constructor(
    readonly port: number,
    private readonly dir: string,
    private readonly logFile: string,
  ) {}

  /** `initdb` into `dir/data` and start; the caller creates databases. */
  static async start(dir: string, logFile: string): Promise<PostgresServer> {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const server = new PostgresServer(await freePort(), dir, logFile);
    if (server.asPostgres) {
      const { stdout } = await run('id', ['-u', 'postgres']);
      const { stdout: gid } = await run('id', ['-g', 'postgres']);
      chownSync(dir, Number(stdout.trim()), Number(gid.trim()));
    }
    await server.exec('initdb', ['-D', server.dataDir, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8']);
    await server.start();
    return server;
  }

  private get dataDir(): string {
    return join(this.dir, 'data');
  }

  /** The server URL without a database name. */
  get serverUrl(): string {
    return `postgres://postgres@127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.up;
  }

  async start(): Promise<void> {
    if (this.closed) throw new Error('postgres is closed');
    const options = `-p ${this.port} -k ${this.dir} -c listen_addresses=127.0.0.1 -c max_connections=200`;
    await this.exec('pg_ctl', ['-D', this.dataDir, '-o', options, '-l', this.logFile, '-w', '-t', '60', 'start']);
    this.up = true;
    if (this.closed) return this.close();
    await waitFor(`postgres on port ${this.port}`, async () => {
      const client = new pg.Client({ connectionString: `${this.serverUrl}/postgres` });
      client.on('error', () => {});
      try {
        await client.connect();
        return true;
      } finally {
        await client.end().catch(() => {});
      }
    });
  }

  /** `pg_ctl stop -m fast`: open connections are cut, as in a failover or a restart. */
  async stop(): Promise<void> {
    if (!this.up) return;
    await this.exec('pg_ctl', ['-D', this.dataDir, '-m', 'fast', '-w', '-t', '60', 'stop']);
    this.up = false;
  }

  /** Stops the server for good, whatever state it is in (teardown); a `start()` under way stops it again. */
  async close(): Promise<void> {
    this.closed = true;
    if (!existsSync(join(this.dataDir, 'postmaster.pid'))) return;
    await this.exec('pg_ctl', ['-D', this.dataDir, '-m', 'immediate', '-w', '-t', '30', 'stop']).catch(() => {});
    this.up = false;
  }

  private async exec(tool: string, args: string[]): Promise<void> {
    const path = join(this.bin, tool);
    const [command, argv] = this.asPostgres ? ['runuser', ['-u', 'postgres', '--', path, ...args]] : [path, args];
    try {
      await run(command, argv, { cwd: this.dir, maxBuffer: 16 * 1024 * 1024 });
    } catch (err) {
      const e = err as { stderr?: string; message: string };
      throw new Error(`${tool} failed: ${e.stderr?.trim() || e.message}`);
    }
  }
}
