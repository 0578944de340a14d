/**
 * Making sure what the platform needs is there: a Docker engine, Postgres,
 * Redis. Each check uses what answers first and installs (from Debian's
 * packages) and starts a local one only when the default local address is
 * silent; anything else that fails stops set-up with a message naming what
 * is missing and how to fix it.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdirSync, openSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { totalmem } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Dockerode from 'dockerode';
import { Redis } from 'ioredis';
import pg from 'pg';
import { adminUrl } from '../migrations/database.ts';
import { checkRedisMemoryPolicy } from '../worker/common/redis/memory-policy.ts';
import { binaryPath, PrerequisiteError } from '../worker/common/host-binaries.ts';

const run = promisify(execFile);

export const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/hearth';
export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

type Log = (line: string) => void;


const onPath = (binary: string) => binaryPath(binary) !== null;

/** Installs Debian packages (updating the index once if the first try fails), or says clearly why it cannot. */
export async function aptInstall(packages: string[], log: Log, why: string): Promise<void> {
  if (process.getuid?.() !== 0 || !onPath('apt-get')) {
    throw new PrerequisiteError(`${why}, and this machine cannot install it here (needs root and apt-get): install ${packages.join(' ')} yourself`);
  }
  log(`${why}: installing ${packages.join(' ')} from Debian's packages`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const install = () => run('apt-get', ['install', '-y', '--no-install-recommends', ...packages], { env, maxBuffer: 64 << 20 });
  try {
    await install().catch(async () => {
      await run('apt-get', ['update'], { env, maxBuffer: 64 << 20 });
      await install();
    });
  } catch (err) {
    const detail = (err as { stderr?: string }).stderr?.trim().split('\n').slice(-3).join(' ') ?? (err as Error).message;
    throw new PrerequisiteError(`could not install ${packages.join(' ')} with apt-get (${detail})`);
  }
}

async function waitFor(check: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 250));
  }
  return check();
}

/** What the multi-host test builds its hosts with (network namespaces, veth, entering them): iproute2 and util-linux's nsenter. */
export async function ensureNetnsTools(log: Log): Promise<void> {
  if (!onPath('ip')) await aptInstall(['iproute2'], log, 'the multi-host test needs ip (network namespaces and veth) and it is not installed');
  if (!onPath('nsenter')) await aptInstall(['util-linux'], log, 'the multi-host test needs nsenter and it is not installed');
}

/** Returns a Docker client that answers, starting a local engine if needed. */
export async function ensureDocker(stateDir: string, log: Log): Promise<Dockerode> {
  const dockerHost = process.env.DOCKER_HOST;
  const socketPath = dockerHost?.startsWith('unix://') ? dockerHost.slice('unix://'.length) : '/var/run/docker.sock';
  if (dockerHost && !dockerHost.startsWith('unix://')) {
    throw new PrerequisiteError(`DOCKER_HOST=${dockerHost} is not supported: Hearth needs a local unix:// Docker socket (it bind-mounts host directories)`);
  }
  const docker = new Dockerode({ socketPath });
  const answers = () => docker.ping().then(() => true, () => false);
  if (await answers()) return docker;
  if (dockerHost) {
    throw new PrerequisiteError(`DOCKER_HOST=${dockerHost} does not answer: start that engine, or unset DOCKER_HOST to use a local one`);
  }
  if (!onPath('dockerd')) await aptInstall(['docker.io'], log, 'no Docker engine is running and dockerd is not installed');
  log('starting dockerd in the background');
  mkdirSync(stateDir, { recursive: true });
  const out = openSync(join(stateDir, 'dockerd.log'), 'a');
  const child = spawn('dockerd', [], { detached: true, stdio: ['ignore', out, out] });
  child.unref();
  if (!(await waitFor(answers, 60_000))) {
    throw new PrerequisiteError(`dockerd did not answer on ${socketPath} within 60 s; see ${join(stateDir, 'dockerd.log')}`);
  }
  return docker;
}

function isDefaultLocal(url: string, defaults: string): boolean {
  const a = new URL(url);
  const b = new URL(defaults);
  return ['127.0.0.1', 'localhost'].includes(a.hostname) && (a.port || b.port) === b.port;
}

function connectionRefused(err: unknown): boolean {
  const code = (err as { code?: string }).code;
  return code === 'ECONNREFUSED' || code === 'ENOENT';
}

async function pgAnswers(url: string): Promise<true | Error> {
  const client = new pg.Client({ connectionString: adminUrl(url), connectionTimeoutMillis: 5000 });
  try {
    await client.connect();
    await client.query('select 1');
    return true;
  } catch (err) {
    return err as Error;
  } finally {
    await client.end().catch(() => {});
  }
}

/** Makes sure the Postgres server in `url` answers (installing a local one if none). */
export async function ensurePostgres(url: string, log: Log): Promise<void> {
  let result = await pgAnswers(url);
  if (result === true) return;
  if (!connectionRefused(result) || !isDefaultLocal(url, DEFAULT_DATABASE_URL)) {
    throw new PrerequisiteError(`Postgres at ${redact(url)} does not accept connections (${result.message}); fix DATABASE_URL or start that server`);
  }
  const installed = onPath('pg_ctlcluster');
  if (!installed) await aptInstall(['postgresql'], log, 'nothing answers on 127.0.0.1:5432 and Postgres is not installed');
  const version = readdirSync('/etc/postgresql')[0]!;
  if (!installed) {
    // A cluster we installed ourselves trusts loopback, as the default URL assumes.
    const hba = `/etc/postgresql/${version}/main/pg_hba.conf`;
    writeFileSync(hba, `host all all 127.0.0.1/32 trust\nhost all all ::1/128 trust\n${readFileSync(hba, 'utf8')}`);
  }
  log('starting the local Postgres cluster');
  await run('pg_ctlcluster', ['--skip-systemctl-redirect', version, 'main', 'start']).catch(() => {});
  if (!(await waitFor(async () => (await pgAnswers(url)) === true, 30_000))) {
    result = await pgAnswers(url);
    throw new PrerequisiteError(`the local Postgres did not accept ${redact(url)} (${result === true ? '' : result.message}); set DATABASE_URL to a server you can reach`);
  }
}

/**
 * Makes sure the Redis server in `url` answers (installing and starting a
 * local one if none, with a memory ceiling and no eviction), and warns when
 * an existing one has no `maxmemory` or evicts (`worker/common/redis/memory-policy.ts`).
 */
export async function ensureRedis(url: string, stateDir: string, log: Log): Promise<void> {
  await ensureRedisAnswers(url, stateDir, log);
  for (const warning of await checkRedisMemoryPolicy(url)) log(`redis: warning: ${warning}`);
}

/** A local Redis's ceiling: a quarter of the host memory (queued events live in it). */
function localRedisMaxMemory(): string {
  return `${Math.floor(totalmem() / 4 / 1024 / 1024)}mb`;
}

async function ensureRedisAnswers(url: string, stateDir: string, log: Log): Promise<void> {
  const answers = async () => {
    const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 3000 });
    let cause: Error | null = null;
    redis.on('error', (err: Error) => {
      cause ??= err;
    });
    try {
      await redis.connect();
      await redis.ping();
      return true as const;
    } catch (err) {
      return cause ?? (err as Error);
    } finally {
      redis.disconnect();
    }
  };
  const result = await answers();
  if (result === true) return;
  if (!connectionRefused(result) || !isDefaultLocal(url, DEFAULT_REDIS_URL)) {
    throw new PrerequisiteError(`Redis at ${redact(url)} does not answer (${result.message}); fix REDIS_URL or start that server`);
  }
  if (!onPath('redis-server')) await aptInstall(['redis-server'], log, 'nothing answers on 127.0.0.1:6379 and Redis is not installed');
  const dir = join(stateDir, 'redis');
  mkdirSync(dir, { recursive: true });
  log(`starting a local Redis (append-only file in ${dir})`);
  await run('redis-server', [
    '--daemonize', 'yes', '--bind', '127.0.0.1', '--port', '6379',
    '--appendonly', 'yes', '--appendfsync', 'everysec', '--dir', dir,
    '--logfile', join(dir, 'redis.log'),
    // A ceiling, and no eviction: an evicted key is a lost call (BullMQ requires noeviction).
    '--maxmemory', localRedisMaxMemory(), '--maxmemory-policy', 'noeviction',
  ]);
  if (!(await waitFor(async () => (await answers()) === true, 15_000))) {
    throw new PrerequisiteError(`the local Redis did not start; see ${join(dir, 'redis.log')}`);
  }
}

/** Hides a password in a URL for messages. */
export function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparseable URL)';
  }
}
