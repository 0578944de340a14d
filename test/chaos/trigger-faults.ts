/**
 * The faults of the trigger chaos run, spread over the publishing window and
 * applied one after another: SIGKILL a worker and restart the platform's
 * Redis (the plain run's faults, `faults.ts`), restart the stream's own
 * Redis (SIGTERM, start on the same AOF), restart RabbitMQ
 * (`rabbitmqctl stop_app` / `start_app`), and SIGKILL the gateway holding a
 * trigger's lease while another one runs (which must take it over). Every
 * step lands in the run's timeline.
 */
import { sleep } from '../helpers/wait.ts';
import type { ChaosStack } from './chaos-stack.ts';
import type { FaultInjector } from './faults.ts';
import { rabbitControllable, restartRabbit } from './trigger-brokers.ts';
import type { Publisher } from './trigger-sender.ts';
import type { TriggerApi, TriggerWatcher } from './trigger-watch.ts';

export type TriggerFaultKind = 'worker-kill' | 'redis-restart' | 'stream-restart' | 'rabbit-restart' | 'gateway-kill';

export interface TriggerFaultPlan {
  workerKills: number;
  /** Restarts of the platform's own Redis. */
  redisRestarts: number;
  /** Restarts of the stream's Redis. */
  streamRestarts: number;
  rabbitRestarts: number;
  /** SIGKILLs of the gateway holding a trigger's lease (needs two gateways). */
  gatewayKills: number;
  /** How long the stream's Redis and RabbitMQ stay down. */
  brokerDownMs: number;
}

export interface TakeOver {
  trigger: string;
  /** Seconds from the kill until another gateway ran it; null: not within the wait. */
  seconds: number | null;
}

const ORDER: TriggerFaultKind[] = ['worker-kill', 'stream-restart', 'redis-restart', 'rabbit-restart', 'gateway-kill'];

/** When each fault starts: evenly over the middle 80 % of the window, kinds interleaved. */
export function scheduleTriggerFaults(plan: TriggerFaultPlan, windowMs: number): Array<{ atMs: number; kind: TriggerFaultKind }> {
  const left: Record<TriggerFaultKind, number> = {
    'worker-kill': plan.workerKills,
    'redis-restart': plan.redisRestarts,
    'stream-restart': plan.streamRestarts,
    'rabbit-restart': plan.rabbitRestarts,
    'gateway-kill': plan.gatewayKills,
  };
  const kinds: TriggerFaultKind[] = [];
  while (Object.values(left).some((n) => n > 0)) {
    for (const kind of ORDER) {
      if (left[kind] > 0) {
        kinds.push(kind);
        left[kind] -= 1;
      }
    }
  }
  return kinds.map((kind, i) => ({ kind, atMs: Math.round(windowMs * (0.1 + (0.8 * (i + 0.5)) / kinds.length)) }));
}

export interface TriggerFaultContext {
  stack: ChaosStack;
  /** The plain run's injector: worker kills, the platform's Redis, and the timeline. */
  base: FaultInjector;
  plan: TriggerFaultPlan;
  startedAt: number;
  amqpPublisher: Publisher | null;
  api: TriggerApi;
  watcher: TriggerWatcher;
  triggers: readonly string[];
}

/** Applies the schedule in order; returns what was skipped (with why) and the lease takeovers measured. */
export async function runTriggerFaults(
  ctx: TriggerFaultContext,
  schedule: Array<{ atMs: number; kind: TriggerFaultKind }>,
): Promise<{ skipped: string[]; takeovers: TakeOver[] }> {
  const skipped: string[] = [];
  const takeovers: TakeOver[] = [];
  let gatewayKills = 0;
  const rabbitProblem = schedule.some((s) => s.kind === 'rabbit-restart') ? await rabbitControllable() : null;
  for (const { atMs, kind } of schedule) {
    const wait = ctx.startedAt + atMs - Date.now();
    if (wait > 0) await sleep(wait);
    if (ctx.stack.stopping) break;
    if (kind === 'worker-kill') await killBusyWorker(ctx);
    else if (kind === 'redis-restart') await ctx.base.restartRedis();
    else if (kind === 'stream-restart') await restartStream(ctx);
    else if (kind === 'rabbit-restart') {
      const why = rabbitProblem ?? (await restartRabbitPaused(ctx));
      if (why) {
        skipped.push(`rabbit-restart: ${why}`);
        ctx.base.note(`RabbitMQ restart SKIPPED: ${why}`);
      }
    } else {
      const trigger = ctx.triggers[gatewayKills++ % ctx.triggers.length]!;
      const result = await killLeaseHolder(ctx, trigger);
      if (typeof result === 'string') {
        skipped.push(`gateway-kill: ${result}`);
        ctx.base.note(`gateway kill SKIPPED: ${result}`);
      } else takeovers.push(...result);
    }
  }
  return { skipped, takeovers };
}

/**
 * SIGKILLs the worker running the most invocations (waiting up to 5 s for one
 * to run any: a kill between batches proves little), then starts it again
 * under the same id 2 s later, as the plain run does.
 */
async function killBusyWorker(ctx: TriggerFaultContext): Promise<void> {
  let victim = ctx.stack.workerIds[0]!;
  let active = 0;
  for (const until = Date.now() + 5000; active === 0 && Date.now() < until; ) {
    for (const id of ctx.stack.workerIds) {
      const depth = await ctx.base.queueDepth(`-${id}`);
      if (depth.active > active) [victim, active] = [id, depth.active];
    }
    if (active === 0) await sleep(100);
  }
  await ctx.stack.killWorker(victim);
  ctx.base.note(`SIGKILL worker ${victim} (running ${active} invocations of its own queue)`);
  await sleep(2000);
  if (ctx.stack.stopping) return;
  await ctx.stack.startWorker(victim);
  ctx.base.note(`worker ${victim} started again under the same id`);
}

async function restartStream(ctx: TriggerFaultContext): Promise<void> {
  const server = ctx.stack.streamRedis!;
  await server.stop();
  ctx.base.note(`stream redis stopped (SIGTERM; its AOF is flushed) for ${ctx.plan.brokerDownMs / 1000} s`);
  await sleep(ctx.plan.brokerDownMs);
  if (ctx.stack.stopping) return;
  await server.start();
  ctx.base.note('stream redis started again on its AOF');
}

/** The publisher is held around the restart so no message is unconfirmed when RabbitMQ goes (a resend could duplicate it). */
async function restartRabbitPaused(ctx: TriggerFaultContext): Promise<string | null> {
  await ctx.amqpPublisher?.pause();
  try {
    return await restartRabbit(ctx.plan.brokerDownMs, (line) => ctx.base.note(line));
  } finally {
    ctx.amqpPublisher?.resume();
  }
}

/**
 * SIGKILLs the gateway that holds `trigger`'s lease, waits until another
 * gateway runs every trigger it held (the lease is 10 s unrenewed), then
 * starts the killed one again on its ports.
 */
async function killLeaseHolder(ctx: TriggerFaultContext, trigger: string): Promise<TakeOver[] | string> {
  if (ctx.stack.gatewayNames.length < 2) return 'the stack runs one gateway';
  // The holder as last written, whatever the state says (a status written while the platform's Redis was away is lost).
  let status = null as Awaited<ReturnType<TriggerApi['status']>> | null;
  let victim: string | null = null;
  for (const until = Date.now() + 15_000; Date.now() < until && !ctx.stack.stopping; await sleep(500)) {
    status = await ctx.api.status(trigger).catch(() => null);
    victim = status && !status.unreadable ? ctx.watcher.holderName(status.holder) : null;
    if (victim && ctx.stack.gatewayNames.includes(victim)) break;
    victim = null;
  }
  if (!victim) return `trigger ${trigger} has no live holder (${status?.unreadable ? 'status unreadable' : (status?.state ?? 'unreadable')})`;
  const held: string[] = [];
  for (const t of ctx.triggers) {
    const s = t === trigger ? status : await ctx.api.status(t).catch(() => null);
    if (s && ctx.watcher.holderName(s.holder) === victim) held.push(t);
  }
  const pid = ctx.stack.gatewayPids().get(victim);
  const killedAt = Date.now();
  await ctx.stack.killGateway(victim);
  ctx.base.note(`SIGKILL ${victim} (pid ${pid}), holder of ${held.join(', ')}`);
  const takeovers: TakeOver[] = [];
  for (const t of held) {
    let seconds: number | null = null;
    while (Date.now() - killedAt < 60_000 && !ctx.stack.stopping) {
      const s = await ctx.api.status(t).catch(() => null);
      const holder = s ? ctx.watcher.holderName(s.holder) : null;
      if (s?.state === 'running' && holder && holder !== victim && ctx.stack.gatewayNames.includes(holder)) {
        seconds = Math.round((Date.now() - killedAt) / 100) / 10;
        ctx.base.note(`trigger ${t} taken over by ${holder} ${seconds} s after the kill`);
        break;
      }
      await sleep(200);
    }
    if (seconds === null) ctx.base.note(`trigger ${t} NOT taken over within 60 s of the kill`);
    takeovers.push({ trigger: t, seconds });
  }
  if (!ctx.stack.stopping) {
    await ctx.stack.startGateway(victim);
    ctx.base.note(`${victim} started again`);
  }
  return takeovers;
}
