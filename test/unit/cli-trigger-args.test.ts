/**
 * `hearth trigger add` and `hearth destinations set` arguments, parsed
 * without a gateway: each type takes only its own flags, integers and JSON
 * are checked on the command line (exit 2 with the flag named), the type
 * comes from --schedule or the URL's scheme, and what is left out is left
 * to the gateway's defaults. Also how a trigger and a log line read.
 */
import { describe, expect, it } from 'vitest';
import { CliError } from '../../gateway/cli/cli-error.ts';
import { describeDestination, parseDestination, parseSetArgs } from '../../gateway/cli/commands/destinations.ts';
import { modeTag } from '../../gateway/cli/commands/logs.ts';
import { nextOrLag, parseAddArgs, relativeTime, renderTriggerList, sourceOf, stateOf, type TriggerAnswer } from '../../gateway/cli/commands/trigger.ts';

const add = (...args: string[]) => parseAddArgs(['fn', 'tick', ...args]);

/** The usage error `run` throws (exit 2), or a failure naming what it returned. */
function usage(run: () => unknown): string {
  try {
    const got = run();
    throw new Error(`expected a usage error, got ${JSON.stringify(got)}`);
  } catch (err) {
    if (!(err instanceof CliError)) throw err;
    expect(err).toMatchObject({ code: 'UsageError', exitCode: 2 });
    return err.message;
  }
}

describe('hearth trigger add arguments', () => {
  it('builds a schedule body with only what was given', () => {
    expect(add('--schedule', 'rate(5 minutes)')).toEqual({ functionName: 'fn', trigger: 'tick', body: { type: 'schedule', schedule: 'rate(5 minutes)' } });
    expect(add('--schedule', 'cron(0 3 * * ? *)', '--timezone', 'Europe/Paris', '--event', '{"k":1}', '--alias', 'live', '--disabled')).toEqual({
      functionName: 'fn',
      trigger: 'tick',
      body: { type: 'schedule', schedule: 'cron(0 3 * * ? *)', timezone: 'Europe/Paris', event: { k: 1 }, target: { alias: 'live' }, enabled: false },
    });
    expect(add('--type', 'schedule', '--schedule', 'rate(1 hour)', '--version', '3')).toMatchObject({ body: { type: 'schedule', target: { version: 3 } } });
  });

  it('builds each source type, numbers as numbers, the type from the URL scheme when --type is left out', () => {
    expect(
      add('--type', 'amqp', '--url', 'amqp://u:p@h:5672', '--queue', 'orders', '--batch-size', '25', '--batch-window-ms', '0', '--max-concurrency', '4', '--max-retries', '0', '--dead-letter', 'orders-dead', '--ordered', '--prefetch', '100'),
    ).toMatchObject({
      body: { type: 'amqp', url: 'amqp://u:p@h:5672', queue: 'orders', batchSize: 25, batchWindowMs: 0, maxConcurrency: 4, maxRetries: 0, deadLetter: 'orders-dead', ordered: true, prefetch: 100 },
    });
    expect(add('--url', 'redis://h:6379/0', '--stream', 's', '--group', 'g', '--start', 'earliest')).toMatchObject({ body: { type: 'redis-stream', stream: 's', group: 'g', start: 'earliest' } });
    expect(add('--url', 'nats://h:4222', '--stream', 'ORDERS', '--subject', 'orders.>', '--durable', 'd')).toMatchObject({ body: { type: 'nats', stream: 'ORDERS', subject: 'orders.>', durable: 'd' } });
    expect(add('--url', 'mqtts://h', '--topic', 'a/b/#')).toMatchObject({ body: { type: 'mqtt', topic: 'a/b/#' } });
  });

  it('takes a whole body from --json, alone', () => {
    expect(add('--json', 'body.json')).toEqual({ functionName: 'fn', trigger: 'tick', jsonFrom: 'body.json' });
    expect(add('--json', '-')).toMatchObject({ jsonFrom: '-' });
    expect(usage(() => add('--json', '-', '--batch-size', '3'))).toMatch(/--json sends the whole body; --batch-size does not go with it/);
  });

  it.each([
    [[], /missing --schedule <expression>, or --type <type> --url <url>/],
    [['--schedule', 'rate(1 minute)', '--queue', 'q'], /--queue does not go with type schedule \(it is for amqp\)/],
    [['--type', 'nats', '--url', 'nats://h', '--queue', 'q'], /--queue does not go with type nats/],
    [['--type', 'amqp', '--url', 'amqp://h', '--stream', 's'], /--stream does not go with type amqp/],
    [['--type', 'redis-stream', '--url', 'redis://h', '--stream', 's', '--durable', 'd'], /--durable does not go with type redis-stream/],
    [['--type', 'amqp', '--url', 'amqp://h'], /missing --queue <name>/],
    [['--type', 'amqp', '--queue', 'q'], /missing --url/],
    [['--type', 'kafka', '--url', 'kafka://h'], /--type must be one of schedule, redis-stream, amqp, nats, mqtt, got "kafka"/],
    [['--type', 'schedule'], /missing --schedule/],
    [['--url', 'http://h', '--queue', 'q'], /does not say which broker it is: pass --type/],
    [['--url', 'amqp://h', '--queue', 'q', '--batch-size', 'ten'], /--batch-size must be an integer of at least 1, got "ten"/],
    [['--url', 'amqp://h', '--queue', 'q', '--max-retries=-1'], /--max-retries must be an integer/],
    [['--url', 'amqp://h', '--queue', 'q', '--event', '{}'], /--event goes with --schedule/],
    [['--url', 'redis://h', '--stream', 's', '--start', 'middle'], /--start must be earliest or latest/],
    [['--schedule', 'rate(1 minute)', '--event', '{nope'], /--event is not valid JSON/],
    [['--schedule', 'rate(1 minute)', '--alias', 'a', '--version', '2'], /either --alias or --version/],
    [['--schedule', 'rate(1 minute)', '--alias', 'Live'], /--alias must be an alias name/],
    [['--schedule', 'rate(1 minute)', '--version', '0'], /--version must be an integer of at least 1/],
    [['--schedule', 'rate(1 minute)', '--frob'], /Unknown option '--frob'/],
  ])('refuses %j with a usage error', (args, message) => {
    expect(usage(() => add(...args))).toMatch(message);
  });

  it('refuses a trigger name the API could not route, and missing positionals', () => {
    expect(usage(() => parseAddArgs(['fn', 'Bad_Name', '--schedule', 'rate(1 minute)']))).toMatch(/<trigger> must be a lowercase letter/);
    expect(usage(() => parseAddArgs(['fn', 'x\u001b[2J', '--schedule', 'rate(1 minute)']))).toMatch(/<trigger> must be/);
    expect(usage(() => parseAddArgs(['fn']))).toMatch(/missing <trigger>/);
  });
});

describe('hearth destinations set arguments', () => {
  it('reads each kind of destination word', () => {
    expect(parseDestination('on-success', 'function:other')).toEqual({ type: 'function', name: 'other' });
    expect(parseDestination('on-success', 'function:other@live')).toEqual({ type: 'function', name: 'other', alias: 'live' });
    expect(parseDestination('on-failure', 'webhook:https://example.com/hook?x=1')).toEqual({ type: 'webhook', url: 'https://example.com/hook?x=1' });
    expect(parseDestination('on-failure', 'redis-stream:redis://h:6379/0#outcomes')).toEqual({ type: 'redis-stream', url: 'redis://h:6379/0', stream: 'outcomes' });
    expect(parseDestination('on-failure', 'amqp:amqp://u:p@h#dead')).toEqual({ type: 'amqp', url: 'amqp://u:p@h', queue: 'dead' });
    expect(parseDestination('on-failure', 'nats:nats://h#a.b')).toEqual({ type: 'nats', url: 'nats://h', subject: 'a.b' });
    expect(parseDestination('on-failure', 'none')).toBeNull();
  });

  it('builds the PUT body (a condition left out is none) and puts --secret on the webhooks', () => {
    expect(parseSetArgs(['fn', '--on-success', 'function:b'])).toEqual({ functionName: 'fn', body: { onSuccess: { type: 'function', name: 'b' }, onFailure: null } });
    expect(parseSetArgs(['fn', '--on-success', 'function:b', '--on-failure', 'webhook:http://h/x', '--secret', '0123456789abcdef'])).toEqual({
      functionName: 'fn',
      body: { onSuccess: { type: 'function', name: 'b' }, onFailure: { type: 'webhook', url: 'http://h/x', secret: '0123456789abcdef' } },
    });
    expect(parseSetArgs(['fn', '--json', '-'])).toEqual({ functionName: 'fn', jsonFrom: '-' });
  });

  it.each([
    [['fn'], /missing --on-success and\/or --on-failure/],
    [['fn', '--on-success', 'queue:x'], /unknown type "queue"/],
    [['fn', '--on-success', 'function:'], /names no function/],
    [['fn', '--on-success', 'webhook:ftp://h'], /needs an http:\/\/ or https:\/\/ URL/],
    [['fn', '--on-success', 'amqp:amqp://h'], /needs amqp:<url>#<queue>/],
    [['fn', '--on-success', 'amqp:amqp://h#'], /needs amqp:<url>#<queue>/],
    [['fn', '--on-success', 'function:b', '--secret', '0123456789abcdef'], /--secret signs a webhook/],
    [['fn', '--json', 'x.json', '--on-success', 'function:b'], /--json sends the whole body/],
  ])('refuses %j with a usage error', (args, message) => {
    expect(usage(() => parseSetArgs(args))).toMatch(message);
  });

  it('describes what the API shows', () => {
    expect(describeDestination({ type: 'function', name: 'b', alias: 'live' })).toBe('function b@live');
    expect(describeDestination({ type: 'webhook', url: 'https://h/x', secret: '****' })).toBe('webhook https://h/x (signed with its own secret)');
    expect(describeDestination({ type: 'amqp', url: 'amqp://u:****@h', queue: 'q' })).toBe('amqp amqp://u:****@h queue q');
    expect(describeDestination(null)).toBe('none');
  });
});

describe('how triggers and log lines read', () => {
  const now = Date.UTC(2025, 0, 1, 12, 0, 0);
  const status = { state: 'running', lastRunAt: null, nextRunAt: null, lag: null, lastError: null, lastInvocationId: null, batches: 0, messages: 0, failures: 0 };
  const view = (over: Partial<TriggerAnswer>): TriggerAnswer => ({ name: 't', type: 'schedule', enabled: true, target: { alias: 'latest' }, status, createdAt: '', updatedAt: '', ...over });

  it('says times relative to now', () => {
    expect(relativeTime(now + 4_400, now)).toBe('in 4s');
    expect(relativeTime(now + 200, now)).toBe('now');
    expect(relativeTime(now - 90_000, now)).toBe('1m ago');
    expect(relativeTime(now - 3 * 3600_000, now)).toBe('3h ago');
    expect(relativeTime(now + 2 * 86_400_000, now)).toBe('in 2d');
  });

  it('names the source, the state (paused when disabled) and the next tick or the lag', () => {
    expect(sourceOf(view({ schedule: 'rate(5 minutes)', timezone: 'UTC' }))).toBe('rate(5 minutes)');
    expect(sourceOf(view({ schedule: 'cron(0 3 * * ? *)', timezone: 'Europe/Paris' }))).toBe('cron(0 3 * * ? *) Europe/Paris');
    expect(sourceOf(view({ type: 'amqp', url: 'amqp://guest:****@127.0.0.1:5672', queue: 'orders' }))).toBe('queue orders @ 127.0.0.1:5672');
    expect(sourceOf(view({ type: 'nats', url: 'nats://h:4222', stream: 'S', subject: 'a.>' }))).toBe('stream S subject a.> @ h:4222');
    expect(stateOf(view({}))).toBe('running');
    expect(stateOf(view({ enabled: false, status: { ...status, state: 'idle' } }))).toBe('paused');
    expect(nextOrLag(view({ status: { ...status, nextRunAt: now + 30_000 } }), now)).toBe('next in 30s');
    expect(nextOrLag(view({ enabled: false, status: { ...status, nextRunAt: now + 30_000 } }), now)).toBe('–');
    expect(nextOrLag(view({ type: 'redis-stream', status: { ...status, lag: 12 } }), now)).toBe('lag 12');
  });

  it('lists triggers with a shortened last error, its control characters escaped', () => {
    const message = `broker said \u001b]0;owned\u0007 ${'x'.repeat(200)}`;
    const table = renderTriggerList([view({ schedule: 'rate(1 minute)', status: { ...status, state: 'error', lastRunAt: now - 5000, lastError: { message, at: now } } })], now);
    const [head, row] = table.trimEnd().split('\n');
    expect(head).toMatch(/^TRIGGER\s+TYPE\s+STATE\s+SOURCE\s+NEXT \/ LAG\s+LAST RUN\s+LAST ERROR$/);
    expect(row).toMatch(/^t\s+schedule\s+error\s+rate\(1 minute\)\s+–\s+5s ago\s+broker said \\x1b\]0;owned\\x07 x+…$/);
    expect(row).not.toMatch(/[\u0000-\u001f]/);
    expect(row!.length).toBeLessThan(200);
  });

  it('tags a log line with the mode and the trigger', () => {
    expect(modeTag({ mode: 'schedule', trigger: 'nightly' })).toBe('[schedule nightly]');
    expect(modeTag({ mode: 'sync', trigger: null })).toBe('[sync]');
    expect(modeTag({})).toBe('');
  });
});
