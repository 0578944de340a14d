/**
 * The one error type the CLI expects. `main.ts` prints it as
 * `hearth: <code>: <message>` (plus any `detail` lines) and exits with its
 * code; anything else reaching `main.ts` is a bug and keeps its stack.
 */

/** Process exit codes, as documented in `hearth --help`. */
export const EXIT = {
  ok: 0,
  /** The gateway refused the request, or the function failed. */
  failed: 1,
  /** The command line (or a local file it names) is wrong. */
  usage: 2,
  /** The gateway could not be reached at all. */
  unreachable: 3,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export class CliError extends Error {
  constructor(
    /** Stable code: the API's `error.code`, or a CLI one (`UsageError`, `Unreachable`, …). */
    readonly code: string,
    message: string,
    readonly exitCode: ExitCode = EXIT.failed,
    /** Extra lines printed under the message (a function's stack, say). */
    readonly detail?: string,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** A mistake on the command line: exit 2, with a pointer to the help. */
export function usageError(message: string, command?: string): CliError {
  const help = command ? `hearth ${command} --help` : 'hearth --help';
  return new CliError('UsageError', `${message} (see ${help})`, EXIT.usage);
}

/** A local file or folder the command names cannot be used: exit 2. */
export function inputError(message: string): CliError {
  return new CliError('InvalidInput', message, EXIT.usage);
}
