/**
 * `hearth destinations set|show|rm <function>`: where the outcome of the
 * function's async, scheduled and event calls goes, on success and on
 * failure (`/v1/functions/{name}/destinations`). A destination is written as
 * one word, `<type>:<where>`, so both fit on one command line; `--json`
 * takes the API's body for anything the words cannot say (two webhooks with
 * different secrets, say).
 */
import { usageError } from '../cli-error.ts';
import { fnPath, parseCommandArgs, write, type CliContext, type Command } from '../command.ts';
import { formatTime } from '../format.ts';
import { formatTable } from '../table.ts';
import { escapeJsonOrText } from '../terminal-text.ts';
import { readJsonBody } from './trigger.ts';

/** A destination as the API takes and shows it (secrets shown as `****`). */
export type DestinationAnswer = { type: string; [field: string]: unknown };

export interface DestinationsAnswer {
  onSuccess: DestinationAnswer | null;
  onFailure: DestinationAnswer | null;
  updatedAt: string | null;
}

const SET_OPTIONS = {
  'on-success': { type: 'string', short: 's' },
  'on-failure': { type: 'string', short: 'f' },
  secret: { type: 'string' },
  json: { type: 'string' },
} as const;

/** The field each broker destination names after its URL's `#`. */
const BROKER_FIELDS: Record<string, string> = { 'redis-stream': 'stream', amqp: 'queue', nats: 'subject' };
const SPEC_RULE =
  'function:<name>[@alias], webhook:<http(s) URL>, redis-stream:<url>#<stream>, amqp:<url>#<queue>, nats:<url>#<subject>, or none';

/**
 * One `--on-success`/`--on-failure` word → the API's destination (null for
 * `none`). `#` splits a broker URL from its stream, queue or subject: the API
 * refuses a URL with a fragment, so the split is never ambiguous. Pure.
 */
export function parseDestination(flag: string, raw: string): DestinationAnswer | null {
  if (raw === 'none') return null;
  const colon = raw.indexOf(':');
  const [type, rest] = colon === -1 ? [raw, ''] : [raw.slice(0, colon), raw.slice(colon + 1)];
  const bad = (why: string) => usageError(`--${flag} ${why}; use ${SPEC_RULE}`, 'destinations');
  if (type === 'function') {
    const match = /^([^@]+)(?:@(.+))?$/.exec(rest);
    if (!match) throw bad('names no function');
    return { type, name: match[1]!, ...(match[2] !== undefined ? { alias: match[2] } : {}) };
  }
  if (type === 'webhook') {
    if (!/^https?:\/\/./.test(rest)) throw bad(`needs an http:// or https:// URL after webhook:, got "${rest}"`);
    return { type, url: rest };
  }
  const field = BROKER_FIELDS[type];
  if (!field) throw bad(`has an unknown type "${type}"`);
  const hash = rest.lastIndexOf('#');
  if (hash <= 0 || hash === rest.length - 1) throw bad(`needs ${type}:<url>#<${field}>, got "${raw}"`);
  return { type, url: rest.slice(0, hash), [field]: rest.slice(hash + 1) };
}

/** `hearth destinations set …` (after `set`) → the function and the PUT body, or a file to read it from. Pure. */
export function parseSetArgs(argv: string[]): { functionName: string } & ({ body: Record<string, unknown> } | { jsonFrom: string }) {
  const { values, positionals } = parseCommandArgs('destinations', argv, SET_OPTIONS, { required: ['function'] });
  const functionName = positionals[0]!;
  if (values.json !== undefined) {
    const other = (['on-success', 'on-failure', 'secret'] as const).find((k) => values[k] !== undefined);
    if (other) throw usageError(`--json sends the whole body; --${other} does not go with it`, 'destinations');
    return { functionName, jsonFrom: values.json };
  }
  if (values['on-success'] === undefined && values['on-failure'] === undefined) {
    throw usageError('missing --on-success and/or --on-failure (hearth destinations rm removes both)', 'destinations');
  }
  const onSuccess = values['on-success'] === undefined ? null : parseDestination('on-success', values['on-success']);
  const onFailure = values['on-failure'] === undefined ? null : parseDestination('on-failure', values['on-failure']);
  if (values.secret !== undefined) {
    const hooks = [onSuccess, onFailure].filter((d) => d?.type === 'webhook');
    if (hooks.length === 0) throw usageError('--secret signs a webhook: give --on-success or --on-failure webhook:<url>', 'destinations');
    for (const hook of hooks) hook!.secret = values.secret;
  }
  return { functionName, body: { onSuccess, onFailure } };
}

/** `function other@live`, `webhook https://… (own secret)`, `amqp amqp://…:****@host queue q`, or `none`. */
export function describeDestination(d: DestinationAnswer | null | undefined): string {
  if (!d) return 'none';
  const str = (key: string) => (typeof d[key] === 'string' ? (d[key] as string) : '');
  if (d.type === 'function') return `function ${str('name')}${str('alias') ? `@${str('alias')}` : ''}`;
  if (d.type === 'webhook') return `webhook ${str('url')}${d.secret !== undefined && d.secret !== null ? ' (signed with its own secret)' : ''}`;
  const field = BROKER_FIELDS[d.type];
  return `${d.type} ${str('url')}${field ? ` ${field} ${str(field)}` : ''}`;
}

/** `show`'s lines. */
export function renderDestinations(fn: string, answer: DestinationsAnswer): string {
  const rows = [
    ['on success', describeDestination(answer.onSuccess)],
    ['on failure', describeDestination(answer.onFailure)],
  ];
  const updated = answer.updatedAt ? ` (updated ${formatTime(answer.updatedAt)} UTC)` : '';
  return `destinations of ${fn}${updated}\n${formatTable(['', ''], rows, { header: false, indent: '  ', maxCellWidth: 400 })}`;
}

export const destinationsCommand: Command = {
  name: 'destinations',
  summary: "set, show or remove where a function's async outcomes go",
  help: `Usage: hearth destinations <set|show|rm> <function> [options]

  hearth destinations set <function> [--on-success DEST] [--on-failure DEST] [--secret S]
  hearth destinations set <function> --json <file|->
  hearth destinations show <function> [--json]
  hearth destinations rm <function>

After an async, scheduled or event call has its final record (after its
retries), Hearth sends the outcome to the destination of its condition:
another function of the namespace (invoked async with the outcome as its
event), a webhook (a signed POST), or a Redis stream, RabbitMQ queue or NATS
subject you run. set replaces both: a condition not given has none.

DEST is one of:
  function:<name>[@alias]      invoke that function (its latest, or the alias)
  webhook:<url>                POST the outcome there (http or https)
  redis-stream:<url>#<stream>  XADD it to that stream
  amqp:<url>#<queue>           publish it to that queue
  nats:<url>#<subject>         publish it on that subject
  none                         no destination for this condition

Options of set:
  -s, --on-success <dest>   where a call that succeeded goes
  -f, --on-failure <dest>   where a call that failed (every retry) goes
      --secret <secret>     the webhook's own signing secret (16-256 characters; default: the namespace's secret,
                            see GET /v1/destinations/callback-secret)
      --json <file|->       send this JSON body as is ({"onSuccess": …, "onFailure": …})
Options of show:
      --json                print the API's answer unchanged
`,
  async run(argv, ctx) {
    const [action, ...rest] = argv;
    if (action === 'set') return setDestinations(parseSetArgs(rest), ctx);
    if (action === 'show') {
      const { values, positionals } = parseCommandArgs('destinations', rest, { json: { type: 'boolean' } }, { required: ['function'] });
      const res = await (await ctx.client()).json<DestinationsAnswer>('GET', fnPath(positionals[0]!, '/destinations'));
      write(ctx.stdout, values.json ? escapeJsonOrText(JSON.stringify(res)) : renderDestinations(positionals[0]!, res));
      return 0;
    }
    if (action === 'rm' || action === 'remove') {
      const { positionals } = parseCommandArgs('destinations', rest, {}, { required: ['function'] });
      await (await ctx.client()).json<void>('DELETE', fnPath(positionals[0]!, '/destinations'));
      write(ctx.stdout, `removed the destinations of ${positionals[0]!}`);
      return 0;
    }
    throw usageError(action === undefined ? 'missing <set|show|rm>' : `unknown destinations action "${action}"; use set, show or rm`, 'destinations');
  },
};

async function setDestinations(request: ReturnType<typeof parseSetArgs>, ctx: CliContext): Promise<number> {
  const body = 'body' in request ? request.body : await readJsonBody(request.jsonFrom, ctx);
  const answer = await (await ctx.client()).json<DestinationsAnswer>('PUT', fnPath(request.functionName, '/destinations'), { json: body });
  write(ctx.stdout, `set the destinations of ${request.functionName}: on success ${describeDestination(answer.onSuccess)}; on failure ${describeDestination(answer.onFailure)}`);
  return 0;
}
