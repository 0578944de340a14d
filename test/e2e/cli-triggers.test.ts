/**
 * `hearth trigger …` and `hearth destinations …` end to end: a real platform
 * that may reach the brokers at 127.0.0.1, driven by the CLI as a child
 * process. A schedule ticking every second shows running with its next tick
 * and then its last run, and its calls are tagged in `hearth logs`; pause,
 * resume and rm; a trigger on a real RabbitMQ queue is listed and runs; a
 * hostile error text is printed escaped; the API's refusals are one line
 * with their code (exit 1), usage mistakes exit 2.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { amqpKit, AMQP_URL, type BrokerKit } from '../helpers/broker-kits.ts';
import { removeTempDirs, tempDir } from '../helpers/code-fixtures.ts';
import { cliWith, RAW_CONTROL, STACK, suffix } from '../helpers/cli-platform.ts';
import { deploy } from '../helpers/packages.ts';
import { startPlatform, type Platform } from '../helpers/platform.ts';
import { waitFor } from '../helpers/wait.ts';

/** Each CLI run is a Node process of its own: seconds apiece on a busy machine. */
const TEST_MS = 180_000;

const CODE = `exports.handler = async (event) => ({ got: event.Records ? event.Records.length : 'tick' });`;

describe('hearth CLI: triggers and destinations', () => {
  let platform: Platform;
  let env: Record<string, string>;
  let kit: BrokerKit;
  const hearth = cliWith(() => env);
  const name = `triggered-${suffix()}`;
  const other = `outcomes-${suffix()}`;
  let tickInvocation = '';

  beforeAll(async () => {
    kit = await amqpKit();
    platform = await startPlatform({ outboundAllowHosts: ['127.0.0.1'] });
    env = { HOME: await tempDir('hearth-home-'), HEARTH_URL: platform.url, HEARTH_API_KEY: platform.apiKey };
    for (const fn of [name, other]) {
      const res = await deploy(platform, fn, { bytes: Buffer.from(CODE), filename: 'index.js' }, { runtime: 'nodejs20' });
      expect(res.status, await res.clone().text()).toBe(201);
    }
  }, 120_000);
  afterAll(async () => {
    for (const fn of [name, other]) await platform?.api(`/v1/functions/${fn}`, { method: 'DELETE' });
    await platform?.stop();
    await kit?.close();
    await removeTempDirs();
  });

  /** The row of `trigger` in `hearth trigger list`, as its columns. */
  const listed = async (trigger: string) => {
    const run = await hearth(['trigger', 'list', name]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const line = run.stdout.split('\n').find((l) => l.startsWith(`${trigger} `));
    return line?.split(/\s{2,}/) ?? null;
  };

  it('adds a schedule that shows running with its next tick, then its last run', { timeout: TEST_MS }, async () => {
    const added = await hearth(['trigger', 'add', name, 'tick', '--schedule', 'rate(1 second)']);
    expect(added.stderr).toBe('');
    expect(added).toMatchObject({ code: 0 });
    expect(added.stdout).toMatch(new RegExp(`^created trigger tick of ${name}: schedule rate\\(1 second\\), running, next (in \\ds|now|\\d+s ago)\\n$`));

    const header = (await hearth(['trigger', 'list', name])).stdout.split('\n')[0];
    expect(header).toMatch(/^TRIGGER\s+TYPE\s+STATE\s+SOURCE\s+NEXT \/ LAG\s+LAST RUN\s+LAST ERROR$/);
    const first = await listed('tick');
    expect(first?.slice(0, 4)).toEqual(['tick', 'schedule', 'running', 'rate(1 second)']);
    // A busy machine may run the ticks late: the next one can be due already.
    expect(first?.[4]).toMatch(/^next (in \ds|now|\d+s ago)$/);

    let row: string[] | null = null;
    await waitFor('the list to show a last run', async () => /^(\d+s ago|now)$/.test((row = await listed('tick'))?.[5] ?? ''), 30_000, 500);
    expect(row!.slice(0, 3)).toEqual(['tick', 'schedule', 'running']);

    const show = await hearth(['trigger', 'show', name, 'tick']);
    expect(show.code).toBe(0);
    expect(show.stdout).toMatch(new RegExp(`^trigger tick of ${name}\\n`));
    expect(show.stdout).toMatch(/^ {2}target\s+alias latest$/m);
    expect(show.stdout).toMatch(/^ {2}next tick\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC \((in \d+s|now|\d+s ago)\)$/m);
    const invocationId = /^ {2}last invocation\s+([0-9a-f-]{36})$/m.exec(show.stdout)?.[1];
    expect(invocationId, show.stdout).toBeDefined();
    const json = await hearth(['trigger', 'show', name, 'tick', '--json']);
    expect(JSON.parse(json.stdout)).toMatchObject({ name: 'tick', type: 'schedule', schedule: 'rate(1 second)', status: { state: 'running' } });

    tickInvocation = invocationId!;
  });

  it('tags each tick in hearth logs with its mode and trigger', { timeout: TEST_MS }, async () => {
    const recorded = async () => {
      const res = await platform.api(`/v1/invocations/${tickInvocation}`);
      return res.status === 200 && (await res.json()).status === 'succeeded';
    };
    await waitFor('the tick to be recorded', recorded, 30_000, 250);
    const logs = await hearth(['logs', name, '--limit', '500']);
    expect(logs.code).toBe(0);
    expect(logs.stdout).toMatch(new RegExp(`^START RequestId: ${tickInvocation}\\tVersion: 1\\tTime: \\S+\\t\\[schedule tick\\]$`, 'm'));
  });

  it('pauses, resumes and removes the schedule', { timeout: TEST_MS }, async () => {
    const paused = await hearth(['trigger', 'pause', name, 'tick']);
    expect(paused).toMatchObject({ code: 0, stdout: `paused trigger tick of ${name}: schedule rate(1 second), paused\n` });
    expect((await listed('tick'))?.slice(0, 5)).toEqual(['tick', 'schedule', 'paused', 'rate(1 second)', '–']);
    expect((await (await platform.api(`/v1/functions/${name}/triggers/tick`)).json()).enabled).toBe(false);

    const resumed = await hearth(['trigger', 'resume', name, 'tick']);
    expect(resumed.code).toBe(0);
    expect(resumed.stdout).toMatch(new RegExp(`^resumed trigger tick of ${name}: schedule rate\\(1 second\\), running, next (in \\ds|now|\\d+s ago)\\n$`));
    expect((await listed('tick'))?.[2]).toBe('running');

    expect(await hearth(['trigger', 'rm', name, 'tick'])).toMatchObject({ code: 0, stdout: `removed trigger tick of ${name}\n` });
    const gone = await hearth(['trigger', 'show', name, 'tick']);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toMatch(/^hearth: TriggerNotFound: /);
    const none = await hearth(['trigger', 'list', name]);
    expect(none).toMatchObject({ code: 0, stdout: '' });
    expect(none.stderr).toMatch(/^no triggers on /);
  });

  it('adds a trigger on a real RabbitMQ queue: listed with its queue, running, then with a last run; the password never shown', { timeout: TEST_MS }, async () => {
    const queue = kit.settings.queue as string;
    const added = await hearth(['trigger', 'add', name, 'orders', '--type', 'amqp', '--url', AMQP_URL, '--queue', queue, '--batch-size', '5', '--batch-window-ms', '50', '--max-retries', '1', '--dead-letter', kit.settings.deadLetter as string]);
    expect(added.stderr).toBe('');
    expect(added.code).toBe(0);
    expect(added.stdout).toMatch(new RegExp(`^created trigger orders of ${name}: amqp queue ${queue} @ 127\\.0\\.0\\.1:5672, `));
    expect((await platform.api(`/v1/functions/${name}/triggers/orders`)).status).toBe(200);

    await waitFor('the list to show the source running', async () => (await listed('orders'))?.[2] === 'running', 30_000, 500);
    expect((await listed('orders'))?.slice(0, 4)).toEqual(['orders', 'amqp', 'running', `queue ${queue} @ 127.0.0.1:5672`]);
    for (let i = 0; i < 3; i++) await kit.publish(`message-${i}`);
    await waitFor('the list to show a last run', async () => /^(\d+s ago|now)$/.test((await listed('orders'))?.[5] ?? ''), 30_000, 500);

    const show = await hearth(['trigger', 'show', name, 'orders']);
    expect(show.code).toBe(0);
    expect(show.stdout).toMatch(/^ {2}url\s+amqp:\/\/guest:\*{4}@127\.0\.0\.1:5672$/m);
    expect(show.stdout).toMatch(/^ {2}batch size\s+5$/m);
    expect(show.stdout).toMatch(/^ {2}totals\s+\d+ batches, [1-9]\d* messages, 0 failures$/m);
    expect(show.stdout).not.toContain('guest:guest');
  });

  it('prints a hostile error text and a hostile trigger name escaped', { timeout: TEST_MS }, async () => {
    // A cron, not a rate: a new rate schedule ticks at once, and its runner's status would race the one written here.
    expect((await hearth(['trigger', 'add', name, 'yearly', '--schedule', 'cron(0 4 1 1 ? *)'])).code).toBe(0);
    // The status as a runner writes it, with a broker's (or anyone's) words holding terminal escapes.
    const hostile = 'refused: \u001b]0;pwned\u0007\u001b[2J\u009b31m \u202eevil\r\nx';
    const { rows } = await platform.database.pool.query('select id from triggers where name = $1 and function_id = (select id from functions where name = $2)', ['yearly', name]);
    const redis = new Redis(platform.redisUrl);
    try {
      await redis.hset(`${platform.prefix}:trigger-status:${rows[0].id}`, 'state', JSON.stringify('error'), 'lastError', JSON.stringify({ message: hostile, at: Date.now() }));
    } finally {
      redis.disconnect();
    }
    const list = await hearth(['trigger', 'list', name]);
    expect(list.code).toBe(0);
    expect(list.stdout).not.toMatch(RAW_CONTROL);
    const row = list.stdout.split('\n').find((l) => l.startsWith('yearly '));
    expect(row).toMatch(/\s+error\s+.*refused: \\x1b\]0;pwned\\x07\\x1b\[2J\\x9b31m \\u202eevil\\r\\nx$/);
    const show = await hearth(['trigger', 'show', name, 'yearly']);
    expect(show.code).toBe(0);
    expect(show.stdout).not.toMatch(RAW_CONTROL);
    expect(show.stdout).toContain('refused: \\x1b]0;pwned\\x07\\x1b[2J\\x9b31m \\u202eevil');
    const json = await hearth(['trigger', 'show', name, 'yearly', '--json']);
    expect(json.stdout).not.toMatch(RAW_CONTROL);
    expect(JSON.parse(json.stdout).status.lastError.message).toBe(hostile);

    const badName = await hearth(['trigger', 'show', name, 'x\u001b[2Jy']);
    expect(badName.code).toBe(2);
    expect(badName.stderr).toContain('got "x\\x1b[2Jy"');
    expect(badName.stderr).not.toMatch(RAW_CONTROL);
    expect((await hearth(['trigger', 'rm', name, 'yearly'])).code).toBe(0);
  });

  it('shows the API refusals as one line with their code (exit 1), usage mistakes exit 2', { timeout: TEST_MS }, async () => {
    const refusals: Array<[string[], RegExp]> = [
      [['trigger', 'add', name, 'nowhere', '--url', AMQP_URL, '--queue', `no-such-queue-${suffix()}`], /^hearth: InvalidTrigger: .*no-such-queue/],
      [['trigger', 'add', name, 'often', '--schedule', 'rate(0 minutes)'], /^hearth: InvalidTrigger: schedule: /],
      [['trigger', 'add', name, 'big', '--url', AMQP_URL, '--queue', 'q', '--batch-size', '5000'], /^hearth: \w+: .*batchSize must be an integer from 1 to 1000/],
      [['trigger', 'list', `no-such-${suffix()}`], /^hearth: FunctionNotFound: /],
      [['trigger', 'pause', name, 'nope'], /^hearth: TriggerNotFound: /],
      [['destinations', 'set', name, '--on-success', `function:no-such-${suffix()}`], /^hearth: DestinationNotFound: /],
    ];
    for (const [args, message] of refusals) {
      const run = await hearth(args);
      expect({ args, code: run.code }).toEqual({ args, code: 1 });
      expect(run.stderr).toMatch(message);
      expect(run.stderr).not.toMatch(STACK);
      expect(run.stdout).toBe('');
    }
    const mistakes: Array<[string[], RegExp]> = [
      [['trigger'], /UsageError: missing <add\|list\|show\|rm\|pause\|resume>/],
      [['trigger', 'add', name, 'x'], /UsageError: missing --schedule <expression>/],
      [['trigger', 'add', name, 'x', '--schedule', 'rate(1 hour)', '--queue', 'q'], /UsageError: --queue does not go with type schedule/],
      [['destinations', 'set', name, '--on-success', 'carrier-pigeon:x'], /UsageError: --on-success has an unknown type/],
    ];
    for (const [args, message] of mistakes) {
      const run = await hearth(args);
      expect({ args, code: run.code }).toEqual({ args, code: 2 });
      expect(run.stderr).toMatch(message);
    }
  });

  it('sets, shows and removes destinations', { timeout: TEST_MS }, async () => {
    const set = await hearth(['destinations', 'set', name, '--on-success', `function:${other}`, '--on-failure', 'webhook:http://127.0.0.1:9/hook', '--secret', '0123456789abcdef']);
    expect(set.stderr).toBe('');
    expect(set).toMatchObject({ code: 0, stdout: `set the destinations of ${name}: on success function ${other}; on failure webhook http://127.0.0.1:9/hook (signed with its own secret)\n` });
    const api = await (await platform.api(`/v1/functions/${name}/destinations`)).json();
    expect(api).toMatchObject({ onSuccess: { type: 'function', name: other }, onFailure: { type: 'webhook', url: 'http://127.0.0.1:9/hook', secret: '****' } });

    const show = await hearth(['destinations', 'show', name]);
    expect(show.code).toBe(0);
    expect(show.stdout).toMatch(new RegExp(`^destinations of ${name} \\(updated \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d UTC\\)\\n {2}on success\\s+function ${other}\\n {2}on failure\\s+webhook http://127\\.0\\.0\\.1:9/hook \\(signed with its own secret\\)\\n$`));
    expect(show.stdout).not.toContain('0123456789abcdef');
    expect(JSON.parse((await hearth(['destinations', 'show', name, '--json'])).stdout)).toEqual(api);

    // set replaces both: the failure destination left out is gone.
    expect((await hearth(['destinations', 'set', name, '--on-success', `function:${other}@latest`])).code).toBe(0);
    expect(await (await platform.api(`/v1/functions/${name}/destinations`)).json()).toMatchObject({ onSuccess: { name: other, alias: 'latest' }, onFailure: null });

    expect(await hearth(['destinations', 'rm', name])).toMatchObject({ code: 0, stdout: `removed the destinations of ${name}\n` });
    expect((await hearth(['destinations', 'show', name])).stdout).toBe(`destinations of ${name}\n  on success  none\n  on failure  none\n`);
  });
});
