import { pino } from 'pino';

/**
 * One JSON object per line on stderr: `time` (ISO), `level` (`info`, `warn`,
 * `error`), `component`, `message` and the fields. Scripts read these lines
 * (a process counts as started once it logs `"message":"worker started"`; the
 * chaos report counts `level` and `message`), so the keys stay as they are.
 * An error goes under `err` and is written with its type, message, stack and
 * `cause` chain.
 */
export interface Logger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

// One pino for the process, each component a child. process.stderr, not
// pino.destination: there, writes to a pipe or a file are synchronous, so the
// last line before an exit is not lost.
const root = pino(
  {
    base: undefined,
    messageKey: 'message',
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (level) => ({ level }) },
    serializers: { err: pino.stdSerializers.errWithCause },
  },
  process.stderr,
);

export function createLogger(component: string): Logger {
  const log = root.child({ component });
  return {
    info: (m, f) => log.info(f ?? {}, m),
    warn: (m, f) => log.warn(f ?? {}, m),
    error: (m, f) => log.error(f ?? {}, m),
  };
}

/** A logger that drops everything (tests that do not care). */
export const silentLogger: Logger = { info() {}, warn() {}, error() {} };
