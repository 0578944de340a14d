/**
 * The "data host" of a netns lab (test/helpers/netns-hosts.ts): what the
 * lab's hosts reach at the bridge address and nowhere else. A private
 * `redis-server` started from the guide's own `infra/multi-host/redis.conf`
 * (AOF on, noeviction) bound to that address with a password; and a TCP
 * forwarder from that address to the machine's Postgres, which listens on
 * 127.0.0.1 only and is shared with other tests, so it is not reconfigured.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { pingRedis } from './redis-server.ts';
import { stopGracefully, tail } from './processes.ts';
import { waitFor } from './wait.ts';

/** A `redis-server` with the guide's configuration, on `host:port`, password `password`. */
export interface LabRedis {
  url: string;
  stop(): Promise<void>;
}

/** Starts redis-server with `configFile` and overrides for the lab: its address, port, a password, files in `dir`. */
export async function startLabRedis(options: { configFile: string; host: string; port: number; password: string; dir: string }): Promise<LabRedis> {
  const { host, port, password, dir } = options;
  mkdirSync(dir, { recursive: true });
  const logFile = join(dir, 'redis.log');
  const args = [options.configFile, '--bind', host, '--port', String(port), '--dir', dir, '--requirepass', password, '--maxmemory', '256mb', '--daemonize', 'no'];
  const child: ChildProcess = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const out = createWriteStream(logFile, { flags: 'a' });
  child.stdout!.pipe(out);
  child.stderr!.pipe(out);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `redis://:${password}@${host}:${port}/0`;
  const stop = () => stopGracefully(child, exited, 10_000);
  try {
    await waitFor(
      `lab redis on ${host}:${port} (log: ${logFile})`,
      async () => {
        if (child.exitCode !== null) throw new Error(`redis-server exited: ${tail(logFile)}`);
        return pingRedis(url);
      },
      15_000,
    );
  } catch (err) {
    await stop();
    throw err;
  }
  return { url, stop };
}

/** A TCP forwarder: connections to `listen` are piped to `target`. */
export interface Forwarder {
  /** Connections accepted so far (the hosts do reach Postgres through it). */
  readonly accepted: number;
  close(): Promise<void>;
}

export async function startForwarder(listen: { host: string; port: number }, target: { host: string; port: number }): Promise<Forwarder> {
  const sockets = new Set<Socket>();
  let accepted = 0;
  const server: Server = createServer((client) => {
    accepted++;
    const upstream = createConnection(target);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.once('close', () => sockets.delete(socket));
      socket.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(listen.port, listen.host, () => resolve());
  });
  return {
    get accepted() {
      return accepted;
    },
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}
