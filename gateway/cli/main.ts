/**
 * `hearth`: the command-line client for the gateway's HTTP API. Parses the
 * command, runs it, and turns a `CliError` into one line on stderr and an
 * exit code (1 refused or failed, 2 usage, 3 unreachable).
 */
import { readFileSync } from 'node:fs';
import { CliError, EXIT, usageError } from './cli-error.ts';
import { HearthClient } from './client.ts';
import { write, type CliContext, type CliStreams, type Command } from './command.ts';
import { aliasCommand } from './commands/alias.ts';
import { deployCommand } from './commands/deploy.ts';
import { destinationsCommand } from './commands/destinations.ts';
import { deleteCommand, listCommand, rollbackCommand, versionsCommand } from './commands/functions.ts';
import { invokeCommand } from './commands/invoke.ts';
import { loginCommand } from './commands/login.ts';
import { logsCommand } from './commands/logs.ts';
import { metricsCommand } from './commands/metrics.ts';
import { rolloutCommand } from './commands/rollout.ts';
import { runtimesCommand } from './commands/runtimes.ts';
import { secretCommand } from './commands/secret.ts';
import { triggerCommand } from './commands/trigger.ts';
import { loadConfig, type Env } from './config.ts';
import { escapeControls } from './terminal-text.ts';

const COMMANDS: Command[] = [
  deployCommand,
  invokeCommand,
  logsCommand,
  metricsCommand,
  listCommand,
  versionsCommand,
  rollbackCommand,
  aliasCommand,
  rolloutCommand,
  triggerCommand,
  destinationsCommand,
  secretCommand,
  runtimesCommand,
  deleteCommand,
  loginCommand,
];

/** Runs one command line; resolves with the exit code. Never throws for expected errors. */
export async function main(argv: string[], streams: CliStreams, env: Env, signal: AbortSignal): Promise<number> {
  let client: Promise<HearthClient> | undefined;
  const ctx: CliContext = {
    ...streams,
    env,
    signal,
    client: () => (client ??= loadConfig(env).then((config) => new HearthClient(config))),
  };
  try {
    return await dispatch(argv, ctx);
  } catch (err) {
    const error = asCliError(err);
    if (!error) throw err;
    // Messages and details carry a function's error message and stack, or the gateway's words: shown, never obeyed.
    write(ctx.stderr, escapeControls(`hearth: ${error.code}: ${error.message}`));
    if (error.detail) write(ctx.stderr, escapeControls(error.detail));
    return error.exitCode;
  }
}

async function dispatch(argv: string[], ctx: CliContext): Promise<number> {
  const [first, ...rest] = argv;
  if (first === undefined) {
    ctx.stderr.write(globalHelp());
    return EXIT.usage;
  }
  if (first === '--version' || first === '-V') {
    write(ctx.stdout, `hearth ${packageVersion()}`);
    return EXIT.ok;
  }
  if (first === '--help' || first === '-h' || first === 'help') {
    const topic = first === 'help' && rest[0] ? findCommand(rest[0]) : undefined;
    ctx.stdout.write(topic ? topic.help : globalHelp());
    return EXIT.ok;
  }
  if (first.startsWith('-')) throw usageError(`unknown option "${first}" before the command`);
  const command = findCommand(first);
  const end = rest.indexOf('--');
  if ((end === -1 ? rest : rest.slice(0, end)).some((a) => a === '--help' || a === '-h')) {
    ctx.stdout.write(command.help);
    return EXIT.ok;
  }
  return command.run(rest, ctx);
}

function findCommand(name: string): Command {
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) throw usageError(`unknown command "${name}"; commands: ${COMMANDS.map((c) => c.name).join(', ')}`);
  return command;
}

function globalHelp(): string {
  const synopsis = COMMANDS.map((c) => {
    const usage = /^Usage: hearth (.*)$/m.exec(c.help)?.[1]?.replace(/ \[options\]$/, '') ?? c.name;
    return [usage, c.summary] as const;
  });
  let width = 0;
  for (const [usage] of synopsis) width = Math.max(width, usage.length);
  return `hearth ${packageVersion()}: the command-line client for Hearth, a serverless function platform

Usage: hearth <command> [options]

Commands:
${synopsis.map(([usage, summary]) => `  ${usage.padEnd(width)}  ${summary}`).join('\n')}

Run hearth <command> --help for a command's options; hearth --version for the version.

The gateway and key come from HEARTH_URL and HEARTH_API_KEY, else from
~/.config/hearth/config.json (written by hearth login).

Exit codes: 0 done; 1 the gateway refused the request or the function failed;
2 wrong usage or unusable input; 3 the gateway could not be reached.
`;
}

function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string };
  return pkg.version ?? 'unknown';
}

/** Expected failures: ours, and the file system's (a missing or unreadable path the user named). */
function asCliError(err: unknown): CliError | null {
  if (err instanceof CliError) return err;
  const errno = err as NodeJS.ErrnoException;
  if (err instanceof Error && typeof errno.code === 'string' && typeof errno.syscall === 'string') {
    return new CliError('InvalidInput', errno.message, EXIT.usage);
  }
  return null;
}

/** The process around `main`: real streams and environment, Ctrl-C, a closed stdout pipe. */
export async function runCli(argv: string[]): Promise<void> {
  const controller = new AbortController();
  process.on('SIGINT', () => {
    if (controller.signal.aborted) process.exit(130);
    controller.abort();
    // A command that does not watch the signal (an upload, say) is stopped anyway.
    setTimeout(() => process.exit(130), 500).unref();
  });
  // `hearth logs x | head`: the reader went away; that is not an error.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(EXIT.ok);
    throw err;
  });
  try {
    process.exitCode = await main(argv, { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin }, process.env, controller.signal);
  } catch (err) {
    const text = err instanceof Error ? (err.stack ?? err.message) : String(err);
    process.stderr.write(`${escapeControls(`hearth: internal error (a bug; please report it): ${text}`)}\n`);
    process.exitCode = EXIT.failed;
  }
}
