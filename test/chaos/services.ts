/**
 * The chaos run's own Postgres: started from the machine's binaries on a free
 * port with its data in a temporary directory, so stopping it (a fault) never
 * touches the server other people's tests use. A throwaway cluster
 * (`initdb -A trust`), run as the `postgres` OS user when we are root (initdb
 * refuses root). Its own Redis is a `RedisServer` (test/helpers/redis-server.ts).
 */
import { execFile } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { freePort } from '../helpers/ports.ts';
import { waitFor } from '../helpers/wait.ts';

const run = promisify(execFile);

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
