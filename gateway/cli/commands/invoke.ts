/** `hearth invoke <name>`: calls a function and prints what it returned. */
import { readFile } from 'node:fs/promises';
import { CliError, inputError, usageError } from '../cli-error.ts';
import { apiError } from '../client.ts';
import { fnPath, intOption, parseCommandArgs, write, type CliContext, type Command } from '../command.ts';
import { formatMs } from '../format.ts';
import { escapeJsonOrText } from '../terminal-text.ts';

const OPTIONS = {
  data: { type: 'string', short: 'd' },
  file: { type: 'string', short: 'f' },
  async: { type: 'boolean' },
  version: { type: 'string' },
  raw: { type: 'boolean' },
} as const;

/** Codes of a call that ran (or was throttled) and failed: a result, with invocation headers. */
const FUNCTION_FAILURES = new Set(['FunctionError', 'FunctionTimeout', 'FunctionOutOfMemory', 'FunctionCrashed', 'Throttled']);

export const invokeCommand: Command = {
  name: 'invoke',
  summary: 'call a function and print its result',
  help: `Usage: hearth invoke <name> [options]

Calls the function with a JSON event: --data, --file, or standard input
when it is piped (nothing at all sends {}). Prints the result as pretty JSON
on stdout; the invocation id, start kind (cold / prewarmed / warm) and
duration go to stderr. A function that fails prints its error (and stack) on
stderr and exits 1.

Options:
  -d, --data <json>      the event
  -f, --file <path>      read the event from a file
      --async            queue the call and print its invocation id
      --version <n>      run version n instead of the latest
      --raw              print the result exactly as returned (on a terminal,
                         control characters are still shown escaped)
`,
  async run(argv, ctx) {
    const { values, positionals } = parseCommandArgs('invoke', argv, OPTIONS, { required: ['name'] });
    const version = intOption('invoke', 'version', values.version, 1);
    const event = await readEvent(values, ctx);
    const client = await ctx.client();
    const res = await client.send('POST', fnPath(positionals[0]!, '/invoke'), {
      body: event,
      query: { ...(values.async ? { async: 'true' } : {}), ...(version !== undefined ? { version: String(version) } : {}) },
    });

    if (values.async && res.status === 202) {
      const { invocationId } = (await res.json()) as { invocationId: string };
      write(ctx.stdout, invocationId);
      return 0;
    }
    if (res.ok) {
      const text = await res.text();
      write(ctx.stderr, invocationLine(res.headers));
      // --raw into a pipe or file is the body byte for byte; on a terminal it is
      // the same JSON with control characters \u-escaped, like the pretty form.
      if (values.raw && !ctx.stdout.isTTY) ctx.stdout.write(text);
      else write(ctx.stdout, escapeJsonOrText(values.raw ? text : pretty(text)));
      return 0;
    }
    throw await invokeError(res);
  },
};

/** `invocation <id>  version 2  start cold  duration 12.34 ms`, from the answer's headers. */
function invocationLine(headers: Headers): string {
  const duration = Number(headers.get('x-duration-ms'));
  return [
    `invocation ${headers.get('x-invocation-id') ?? '?'}`,
    `version ${headers.get('x-function-version') ?? '?'}`,
    `start ${headers.get('x-start-kind') ?? '?'}`,
    `duration ${Number.isFinite(duration) ? formatMs(duration) : '?'} ms`,
  ].join('  ');
}

/** A function's own failure becomes its type, message and stack; anything else is the API's error. */
async function invokeError(res: Response): Promise<CliError> {
  const error = await apiError(res.clone());
  if (!FUNCTION_FAILURES.has(error.code) || !res.headers.has('x-invocation-id')) return error;
  const body = (await res.json().catch(() => ({}))) as { error?: { type?: string; message?: string; stack?: string } };
  const { type, message = error.message, stack } = body.error ?? {};
  const headline = type && error.code !== 'Throttled' ? `${type}: ${message}` : message;
  // A Node stack starts with "Type: message" again; show only the frames under it.
  const frames = stack?.startsWith(headline) ? stack.slice(headline.length).replace(/^\n/, '') : stack;
  return new CliError(error.code, headline, 1, [frames?.trimEnd(), invocationLine(res.headers)].filter(Boolean).join('\n'));
}

async function readEvent(values: { data?: string; file?: string }, ctx: CliContext): Promise<string> {
  if (values.data !== undefined && values.file !== undefined) throw usageError('pass either --data or --file, not both', 'invoke');
  let text: string;
  let from: string;
  if (values.data !== undefined) {
    text = values.data;
    from = '--data';
  } else if (values.file !== undefined) {
    text = await readFile(values.file, 'utf8').catch((err: NodeJS.ErrnoException) => {
      throw inputError(`cannot read ${values.file}: ${err.code ?? err.message}`);
    });
    from = values.file;
  } else if (!ctx.stdin.isTTY) {
    text = await readAll(ctx.stdin);
    from = 'standard input';
  } else {
    return '{}';
  }
  if (text.trim() === '') return '{}';
  try {
    JSON.parse(text);
  } catch (err) {
    if (values.data !== undefined) throw usageError(`--data is not valid JSON: ${(err as Error).message}`, 'invoke');
    throw inputError(`the event in ${from} is not valid JSON: ${(err as Error).message}`);
  }
  return text;
}

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks).toString('utf8');
}

function pretty(text: string): string {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}
