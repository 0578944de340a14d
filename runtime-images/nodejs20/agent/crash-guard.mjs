// Crashes and replies. The operation in progress (`init` or one invocation)
// is tracked so that a crash (uncaught exception, unhandled rejection) fails
// it with a reply marked `fatal`, sent before the process exits.

import { describe, errorInfo } from './errors.mjs';
import { agentStderr } from './log-capture.mjs';

let socket;
let current = null;
let crashing = false;

/** The connection replies go to; until it is set, a crash just exits. */
export function attachSocket(connected) {
  socket = connected;
}

/** True once a crash has happened: the process exits after its reply. */
export function isCrashing() {
  return crashing;
}

/** Registers the process-wide handlers; call before anything can crash. */
export function installCrashHandlers() {
  process.on('uncaughtException', (err) => crash(errorInfo(err)));
  // As PID 1 the agent gets no default signal dispositions: without this,
  // `docker stop` would wait out its grace period and then SIGKILL. A function
  // that registers its own SIGTERM listener is left to handle it.
  process.on('SIGTERM', () => {
    if (process.listenerCount('SIGTERM') === 1) process.exit(143);
  });
  process.on('unhandledRejection', (reason) =>
    crash({
      type: 'Runtime.UnhandledPromiseRejection',
      message: describe(reason),
      stack: reason instanceof Error ? reason.stack : undefined,
    }),
  );
}

function crash(info) {
  if (crashing) return;
  crashing = true;
  if (current) {
    current.fail(info);
    return; // the pending reply is sent, then the process exits
  }
  agentStderr(`hearth agent: ${info.type}: ${info.message}\n`);
  exitAfterFlush(1);
}

/** Exits once queued socket writes (and `lastFrame`) have reached the kernel. */
function exitAfterFlush(code, lastFrame) {
  if (!socket) process.exit(code);
  socket.write(lastFrame ?? Buffer.alloc(0), () => process.exit(code));
  setTimeout(() => process.exit(code), 1000).unref();
}

/**
 * Runs `work` as the current operation. Resolves with what it returns, or
 * `{ok: false, error}` when it throws or a crash happens meanwhile.
 */
export function guarded(work) {
  return new Promise((settle) => {
    current = { fail: (error) => settle({ ok: false, error }) };
    work().then(settle, (err) => settle({ ok: false, error: errorInfo(err) }));
  }).finally(() => {
    current = null;
  });
}

/** Sends a reply frame; after a crash, flushes it and exits. */
export function reply(frame) {
  if (crashing) exitAfterFlush(1, frame);
  else socket.write(frame);
}
