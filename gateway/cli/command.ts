/**
 * What every command gets and gives: its arguments and a context (streams,
 * environment, a lazily configured API client, a signal aborted on Ctrl-C);
 * it returns the exit code or throws a `CliError`.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { usageError } from './cli-error.ts';
import type { HearthClient } from './client.ts';
import type { Env } from './config.ts';
import { escapeControls } from './terminal-text.ts';

export interface CliStreams {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
}

export interface CliContext extends CliStreams {
  env: Env;
  /** The API client, configured (environment, then config file) on first use. */
  client(): Promise<HearthClient>;
  /** Aborted when the user presses Ctrl-C (SIGINT). */
  signal: AbortSignal;
}

export interface Command {
  name: string;
  /** One line, for `hearth --help`. */
  summary: string;
  /** The whole usage text, for `hearth <command> --help`. */
  help: string;
  run(argv: string[], ctx: CliContext): Promise<number>;
}

type Options = NonNullable<ParseArgsConfig['options']>;

/**
 * `parseArgs` in strict mode, its complaints turned into usage errors, and
 * the number of positionals checked (`names` says what they are, for the message).
 */
export function parseCommandArgs<const O extends Options>(command: string, argv: string[], options: O, names: { required: string[]; optional?: string[] }) {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (err) {
    throw usageError((err as Error).message.replace(/\. To specify a positional argument.*$/s, ''), command);
  }
  const { positionals } = parsed;
  const max = names.required.length + (names.optional?.length ?? 0);
  if (positionals.length < names.required.length) {
    throw usageError(`missing ${names.required.slice(positionals.length).map((n) => `<${n}>`).join(' ')}`, command);
  }
  if (positionals.length > max) throw usageError(`unexpected argument "${positionals[max]}"`, command);
  return parsed;
}

/** Parses an integer option; undefined stays undefined. */
export function intOption(command: string, flag: string, raw: string | undefined, min = 0): number | undefined {
  if (raw === undefined) return undefined;
  if (!/^\d+$/.test(raw) || Number(raw) < min) throw usageError(`--${flag} must be an integer of at least ${min}, got "${raw}"`, command);
  return Number(raw);
}

/** A function name as a URL path segment. */
export function fnPath(name: string, rest = ''): string {
  return `/v1/functions/${encodeURIComponent(name)}${rest}`;
}

/**
 * Prints a line (adding the newline). Everything commands print goes
 * through here, and most of it holds the server's or a function's words,
 * so control characters are always shown escaped (tabs and newlines stay;
 * see terminal-text.ts): text already escaped passes unchanged.
 */
export function write(stream: NodeJS.WritableStream, text: string): void {
  const shown = escapeControls(text);
  stream.write(shown.endsWith('\n') || shown === '' ? shown : `${shown}\n`);
}
