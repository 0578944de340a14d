// The two operations the worker asks for: `init` (load the handler) and
// `invoke` (run it once). Each replies with exactly one frame, carrying the
// logs captured since the previous reply.

import { applyInit, createContext } from './context.mjs';
import { guarded, isCrashing, reply } from './crash-guard.mjs';
import { describe, RuntimeFailure } from './errors.mjs';
import { frameOf, MAX_FRAME_BYTES } from './framing.mjs';
import { loadHandler } from './handler-loading.mjs';
import { drainLogs } from './log-capture.mjs';
import { writeSecretFiles } from './secret-files.mjs';

/** The function's handler, once an init has succeeded. */
let handler;

function elapsed(since) {
  return Math.round((performance.now() - since) * 1000) / 1000;
}

/** Applies `init`, loads the handler and replies `initResult`. */
export async function handleInit(msg) {
  const started = performance.now();
  const outcome = await guarded(async () => {
    // The files first: the function's code may read them as it loads.
    writeSecretFiles(msg);
    applyInit(msg);
    handler = await loadHandler(msg.codeDir, msg.handler);
    return { ok: true };
  });
  const message = { type: 'initResult', ok: outcome.ok, durationMs: elapsed(started), ...drainLogs(), ...(isCrashing() ? { fatal: true } : {}) };
  if (!outcome.ok) message.error = outcome.error;
  reply(frameOf(JSON.stringify(message)));
}

/** Calls the handler Lambda-style; resolves with the first outcome it produces. */
function callHandler(msg) {
  return new Promise((settle, fail) => {
    let settled = false;
    const finish = (ok, value) => {
      if (settled) return;
      settled = true;
      if (ok) settle(value);
      else fail(value);
    };
    const callback = (err, result) => (err === undefined || err === null ? finish(true, result) : finish(false, err));
    try {
      const returned = handler(msg.event, createContext(msg, callback), callback);
      if (returned !== null && (typeof returned === 'object' || typeof returned === 'function') && typeof returned.then === 'function') {
        returned.then((result) => finish(true, result), (err) => finish(false, err));
      } else if (handler.length < 3) {
        finish(true, returned);
      } // else: a callback-style handler; wait for the callback.
    } catch (err) {
      finish(false, err);
    }
  });
}

function serialiseResult(result) {
  let json;
  try {
    json = JSON.stringify(result === undefined ? null : result);
  } catch (err) {
    throw new RuntimeFailure('Runtime.MarshalError', `Unable to marshal response: ${describe(err)}`);
  }
  return json === undefined ? 'null' : json;
}

/** Runs one invocation and replies `invokeResult`. */
export async function handleInvoke(msg) {
  const started = performance.now();
  const outcome = await guarded(async () => {
    if (handler === undefined) throw new RuntimeFailure('Runtime.InvalidState', 'invoke before a successful init');
    return { ok: true, json: serialiseResult(await callHandler(msg)) };
  });
  const durationMs = elapsed(started);
  const { logs, logsTruncated } = drainLogs();
  // The result is spliced in as already-serialised JSON, not stringified twice.
  // `fatal` tells the worker this process is about to exit: never reuse it.
  const head = `{"type":"invokeResult","id":${JSON.stringify(msg.id)},"durationMs":${durationMs},"logs":${JSON.stringify(logs)},"logsTruncated":${logsTruncated}${isCrashing() ? ',"fatal":true' : ''}`;
  let frame = outcome.ok
    ? frameOf(`${head},"ok":true,"result":${outcome.json}}`)
    : frameOf(`${head},"ok":false,"error":${JSON.stringify(outcome.error)}}`);
  if (frame.length - 4 > MAX_FRAME_BYTES) {
    const error = { type: 'Runtime.ResponseSizeTooLarge', message: `Response of ${frame.length} bytes exceeds ${MAX_FRAME_BYTES}` };
    frame = frameOf(`${head},"ok":false,"error":${JSON.stringify(error)}}`);
  }
  reply(frame);
}
