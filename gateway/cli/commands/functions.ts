/** Managing functions: `hearth list`, `versions`, `rollback` and `delete`. */
import { createInterface } from 'node:readline/promises';
import type { Page } from '../../metrics/metrics-view.ts';
import type { FunctionDetails, FunctionView, VersionView } from '../../store/functions-store.ts';
import { CliError, usageError } from '../cli-error.ts';
import type { HearthClient } from '../client.ts';
import { fnPath, parseCommandArgs, write, type CliContext, type Command } from '../command.ts';
import { formatBytes, formatTime } from '../format.ts';
import { formatTable } from '../table.ts';

export const listCommand: Command = {
  name: 'list',
  summary: 'list functions with their latest version',
  help: `Usage: hearth list

Lists every function (all pages of the gateway's list): latest version,
runtime, handler, memory, timeout and when it last changed. Cells longer
than 80 columns are cut with "…".
`,
  async run(argv, ctx) {
    parseCommandArgs('list', argv, {}, { required: [] });
    const functions = await readAllFunctions(await ctx.client());
    if (functions.length === 0) {
      write(ctx.stderr, 'no functions yet: deploy one with hearth deploy <dir|file>');
      return 0;
    }
    const rows = functions.map((f) => [
      f.name,
      f.latestVersion,
      f.latest.runtime,
      f.latest.handler,
      `${f.latest.memoryMb} MB`,
      `${f.latest.timeoutMs} ms`,
      formatTime(f.updatedAt),
    ]);
    write(ctx.stdout, formatTable(['NAME', 'VERSION', 'RUNTIME', 'HANDLER', 'MEMORY', 'TIMEOUT', 'UPDATED (UTC)'], rows));
    return 0;
  },
};

/**
 * Every function, following `nextCursor` when the gateway pages the list.
 * Takes the list as `{ functions }` or `{ items }`, with or without a
 * cursor, so the CLI works against gateways from before and after paging.
 */
export async function readAllFunctions(client: Pick<HearthClient, 'json'>): Promise<FunctionView[]> {
  const functions: FunctionView[] = [];
  const cursors = new Set<string>();
  for (let cursor: string | undefined; ; ) {
    const page = await client.json<FunctionsPage>('GET', '/v1/functions', { query: { cursor } });
    const items = Array.isArray(page?.items) ? page.items : Array.isArray(page?.functions) ? page.functions : null;
    if (!items) throw new CliError('InvalidResponse', 'the gateway answered GET /v1/functions without a list of functions');
    for (const item of items) functions.push(item);
    const next = page.nextCursor;
    if (typeof next !== 'string' || next === '') return functions;
    // A gateway that hands back a cursor already followed would keep us here forever.
    if (cursors.has(next)) throw new CliError('InvalidResponse', 'the gateway sent the same list cursor twice');
    cursors.add(next);
    cursor = next;
  }
}

interface FunctionsPage {
  functions?: FunctionView[];
  items?: FunctionView[];
  nextCursor?: string | null;
}

export const versionsCommand: Command = {
  name: 'versions',
  summary: "list a function's versions (* marks latest)",
  help: `Usage: hearth versions <name>

Lists the function's immutable versions, newest first; * marks the one
calls go to (see hearth rollback).
`,
  async run(argv, ctx) {
    const { positionals } = parseCommandArgs('versions', argv, {}, { required: ['name'] });
    const client = await ctx.client();
    const fn = await client.json<FunctionDetails>('GET', fnPath(positionals[0]!));
    // The function view holds the newest versions; the rest come a page at a time.
    const versions = [...fn.versions];
    for (let cursor = fn.versionsNextCursor ?? null; cursor !== null; ) {
      const page = await client.json<Page<VersionView>>('GET', `${fnPath(positionals[0]!, '/versions')}?limit=500&cursor=${encodeURIComponent(cursor)}`);
      for (const item of page.items) versions.push(item);
      cursor = page.nextCursor;
    }
    const rows = versions
      .sort((a, b) => b.version - a.version)
      .map((v) => [
        `${v.version === fn.latestVersion ? '*' : ' '}${v.version}`,
        v.runtime,
        v.handler,
        `${v.memoryMb} MB`,
        `${v.timeoutMs} ms`,
        formatBytes(v.codeSizeBytes),
        v.codeSha256.slice(0, 12),
        formatTime(v.createdAt),
      ]);
    write(ctx.stdout, formatTable([{ header: 'VERSION', align: 'right' }, 'RUNTIME', 'HANDLER', 'MEMORY', 'TIMEOUT', 'CODE', 'SHA256', 'CREATED (UTC)'], rows));
    return 0;
  },
};

export const rollbackCommand: Command = {
  name: 'rollback',
  summary: 'point a function at an earlier version',
  help: `Usage: hearth rollback <name> <version>

Makes <version> the one calls go to. Versions are kept, so rolling forward
is another rollback.
`,
  async run(argv, ctx) {
    const { positionals } = parseCommandArgs('rollback', argv, {}, { required: ['name', 'version'] });
    const raw = positionals[1]!;
    if (!/^\d+$/.test(raw) || Number(raw) < 1) throw usageError(`<version> must be a positive integer, got "${raw}"`, 'rollback');
    const version = Number(raw);
    const fn = await (await ctx.client()).json<FunctionDetails>('POST', fnPath(positionals[0]!, '/rollback'), { json: { version } });
    write(ctx.stdout, `${fn.name} now runs version ${fn.latestVersion}`);
    return 0;
  },
};

const DELETE_OPTIONS = { yes: { type: 'boolean', short: 'y' } } as const;

export const deleteCommand: Command = {
  name: 'delete',
  summary: 'delete a function, its versions and its containers',
  help: `Usage: hearth delete <name> [--yes]

Deletes the function with all its versions; its warm containers go too.
On a terminal it asks first; elsewhere pass --yes.

Options:
  -y, --yes   do not ask
`,
  async run(argv, ctx) {
    const { values, positionals } = parseCommandArgs('delete', argv, DELETE_OPTIONS, { required: ['name'] });
    const name = positionals[0]!;
    const client = await ctx.client();
    if (!values.yes) {
      if (!ctx.stdin.isTTY) throw usageError(`not deleting ${name} without confirmation: pass --yes`, 'delete');
      if (!(await confirm(ctx, `Delete function ${name} and all its versions? [y/N] `))) {
        throw new CliError('Aborted', `${name} was not deleted`);
      }
    }
    await client.json<void>('DELETE', fnPath(name));
    write(ctx.stdout, `deleted ${name}`);
    return 0;
  },
};

async function confirm(ctx: CliContext, question: string): Promise<boolean> {
  const rl = createInterface({ input: ctx.stdin, output: ctx.stderr });
  try {
    const answer = await rl.question(question, { signal: ctx.signal });
    return /^y(es)?$/i.test(answer.trim());
  } catch {
    return false;
  } finally {
    rl.close();
  }
}
