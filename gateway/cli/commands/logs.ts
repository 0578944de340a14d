/** `hearth logs <name>`: each invocation's output and REPORT line, oldest first; `--follow` keeps polling. */
import { sinceFrom, type LogEntry, type Page } from '../../metrics/metrics-view.ts';
import { usageError } from '../cli-error.ts';
import { isAbort, type HearthClient } from '../client.ts';
import { fnPath, intOption, parseCommandArgs, write, type CliContext, type Command } from '../command.ts';
import { escapeControls } from '../terminal-text.ts';

const OPTIONS = {
  since: { type: 'string', short: 's' },
  limit: { type: 'string', short: 'l' },
  follow: { type: 'boolean', short: 'f' },
} as const;

const POLL_MS = 1000;
/**
 * How far back each poll looks: a call is listed under the time it was
 * queued, and one may finish up to its timeout (at most 15 min) after that.
 */
const LOOKBACK_MS = 16 * 60_000;
const POLL_LIMIT = 500;

export const logsCommand: Command = {
  name: 'logs',
  summary: 'print the logs of recent invocations',
  help: `Usage: hearth logs <name> [options]

Prints what each invocation wrote, followed by its REPORT line (duration,
billed duration, memory, init duration, start kind, status), oldest first.
The START line ends with how the call came in and the trigger that made it:
[sync], [async], [http], [schedule nightly], [event orders].

Options:
  -s, --since <when>   only invocations queued since: a duration back from now
                       (30s, 10m, 2h, 1d), an ISO time or epoch milliseconds
  -l, --limit <n>      at most this many (the newest), 1-500 (default 50)
  -f, --follow         keep printing invocations as they finish (Ctrl-C stops)
`,
  async run(argv, ctx) {
    const { values, positionals } = parseCommandArgs('logs', argv, OPTIONS, { required: ['name'] });
    const name = positionals[0]!;
    const limit = intOption('logs', 'limit', values.limit, 1);
    const since = values.since === undefined ? undefined : parseSince(values.since);
    const client = await ctx.client();

    const first = await readPage(client, name, { since, limit }, ctx.signal);
    if (!first) return 0;
    const shown = [...first.items].reverse();
    for (const entry of shown) printEntry(ctx, entry);
    if (!values.follow) {
      if (shown.length === 0) write(ctx.stderr, `no invocations of ${name}${values.since ? ` since ${values.since}` : ''}`);
      return 0;
    }

    // Calls left out of the first answer on purpose (older than --since, or
    // beyond --limit) must not show up later as new.
    const oldestShown = shown[0] ? Date.parse(shown[0].time) : undefined;
    const cutoff = first.nextCursor !== null ? oldestShown : since?.getTime();
    await follow(client, name, ctx, new Set(shown.map((e) => e.invocationId)), cutoff);
    return 0;
  },
};

/** Polls every second until Ctrl-C, printing each invocation not seen before. */
async function follow(client: HearthClient, name: string, ctx: CliContext, seen: Set<string>, cutoff: number | undefined): Promise<void> {
  const times = new Map<string, number>();
  while (!ctx.signal.aborted) {
    await sleep(POLL_MS, ctx.signal);
    if (ctx.signal.aborted) break;
    const from = Math.max(cutoff ?? 0, Date.now() - LOOKBACK_MS);
    const page = await readPage(client, name, { since: new Date(from), limit: POLL_LIMIT }, ctx.signal);
    if (!page) break;
    for (const entry of [...page.items].reverse()) {
      if (seen.has(entry.invocationId)) continue;
      seen.add(entry.invocationId);
      times.set(entry.invocationId, Date.parse(entry.time));
      printEntry(ctx, entry);
    }
    // Forget ids older than any future poll can return.
    for (const [id, time] of times) {
      if (time >= from) continue;
      times.delete(id);
      seen.delete(id);
    }
  }
}

/** One page of logs, newest first; null when Ctrl-C interrupted the request. */
async function readPage(
  client: HearthClient,
  name: string,
  query: { since: Date | undefined; limit: number | undefined },
  signal: AbortSignal,
): Promise<Page<LogEntry> | null> {
  try {
    return await client.json<Page<LogEntry>>('GET', fnPath(name, '/logs'), {
      query: { since: query.since?.toISOString(), limit: query.limit?.toString() },
      signal,
    });
  } catch (err) {
    if (isAbort(err)) return null;
    throw err;
  }
}

/**
 * `[schedule nightly]`, `[event orders]`, `[async]`: how the call came in and
 * the trigger that made it; empty from a gateway that does not say.
 */
export function modeTag(entry: { mode?: unknown; trigger?: unknown }): string {
  if (typeof entry.mode !== 'string' || entry.mode === '') return '';
  return `[${entry.mode}${typeof entry.trigger === 'string' && entry.trigger !== '' ? ` ${entry.trigger}` : ''}]`;
}

function printEntry(ctx: CliContext, entry: LogEntry & { mode?: unknown; trigger?: unknown }): void {
  const tag = modeTag(entry);
  const lines = [`START RequestId: ${entry.invocationId}\tVersion: ${entry.version}\tTime: ${entry.time}${tag ? `\t${tag}` : ''}`];
  if (entry.logs !== '') lines.push(entry.logs.replace(/\n$/, ''));
  if (entry.logsTruncated) lines.push('[logs truncated]');
  lines.push(entry.report);
  // What the function printed is shown, never obeyed by the terminal (piped too: it may be read with cat later).
  write(ctx.stdout, escapeControls(lines.join('\n')));
}

/** `--since` as the API reads it, resolved here so a follow can use the same instant. */
function parseSince(raw: string, now = Date.now()): Date {
  const date = sinceFrom(raw, now);
  if (!date) throw usageError(`--since must be a duration like 10m, an ISO time or epoch milliseconds, got "${raw}"`, 'logs');
  return date;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
  });
}
