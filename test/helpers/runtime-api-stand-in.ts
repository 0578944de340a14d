/**
 * A small stand-in for the Lambda Runtime API, to run a custom runtime's
 * `bootstrap` on this machine without the platform: it serves
 * `/2018-06-01/runtime/invocation/next` (long-poll), `…/{id}/response`,
 * `…/{id}/error` and `/init/error` on 127.0.0.1 over keep-alive HTTP/1.1,
 * and starts the bootstrap as a child with `AWS_LAMBDA_RUNTIME_API`,
 * `_HANDLER` and `LAMBDA_TASK_ROOT` set, its output captured.
 *
 * It checks the bootstraps themselves (what they send, and how); the real
 * agent in `hearth/runtime-provided` is what the e2e tests exercise.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** How one invocation ended, as the stand-in saw it. */
export type StandInOutcome =
  | { kind: 'response'; body: Buffer; requestHeaders: http.IncomingHttpHeaders }
  | { kind: 'error'; errorType: string | undefined; body: Buffer }
  | { kind: 'exit'; code: number | null; signal: NodeJS.Signals | null }
  | { kind: 'timeout' };

export interface StandInInvocation {
  requestId: string;
  deadlineMs: number;
  outcome: Promise<StandInOutcome>;
}

export interface InitError {
  errorType: string | undefined;
  body: Buffer;
}

export interface RuntimeApiStandIn {
  /** `host:port`, as `AWS_LAMBDA_RUNTIME_API` carries it. */
  address: string;
  /** Every request the bootstrap made, in order (method and path). */
  requests: string[];
  /** How many TCP connections the bootstrap opened. */
  connections(): number;
  /** Output of the bootstrap so far (stdout and stderr interleaved as they came). */
  output(): string;
  /** Resolves with the init error if the bootstrap posts one. */
  initError: Promise<InitError>;
  /** Queues one event; its outcome settles on /response, /error, the process's exit or `timeoutMs`. */
  invoke(event: unknown, timeoutMs?: number): StandInInvocation;
  /** Kills the bootstrap (if running) and closes the server. */
  close(): Promise<void>;
}

interface Pending {
  requestId: string;
  deadlineMs: number;
  body: Buffer;
  settle(outcome: StandInOutcome): void;
}

const PREFIX = '/2018-06-01/runtime';

/** Starts the server and the bootstrap at `executable` (run with `cwd` as its task root). */
export async function startRuntimeApiStandIn(options: {
  executable: string;
  cwd: string;
  handler?: string;
  env?: Record<string, string>;
}): Promise<RuntimeApiStandIn> {
  const queue: Pending[] = [];
  const waiting: http.ServerResponse[] = [];
  const inFlight = new Map<string, Pending>();
  const requests: string[] = [];
  let connections = 0;
  let output = '';
  let child: ChildProcess | null = null;
  let exited = false;
  let reportInitError: (e: InitError) => void = () => {};
  const initError = new Promise<InitError>((resolve) => (reportInitError = resolve));

  const hand = () => {
    while (queue.length > 0 && waiting.length > 0) {
      const res = waiting.shift()!;
      if (res.destroyed) continue;
      const next = queue.shift()!;
      inFlight.set(next.requestId, next);
      res.writeHead(200, {
        'content-type': 'application/json',
        'content-length': next.body.length,
        'lambda-runtime-aws-request-id': next.requestId,
        'lambda-runtime-deadline-ms': String(next.deadlineMs),
        'lambda-runtime-invoked-function-arn': 'arn:aws:lambda:local:000000000000:function:stand-in',
        'lambda-runtime-trace-id': `Root=1-${Date.now().toString(16)}-stand-in;Sampled=0`,
      });
      res.end(next.body);
    }
  };

  const server = http.createServer({ keepAliveTimeout: 60_000, requestTimeout: 0 }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = req.url ?? '';
      requests.push(`${req.method} ${path}`);
      const body = Buffer.concat(chunks);
      const accepted = () => {
        res.writeHead(202, { 'content-type': 'application/json' });
        res.end('{"status":"OK"}');
      };
      if (req.method === 'GET' && path === `${PREFIX}/invocation/next`) {
        waiting.push(res);
        hand();
        return;
      }
      const m = /^\/2018-06-01\/runtime\/invocation\/([^/]+)\/(response|error)$/.exec(path);
      if (req.method === 'POST' && m) {
        const pending = inFlight.get(m[1]!);
        if (!pending) {
          res.writeHead(400, { 'content-type': 'application/json' });
          res.end('{"errorMessage":"unknown request id","errorType":"InvalidRequestID"}');
          return;
        }
        inFlight.delete(m[1]!);
        const errorType = req.headers['lambda-runtime-function-error-type'];
        pending.settle(
          m[2] === 'response'
            ? { kind: 'response', body, requestHeaders: req.headers }
            : { kind: 'error', errorType: Array.isArray(errorType) ? errorType[0] : errorType, body },
        );
        accepted();
        return;
      }
      if (req.method === 'POST' && path === `${PREFIX}/init/error`) {
        const errorType = req.headers['lambda-runtime-function-error-type'];
        reportInitError({ errorType: Array.isArray(errorType) ? errorType[0] : errorType, body });
        accepted();
        return;
      }
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end('{"errorMessage":"no such route","errorType":"NotFound"}');
    });
  });
  server.on('connection', () => (connections += 1));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = `127.0.0.1:${(server.address() as AddressInfo).port}`;

  child = spawn(options.executable, [], {
    cwd: options.cwd,
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      ...options.env,
      AWS_LAMBDA_RUNTIME_API: address,
      _HANDLER: options.handler ?? 'stand-in.handler',
      LAMBDA_TASK_ROOT: options.cwd,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
  child.on('exit', (code, signal) => {
    exited = true;
    for (const pending of inFlight.values()) pending.settle({ kind: 'exit', code, signal });
    inFlight.clear();
  });

  return {
    address,
    requests,
    connections: () => connections,
    output: () => output,
    initError,
    invoke(event, timeoutMs = 10_000) {
      const requestId = randomUUID();
      const deadlineMs = Date.now() + timeoutMs;
      let settle!: (o: StandInOutcome) => void;
      const outcome = new Promise<StandInOutcome>((resolve) => {
        const timer = setTimeout(() => {
          inFlight.delete(requestId);
          resolve({ kind: 'timeout' });
        }, timeoutMs);
        settle = (o) => {
          clearTimeout(timer);
          resolve(o);
        };
      });
      const pending = { requestId, deadlineMs, body: Buffer.from(JSON.stringify(event)), settle };
      if (exited) settle({ kind: 'exit', code: child?.exitCode ?? null, signal: null });
      else {
        queue.push(pending);
        hand();
      }
      return { requestId, deadlineMs, outcome };
    },
    async close() {
      if (child && !exited) {
        const gone = new Promise<void>((resolve) => child!.once('exit', () => resolve()));
        child.kill('SIGKILL');
        await gone;
      }
      for (const res of waiting.splice(0)) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
