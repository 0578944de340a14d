/**
 * `hearth trigger add|list|show|rm|pause|resume`: a function's schedules and
 * queue or stream sources (`/v1/functions/{name}/triggers`). The options of
 * `add` are checked here against the trigger's type, so a flag that means
 * nothing for it is a usage error, not a setting silently dropped; ranges and
 * whether the broker answers are the gateway's to say (exit 1, its code and
 * message). Every setting and status shown is the gateway's or the broker's
 * text: printed through `write`/`formatTable`, so it is escaped.
 */
import { readFile } from 'node:fs/promises';
import { ALIAS_NAME } from '../../store/alias-views.ts';
import { TRIGGER_NAME, TRIGGER_TYPES, type TriggerType } from '../../triggers/trigger-settings.ts';
import { inputError, usageError } from '../cli-error.ts';
import { apiError } from '../client.ts';
import { fnPath, intOption, parseCommandArgs, write, type CliContext, type Command } from '../command.ts';
import { formatTime } from '../format.ts';
import { formatTable } from '../table.ts';
import { escapeJsonOrText } from '../terminal-text.ts';

/** A trigger as the API shows it (`GET …/triggers/{trigger}`): its settings flat beside these. */
export interface TriggerAnswer {
  name: string;
  type: string;
  enabled: boolean;
  target: { alias?: string; version?: number };
  status: {
    state: string;
    lastRunAt: number | null;
    nextRunAt: number | null;
    lag: number | null;
    lastError: { message: string; at: number } | null;
    lastInvocationId: string | null;
    batches: number;
    messages: number;
    failures: number;
  };
  createdAt: string;
  updatedAt: string;
  [setting: string]: unknown;
}

type Kind = 'string' | 'int' | 'bool';
const SOURCES: TriggerType[] = ['redis-stream', 'amqp', 'nats', 'mqtt'];
/** Each setting flag: the body field it sets, how it is read, and the types it belongs to. */
const FLAGS: Record<string, { field: string; kind: Kind; min?: number; types: readonly TriggerType[] }> = {
  schedule: { field: 'schedule', kind: 'string', types: ['schedule'] },
  timezone: { field: 'timezone', kind: 'string', types: ['schedule'] },
  url: { field: 'url', kind: 'string', types: SOURCES },
  stream: { field: 'stream', kind: 'string', types: ['redis-stream', 'nats'] },
  queue: { field: 'queue', kind: 'string', types: ['amqp'] },
  subject: { field: 'subject', kind: 'string', types: ['nats'] },
  topic: { field: 'topic', kind: 'string', types: ['mqtt'] },
  group: { field: 'group', kind: 'string', types: ['redis-stream'] },
  start: { field: 'start', kind: 'string', types: ['redis-stream'] },
  durable: { field: 'durable', kind: 'string', types: ['nats'] },
  prefetch: { field: 'prefetch', kind: 'int', min: 1, types: ['amqp'] },
  'batch-size': { field: 'batchSize', kind: 'int', min: 1, types: SOURCES },
  'batch-window-ms': { field: 'batchWindowMs', kind: 'int', min: 0, types: SOURCES },
  'max-concurrency': { field: 'maxConcurrency', kind: 'int', min: 1, types: SOURCES },
  'max-retries': { field: 'maxRetries', kind: 'int', min: 0, types: SOURCES },
  'dead-letter': { field: 'deadLetter', kind: 'string', types: SOURCES },
  ordered: { field: 'ordered', kind: 'bool', types: SOURCES },
};
/** The option naming what a source reads: required for its type. */
const SOURCE_NAME: Record<string, string> = { 'redis-stream': 'stream', amqp: 'queue', nats: 'stream', mqtt: 'topic' };
const SCHEMES: Record<string, TriggerType> = { redis: 'redis-stream', rediss: 'redis-stream', amqp: 'amqp', amqps: 'amqp', nats: 'nats', tls: 'nats', mqtt: 'mqtt', mqtts: 'mqtt' };

export const ADD_OPTIONS = {
  ...(Object.fromEntries(Object.entries(FLAGS).map(([flag, f]) => [flag, { type: f.kind === 'bool' ? 'boolean' : 'string' }])) as Record<string, { type: 'string' | 'boolean' }>),
  type: { type: 'string', short: 't' },
  event: { type: 'string' },
  alias: { type: 'string' },
  version: { type: 'string' },
  disabled: { type: 'boolean' },
  json: { type: 'string' },
} as const;

/** Most bytes of a `--json` body (the API takes 512 KiB). */
export const MAX_JSON_BODY_BYTES = 512 * 1024;

/** What `trigger add` sends: a body built from the options, or one to read from a file (`-`: standard input). */
export type AddRequest = { functionName: string; trigger: string } & ({ body: Record<string, unknown> } | { jsonFrom: string });

/** `hearth trigger add …` arguments (after `add`) → the request; throws a usage error naming the flag. Pure. */
export function parseAddArgs(argv: string[]): AddRequest {
  const parsed = parseCommandArgs('trigger', argv, ADD_OPTIONS, { required: ['function', 'trigger'] });
  const [values, positionals] = [parsed.values as Record<string, string | boolean | undefined>, parsed.positionals];
  const [functionName, trigger] = [positionals[0]!, triggerArg(positionals[1]!)];
  const given = Object.keys(values).filter((k) => values[k] !== undefined);
  if (values.json !== undefined) {
    const other = given.find((k) => k !== 'json');
    if (other) throw usageError(`--json sends the whole body; --${other} does not go with it`, 'trigger');
    return { functionName, trigger, jsonFrom: values.json as string };
  }
  const type = triggerType(values);
  const body: Record<string, unknown> = { type };
  for (const flag of given) {
    const spec = FLAGS[flag];
    if (!spec) continue;
    if (!spec.types.includes(type)) throw usageError(`--${flag} does not go with type ${type} (it is for ${spec.types.join(', ')})`, 'trigger');
    const raw = values[flag];
    body[spec.field] = spec.kind === 'int' ? intOption('trigger', flag, raw as string, spec.min) : raw;
  }
  if (type === 'schedule') {
    if (values.event !== undefined) body.event = jsonOption('event', values.event as string);
  } else {
    if (values.event !== undefined) throw usageError('--event goes with --schedule: a source sends the messages it reads', 'trigger');
    if (values.url === undefined) throw usageError(`missing --url <${type} URL>`, 'trigger');
    if (values[SOURCE_NAME[type]!] === undefined) throw usageError(`missing --${SOURCE_NAME[type]} <name>: what the ${type} trigger reads`, 'trigger');
    if (values.start !== undefined && values.start !== 'earliest' && values.start !== 'latest') {
      throw usageError(`--start must be earliest or latest, got "${values.start}"`, 'trigger');
    }
  }
  if (values.alias !== undefined && values.version !== undefined) throw usageError('pass either --alias or --version, not both', 'trigger');
  if (values.alias !== undefined) {
    if (!ALIAS_NAME.test(values.alias as string)) throw usageError(`--alias must be an alias name (a lowercase letter then up to 62 lowercase letters, digits and dashes), got "${values.alias}"`, 'trigger');
    body.target = { alias: values.alias };
  }
  if (values.version !== undefined) body.target = { version: intOption('trigger', 'version', values.version as string, 1) };
  if (values.disabled) body.enabled = false;
  return { functionName, trigger, body };
}

/** The type from --type, else --schedule, else the URL's scheme. */
function triggerType(values: Record<string, unknown>): TriggerType {
  const named = values.type as string | undefined;
  if (named !== undefined) {
    if (!(TRIGGER_TYPES as readonly string[]).includes(named)) throw usageError(`--type must be one of ${TRIGGER_TYPES.join(', ')}, got "${named}"`, 'trigger');
    if (named === 'schedule' && values.schedule === undefined) throw usageError('missing --schedule <expression>', 'trigger');
    return named as TriggerType;
  }
  if (values.schedule !== undefined) return 'schedule';
  const url = values.url as string | undefined;
  if (url === undefined) throw usageError('missing --schedule <expression>, or --type <type> --url <url> for a source', 'trigger');
  const scheme = /^([a-z]+):\/\//i.exec(url)?.[1]?.toLowerCase();
  const type = scheme ? SCHEMES[scheme] : undefined;
  if (!type) throw usageError(`--url "${url}" does not say which broker it is: pass --type (${SOURCES.join(', ')})`, 'trigger');
  return type;
}

function jsonOption(flag: string, raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch (err) {
    throw usageError(`--${flag} is not valid JSON: ${(err as Error).message}`, 'trigger');
  }
}

/** A trigger name, checked here so a typo is a usage error, not a path the gateway cannot route. */
function triggerArg(raw: string): string {
  if (!TRIGGER_NAME.test(raw)) throw usageError(`<trigger> must be a lowercase letter then up to 62 lowercase letters, digits and dashes, got "${raw}"`, 'trigger');
  return raw;
}

/** A JSON object from a file or `-` (standard input), at most 512 KiB; a file that is not one is exit 2. */
export async function readJsonBody(from: string, ctx: Pick<CliContext, 'stdin'>): Promise<Record<string, unknown>> {
  const where = from === '-' ? 'standard input' : from;
  const tooBig = () => inputError(`${where} holds more than ${MAX_JSON_BODY_BYTES / 1024} KiB`);
  const chunks: Buffer[] = [];
  let bytes = 0;
  const source: AsyncIterable<string | Buffer> | Iterable<Buffer> =
    from === '-' ? ctx.stdin : [await readFile(from).catch((err: NodeJS.ErrnoException) => Promise.reject(inputError(`cannot read ${from}: ${err.code ?? err.message}`)))];
  for await (const chunk of source) {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    if ((bytes += buffer.length) > MAX_JSON_BODY_BYTES) throw tooBig();
    chunks.push(buffer);
  }
  let body: unknown;
  try {
    body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch (err) {
    throw inputError(`${where} is not valid JSON: ${(err as Error).message}`);
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw inputError(`${where} must hold a JSON object`);
  return body as Record<string, unknown>;
}

const USAGE = `Usage: hearth trigger <action> <function> [<trigger>] [options]

  hearth trigger add <function> <trigger> --schedule EXPR [--timezone ZONE] [--event JSON]
  hearth trigger add <function> <trigger> --type redis-stream|amqp|nats|mqtt --url URL
                     --stream S | --queue Q | --topic T [--subject S] [source options]
  hearth trigger add <function> <trigger> --json <file|->
  hearth trigger list <function> [--json]
  hearth trigger show <function> <trigger> [--json]
  hearth trigger rm <function> <trigger>
  hearth trigger pause|resume <function> <trigger>

A trigger calls the function by itself: on a schedule (rate(5 minutes),
cron(0 3 * * ? *), or a 5- or 6-field cron), or with batches of messages read
from a Redis stream, a RabbitMQ queue, a NATS JetStream stream or an MQTT
topic. Each call is an async invocation with mode schedule or event and the
trigger's name on its record (hearth logs shows both). add creates the
trigger or replaces it: options left out take their defaults. The gateway
reaches the broker and looks the stream, queue or subject up before it
stores anything. Trigger names are a lowercase letter, then up to 62
lowercase letters, digits and dashes.

list shows each trigger's state (running, idle, paused, error), what it
reads, its next tick or lag, its last run and its last error; show prints
one with every setting. pause stops it (a schedule at once, a source within
seconds; messages wait on the broker) and resume starts it again.

Options of add:
      --schedule <expr>        a schedule trigger
      --timezone <zone>        an IANA zone the cron is read in (default UTC)
      --event <json>           the event of every tick (default: an EventBridge scheduled event)
  -t, --type <type>            ${TRIGGER_TYPES.join(', ')} (default: from --schedule or the URL's scheme)
      --url <url>              the broker; its password is kept sealed and shown as ****
      --stream <name>          redis-stream: the stream; nats: the JetStream stream
      --queue <name>           amqp: the queue
      --subject <filter>       nats: only these subjects (orders.>)
      --topic <filter>         mqtt: the topic
      --batch-size <n>         messages per invocation, 1-1000 (default 10)
      --batch-window-ms <ms>   wait this long to fill a batch (default 0)
      --max-concurrency <n>    batches in flight at once, 1-100 (default 1)
      --max-retries <n>        retries of a failed batch's messages, 0-10 (default 2)
      --dead-letter <name>     where messages that failed every retry go, on the same broker
      --ordered                a key's next batch waits for its previous one
      --group <name>           redis-stream: the consumer group (default hearth)
      --start earliest|latest  redis-stream: where a new group starts (default latest)
      --durable <name>         nats: the durable consumer's name
      --prefetch <n>           amqp: unacknowledged messages held (default batch size × concurrency)
      --alias <alias>          call this alias (default latest)
      --version <n>            call this version
      --disabled               store it paused
      --json <file|->          send this JSON body as is (every setting, "type" included)
Options of list and show:
      --json                   print the API's answer unchanged
`;

const ACTIONS = ['add', 'list', 'ls', 'show', 'rm', 'remove', 'pause', 'resume'];

export const triggerCommand: Command = {
  name: 'trigger',
  summary: "a function's schedules and queue or stream triggers: add, list, show, pause, resume, rm",
  help: USAGE,
  async run(argv, ctx) {
    const [action, ...rest] = argv;
    if (action === undefined || !ACTIONS.includes(action)) {
      throw usageError(action === undefined ? 'missing <add|list|show|rm|pause|resume>' : `unknown trigger action "${action}"; use add, list, show, rm, pause or resume`, 'trigger');
    }
    if (action === 'add') return addTrigger(parseAddArgs(rest), ctx);
    if (action === 'list' || action === 'ls') {
      const { values, positionals } = parseCommandArgs('trigger', rest, { json: { type: 'boolean' } }, { required: ['function'] });
      return listTriggers(positionals[0]!, values.json ?? false, ctx);
    }
    if (action === 'show') {
      const { values, positionals } = parseCommandArgs('trigger', rest, { json: { type: 'boolean' } }, { required: ['function', 'trigger'] });
      return showTrigger(positionals[0]!, triggerArg(positionals[1]!), values.json ?? false, ctx);
    }
    const { positionals } = parseCommandArgs('trigger', rest, {}, { required: ['function', 'trigger'] });
    const [fn, trigger] = [positionals[0]!, triggerArg(positionals[1]!)];
    const client = await ctx.client();
    if (action === 'rm' || action === 'remove') {
      await client.json<void>('DELETE', triggerPath(fn, trigger));
      write(ctx.stdout, `removed trigger ${trigger} of ${fn}`);
      return 0;
    }
    const view = await client.json<TriggerAnswer>('PATCH', triggerPath(fn, trigger), { json: { enabled: action === 'resume' } });
    write(ctx.stdout, `${action === 'pause' ? 'paused' : 'resumed'} trigger ${trigger} of ${fn}: ${summary(view, Date.now())}`);
    return 0;
  },
};

const triggerPath = (fn: string, trigger?: string) => fnPath(fn, `/triggers${trigger === undefined ? '' : `/${encodeURIComponent(trigger)}`}`);

async function addTrigger(request: AddRequest, ctx: CliContext): Promise<number> {
  const body = 'body' in request ? request.body : await readJsonBody(request.jsonFrom, ctx);
  const res = await (await ctx.client()).send('PUT', triggerPath(request.functionName, request.trigger), { json: body });
  if (!res.ok) throw await apiError(res);
  const view = (await res.json()) as TriggerAnswer;
  write(ctx.stdout, `${res.status === 201 ? 'created' : 'updated'} trigger ${view.name} of ${request.functionName}: ${summary(view, Date.now())}`);
  return 0;
}

async function listTriggers(fn: string, json: boolean, ctx: CliContext): Promise<number> {
  const client = await ctx.client();
  const res = await client.send('GET', triggerPath(fn));
  if (!res.ok) throw await apiError(res);
  const text = await res.text();
  if (json) {
    write(ctx.stdout, escapeJsonOrText(text));
    return 0;
  }
  const { triggers } = JSON.parse(text) as { triggers: TriggerAnswer[] };
  if (triggers.length === 0) {
    write(ctx.stderr, `no triggers on ${fn}: add one with hearth trigger add ${fn} <trigger> --schedule "rate(5 minutes)"`);
    return 0;
  }
  write(ctx.stdout, renderTriggerList(triggers, Date.now()));
  return 0;
}

async function showTrigger(fn: string, trigger: string, json: boolean, ctx: CliContext): Promise<number> {
  const res = await (await ctx.client()).send('GET', triggerPath(fn, trigger));
  if (!res.ok) throw await apiError(res);
  const text = await res.text();
  write(ctx.stdout, json ? escapeJsonOrText(text) : renderTrigger(fn, JSON.parse(text) as TriggerAnswer, Date.now()));
  return 0;
}

/** `running`, `idle`, `error`, or `paused` for a disabled trigger (the API shows those idle). */
export function stateOf(view: Pick<TriggerAnswer, 'enabled' | 'status'>): string {
  return view.enabled ? String(view.status?.state ?? 'idle') : 'paused';
}

/** What it reads: `rate(5 minutes)` (with a zone other than UTC), `queue orders @ host:5672`. */
export function sourceOf(view: TriggerAnswer): string {
  const str = (key: string) => (typeof view[key] === 'string' ? (view[key] as string) : undefined);
  if (view.type === 'schedule') return `${str('schedule') ?? '?'}${str('timezone') && str('timezone') !== 'UTC' ? ` ${str('timezone')}` : ''}`;
  const name = SOURCE_NAME[view.type];
  const what = [name ? `${name} ${str(name) ?? '?'}` : view.type, view.type === 'nats' && str('subject') ? `subject ${str('subject')}` : ''].filter(Boolean).join(' ');
  let host = '';
  try {
    host = ` @ ${new URL(str('url') ?? '').host}`;
  } catch {
    // A URL the gateway should not have stored: the row still prints.
  }
  return `${what}${host}`;
}

/** `next in 42s` for a schedule, `lag 12` for a source, `–` when unknown. */
export function nextOrLag(view: TriggerAnswer, now: number): string {
  if (view.type === 'schedule') return typeof view.status?.nextRunAt === 'number' && view.enabled ? `next ${relativeTime(view.status.nextRunAt, now)}` : '–';
  return typeof view.status?.lag === 'number' ? `lag ${view.status.lag}` : '–';
}

/** `in 5s`, `now`, `3m ago`, `2h ago`, `4d ago`. */
export function relativeTime(at: number, now: number): string {
  const seconds = Math.round((at - now) / 1000);
  const abs = Math.abs(seconds);
  if (abs === 0) return 'now';
  const text = abs < 60 ? `${abs}s` : abs < 3600 ? `${Math.floor(abs / 60)}m` : abs < 86_400 ? `${Math.floor(abs / 3600)}h` : `${Math.floor(abs / 86_400)}d`;
  return seconds > 0 ? `in ${text}` : `${text} ago`;
}

/** At most `max` characters, the last one "…" when cut. */
const shorten = (text: string, max: number) => ([...text].length > max ? `${[...text].slice(0, max - 1).join('')}…` : text);

/** One line: type, source, state and next tick or lag. */
function summary(view: TriggerAnswer, now: number): string {
  const next = nextOrLag(view, now);
  return `${view.type} ${sourceOf(view)}, ${stateOf(view)}${next === '–' ? '' : `, ${next}`}`;
}

/** The `trigger list` table. */
export function renderTriggerList(triggers: TriggerAnswer[], now: number): string {
  const rows = triggers.map((t) => [
    t.name,
    t.type,
    stateOf(t),
    sourceOf(t),
    nextOrLag(t, now),
    typeof t.status?.lastRunAt === 'number' ? relativeTime(t.status.lastRunAt, now) : '–',
    t.status?.lastError ? shorten(String(t.status.lastError.message), 60) : '',
  ]);
  return formatTable(['TRIGGER', 'TYPE', 'STATE', 'SOURCE', 'NEXT / LAG', 'LAST RUN', 'LAST ERROR'], rows, { maxCellWidth: 64 });
}

/** Settings in the order `show` prints them, each labelled by its name in words (`batchSize`: batch size). */
const SETTING_ORDER = ['schedule', 'timezone', 'url', 'stream', 'queue', 'subject', 'topic', 'group', 'start', 'durable', 'prefetch', 'batchSize',
  'batchWindowMs', 'maxConcurrency', 'ordered', 'maxRetries', 'deadLetter', 'event'];
const label = (key: string) => key.replace(/[A-Z]/g, (c) => ` ${c.toLowerCase()}`);
const NOT_SETTINGS = new Set(['name', 'type', 'enabled', 'target', 'status', 'createdAt', 'updatedAt']);

/** `trigger show`: every setting and the live status, one per line. */
export function renderTrigger(fn: string, view: TriggerAnswer, now: number): string {
  const at = (ms: number | null | undefined) => (typeof ms === 'number' ? `${formatTime(new Date(ms).toISOString())} UTC (${relativeTime(ms, now)})` : '–');
  const value = (v: unknown) => shorten(typeof v === 'string' ? v : JSON.stringify(v) ?? String(v), 400);
  const s = view.status ?? ({} as Partial<TriggerAnswer['status']>);
  const settings = [
    ...SETTING_ORDER.filter((key) => view[key] !== undefined),
    ...Object.keys(view).filter((k) => !SETTING_ORDER.includes(k) && !NOT_SETTINGS.has(k)),
  ].map((key) => [label(key), value(view[key])]);
  const target = view.target?.version !== undefined ? `version ${view.target.version}` : `alias ${view.target?.alias ?? 'latest'}`;
  const rows: string[][] = [
    ['type', view.type],
    ['state', stateOf(view)],
    ['target', target],
    ...settings,
    ...(view.type === 'schedule' ? [['next tick', view.enabled ? at(s.nextRunAt) : '– (paused)']] : [['lag', typeof s.lag === 'number' ? String(s.lag) : '–']]),
    ['last run', at(s.lastRunAt)],
    ['last invocation', s.lastInvocationId ?? '–'],
    ['last error', s.lastError ? `${value(s.lastError.message)} (${at(s.lastError.at)})` : '–'],
    ...(view.type === 'schedule' ? [] : [['totals', `${s.batches ?? 0} batches, ${s.messages ?? 0} messages, ${s.failures ?? 0} failures`]]),
    ['created', `${formatTime(view.createdAt)} UTC`],
    ['updated', `${formatTime(view.updatedAt)} UTC`],
  ];
  return `trigger ${view.name} of ${fn}\n${formatTable(['', ''], rows, { header: false, indent: '  ', maxCellWidth: 1000 })}`;
}
