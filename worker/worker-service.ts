/**
 * A worker: consumes the invocation queue and runs each call in a sandbox,
 * keeping finished sandboxes warm for the next call to the same version.
 * Takes its ports as arguments; `main.ts` is what wires real clients in.
 */
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { CodeCache, type CodeSource } from './code-cache.ts';
import { SANDBOX_LABELS, type ContainerRuntime } from './container-runtime.ts';
import { subscribeControl, type ControlSubscription } from './control-channel.ts';
import { startInvocationConsumer, type QueueConnection } from './invocation-queue.ts';
import { Invoker, type InvocationRecorder } from './invoker.ts';
import type { Logger } from './logger.ts';
import type { RedisOptions } from 'ioredis';
import { SandboxFactory, type Sandbox } from './sandbox.ts';
import { WarmPool } from './warm-pool.ts';

export interface WorkerSettings {
  workerId: string;
  /** Host directory for the code cache and sandbox sockets. */
  stateDir: string;
  concurrency: number;
  keepAliveMs: number;
  startTimeoutMs: number;
}

export interface WorkerServiceOptions {
  settings: WorkerSettings;
  runtime: ContainerRuntime;
  codeSource: CodeSource;
  recorder: InvocationRecorder;
  queue: QueueConnection;
  /** Where to listen for control broadcasts (function deletions). */
  redis: RedisOptions;
  log: Logger;
}

export interface WorkerService {
  /** Idle sandboxes kept warm right now. */
  idleCount(): number;
  /** Stops taking work, lets running calls finish, removes every container. */
  stop(): Promise<void>;
}

export async function startWorkerService(options: WorkerServiceOptions): Promise<WorkerService> {
  const { settings, runtime, log } = options;
  await runtime.ping();
  await removeLeftovers(runtime, settings, log);

  const sandboxesDir = join(settings.stateDir, 'sandboxes', settings.workerId);
  await mkdir(sandboxesDir, { recursive: true, mode: 0o755 });
  const codeCache = new CodeCache({ dir: join(settings.stateDir, 'code'), source: options.codeSource });

  const destroying = new Set<Promise<void>>();
  const discard = (sandbox: Sandbox) => {
    const done = sandbox
      .destroy()
      .catch((err: unknown) => log.warn('could not remove sandbox', { containerId: sandbox.containerId, err }))
      .finally(() => destroying.delete(done));
    destroying.add(done);
  };

  const pool = new WarmPool<Sandbox>({ keepAliveMs: settings.keepAliveMs, onExpire: discard });
  const retired = new Set<string>();
  const factory = new SandboxFactory({
    runtime,
    sandboxesDir,
    workerId: settings.workerId,
    startTimeoutMs: settings.startTimeoutMs,
  });
  const invoker = new Invoker({
    pool,
    factory,
    codeCache,
    recorder: options.recorder,
    discard,
    isRetired: (id) => retired.has(id),
  });

  const control: ControlSubscription = await subscribeControl(options.redis, options.queue.prefix, (message) => {
    if (message.type !== 'function-deleted') return;
    retired.add(message.functionId);
    for (const sandbox of pool.removeWhere((s) => s.fn.functionId === message.functionId)) discard(sandbox);
  });

  const consumer = startInvocationConsumer({
    ...options.queue,
    concurrency: settings.concurrency,
    process: async (job) => {
      try {
        return await invoker.run(job);
      } catch (err) {
        log.error('invocation failed on the platform side', { invocationId: job.invocationId, err });
        throw err;
      }
    },
    onError: (err) => log.warn('queue consumer error', { err }),
  });
  log.info('worker started', { workerId: settings.workerId, concurrency: settings.concurrency });

  let stopped: Promise<void> | null = null;
  return {
    idleCount: () => pool.size(),
    stop() {
      stopped ??= (async () => {
        const t0 = Date.now();
        await consumer.close();
        await control.close();
        for (const sandbox of pool.drain()) discard(sandbox);
        await Promise.all([...destroying]);
        log.info('worker stopped', { workerId: settings.workerId, drainMs: Date.now() - t0 });
      })();
      return stopped;
    },
  };
}

/** Removes containers and socket directories a previous run of this worker left. */
async function removeLeftovers(runtime: ContainerRuntime, settings: WorkerSettings, log: Logger): Promise<void> {
  const ids = await runtime.list({ [SANDBOX_LABELS.managed]: 'true', [SANDBOX_LABELS.worker]: settings.workerId });
  await Promise.all(ids.map((id) => runtime.remove(id)));
  if (ids.length > 0) log.info('removed containers left by a previous run', { count: ids.length });
  await rm(join(settings.stateDir, 'sandboxes', settings.workerId), { recursive: true, force: true });
}
