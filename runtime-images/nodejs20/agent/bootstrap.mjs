// Hearth runtime agent for Node.js: the process a `hearth/runtime-nodejs20`
// container runs. It connects to the worker's Unix socket, loads the
// function named by `init` and runs one invocation at a time. The protocol
// (framing, messages, order) is defined in `worker/agent-protocol.ts`; this
// file must stay in step with it.
//
// Plain JS, built-in modules only, and nothing heavy (no `http`): everything
// up to `hello` is on the cold-start path.

import { connect } from 'node:net';
import { statSync } from 'node:fs';
import { resolve as resolvePath, sep } from 'node:path';
import { pathToFileURL } from 'node:url';

const RUNTIME = 'nodejs20';
const AGENT_VERSION = 1;
const SOCKET_PATH = process.env.HEARTH_AGENT_SOCKET || '/run/hearth/agent.sock';
/** Mirrors LOG_CAP_BYTES and MAX_FRAME_BYTES in worker/agent-protocol.ts. */
const LOG_CAP_BYTES = 64 * 1024;
const MAX_FRAME_BYTES = 16 * 1024 * 1024;
/** Room kept under the cap for the truncation marker, so logs never exceed it. */
const MARKER_RESERVE_BYTES = 96;
const CONNECT_RETRY_MS = 5;
const CONNECT_GIVE_UP_MS = 2000;
const HANDLER_EXTENSIONS = ['.js', '.mjs', '.cjs'];

// ---------------------------------------------------------------------------
// Log capture. Installed right after `hello` is written (no function code runs
// before `init`, so creating the stdio streams can wait); the real stderr
// stays available for the agent's own last words, which show up in `docker logs`.

const captured = { chunks: [], keptBytes: 0, totalBytes: 0 };
let realStderrWrite;

function agentStderr(text) {
  if (realStderrWrite) realStderrWrite(text);
  else process.stderr.write(text);
}

function installCapture() {
  realStderrWrite = process.stderr.write.bind(process.stderr);
  process.stdout.write = captureWrite;
  process.stderr.write = captureWrite;
}

function captureWrite(chunk, encoding, callback) {
  if (typeof encoding === 'function') {
    callback = encoding;
    encoding = undefined;
  }
  if (typeof chunk !== 'string' && !ArrayBuffer.isView(chunk)) chunk = safeString(chunk);
  const isText = typeof chunk === 'string';
  const enc = isText && encoding && Buffer.isEncoding(encoding) ? encoding : 'utf8';
  const size = isText ? Buffer.byteLength(chunk, enc) : chunk.byteLength;
  const room = LOG_CAP_BYTES - captured.keptBytes;
  if (room > 0 && size > 0) {
    // Copy: a caller may reuse its buffer after write() returns.
    const bytes = isText ? Buffer.from(chunk, enc) : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const kept = size <= room ? Buffer.from(bytes) : Buffer.from(bytes.subarray(0, room));
    captured.chunks.push(kept);
    captured.keptBytes += kept.length;
  }
  captured.totalBytes += size;
  if (typeof callback === 'function') process.nextTick(callback);
  return true;
}

/** Takes everything captured since the last call, capped at LOG_CAP_BYTES. */
function drainLogs() {
  const all = Buffer.concat(captured.chunks, captured.keptBytes);
  const total = captured.totalBytes;
  captured.chunks = [];
  captured.keptBytes = 0;
  captured.totalBytes = 0;
  if (total <= LOG_CAP_BYTES) return { logs: all.toString('utf8'), logsTruncated: false };
  let keep = LOG_CAP_BYTES - MARKER_RESERVE_BYTES;
  // Never cut through a UTF-8 sequence: back up to the start of a character.
  while (keep > 0 && (all[keep] & 0xc0) === 0x80) keep--;
  const head = all.toString('utf8', 0, keep);
  const newline = head.endsWith('\n') || head.length === 0 ? '' : '\n';
  return {
    logs: `${head}${newline}[hearth] log truncated: ${total - keep} bytes dropped\n`,
    logsTruncated: true,
  };
}

// ---------------------------------------------------------------------------
// Errors in Lambda's shape.

/** An error the runtime itself reports, with a Lambda `Runtime.*` type. */
class RuntimeFailure extends Error {
  constructor(type, message, stack) {
    super(message);
    this.type = type;
    if (stack !== undefined) this.stack = stack;
  }
}

function safeString(value) {
  try {
    return String(value);
  } catch {
    try {
      return Object.prototype.toString.call(value);
    } catch {
      return '[unprintable value]'; // a revoked Proxy
    }
  }
}

/**
 * The `{type, message, stack}` a thrown value reports. Never throws: the
 * value is the function's, and getters or Proxy traps on it may throw too.
 */
function errorInfo(value) {
  try {
    return describeThrown(value);
  } catch {
    return { type: 'Error', message: 'the thrown value could not be inspected (its properties throw)' };
  }
}

function describeThrown(value) {
  if (value instanceof RuntimeFailure) return { type: value.type, message: value.message, stack: value.stack };
  if (value !== null && typeof value === 'object') {
    // A subclass that does not set `name` still reports `Error`; its
    // constructor's name says more.
    const ownName = typeof value.name === 'string' && value.name !== '' ? value.name : undefined;
    const ctorName = typeof value.constructor?.name === 'string' ? value.constructor.name : undefined;
    let type = ownName && ownName !== 'Error' ? ownName : ctorName && ctorName !== 'Object' ? ctorName : ownName;
    const message = typeof value.message === 'string' ? value.message : safeString(value);
    const info = { type: type ?? 'object', message };
    if (typeof value.stack === 'string') info.stack = value.stack;
    return info;
  }
  if (value === null || value === undefined) return { type: 'Error', message: safeString(value) };
  return { type: typeof value, message: safeString(value) };
}

function describe(value) {
  try {
    if (value instanceof Error) return `${safeString(value.name)}: ${safeString(value.message)}`;
  } catch {
    // a Proxy or getter that throws: fall through to the plain string
  }
  return safeString(value);
}

// ---------------------------------------------------------------------------
// Framing (4-byte big-endian length + UTF-8 JSON).

let socket;
const inbox = { chunks: [], bytes: 0 };

function frameOf(json) {
  const body = Buffer.from(json, 'utf8');
  const head = Buffer.allocUnsafe(4);
  head.writeUInt32BE(body.length, 0);
  return Buffer.concat([head, body], 4 + body.length);
}

function send(message) {
  socket.write(frameOf(JSON.stringify(message)));
}

/** Collects chunks and returns each complete message, in order. */
function takeMessages(chunk) {
  inbox.chunks.push(chunk);
  inbox.bytes += chunk.length;
  const messages = [];
  while (inbox.bytes >= 4) {
    // Concatenate only once a whole frame is here, so a large event arriving
    // in many chunks is copied once, not once per chunk.
    const first = inbox.chunks[0].length >= 4 ? inbox.chunks[0] : Buffer.concat(inbox.chunks);
    const length = first.readUInt32BE(0);
    if (length > MAX_FRAME_BYTES) throw new Error(`frame of ${length} bytes exceeds ${MAX_FRAME_BYTES}`);
    if (inbox.bytes < 4 + length) break;
    const all = inbox.chunks.length === 1 ? inbox.chunks[0] : Buffer.concat(inbox.chunks, inbox.bytes);
    messages.push(JSON.parse(all.toString('utf8', 4, 4 + length)));
    const rest = all.subarray(4 + length);
    inbox.chunks = rest.length > 0 ? [rest] : [];
    inbox.bytes = rest.length;
  }
  return messages;
}

// ---------------------------------------------------------------------------
// Init: environment, working directory, handler.

const fn = { handler: undefined, name: '', version: '', memoryMb: 0, logStream: '' };

function applyInit(msg) {
  for (const [key, value] of Object.entries(msg.env ?? {})) process.env[key] = String(value);
  const now = new Date();
  const day = `${now.getUTCFullYear()}/${String(now.getUTCMonth() + 1).padStart(2, '0')}/${String(now.getUTCDate()).padStart(2, '0')}`;
  fn.name = msg.functionName;
  fn.version = msg.functionVersion;
  fn.memoryMb = msg.memoryLimitInMB;
  fn.logStream = `${day}/[${msg.functionVersion}]${process.env.HOSTNAME || process.pid}`;
  // Set after the function's own env so the reserved names cannot be spoofed.
  Object.assign(process.env, {
    AWS_LAMBDA_FUNCTION_NAME: msg.functionName,
    AWS_LAMBDA_FUNCTION_VERSION: msg.functionVersion,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(msg.memoryLimitInMB),
    AWS_LAMBDA_LOG_GROUP_NAME: `/hearth/${msg.functionName}`,
    AWS_LAMBDA_LOG_STREAM_NAME: fn.logStream,
    LAMBDA_TASK_ROOT: msg.codeDir,
    _HANDLER: msg.handler,
    HEARTH_FUNCTION_NAME: msg.functionName,
  });
  process.chdir(msg.codeDir);
}

/** Resolves and imports `file.function` under codeDir; throws RuntimeFailure. */
async function loadHandler(codeDir, handler) {
  const dot = handler.lastIndexOf('.');
  if (dot <= 0 || dot === handler.length - 1) {
    throw new RuntimeFailure('Runtime.MalformedHandlerName', `Bad handler '${handler}': expected 'file.function'`);
  }
  const file = handler.slice(0, dot);
  const name = handler.slice(dot + 1);
  const root = resolvePath(codeDir);
  const base = resolvePath(root, file);
  if (!base.startsWith(root + sep)) {
    throw new RuntimeFailure('Runtime.MalformedHandlerName', `Bad handler '${handler}': file is outside ${codeDir}`);
  }
  const path = HANDLER_EXTENSIONS.map((ext) => base + ext).find((p) => statSync(p, { throwIfNoEntry: false })?.isFile());
  if (path === undefined) {
    throw new RuntimeFailure('Runtime.ImportModuleError', `Error: Cannot find module '${file}' (tried ${HANDLER_EXTENSIONS.join(', ')})`);
  }
  let mod;
  try {
    // import() of the file URL loads ESM and CommonJS alike, honours the
    // nearest package.json "type", and resolves bundled node_modules.
    mod = await import(pathToFileURL(path).href);
  } catch (err) {
    const type = err instanceof SyntaxError ? 'Runtime.UserCodeSyntaxError' : 'Runtime.ImportModuleError';
    throw new RuntimeFailure(type, describe(err), err?.stack);
  }
  const found = ownFunction(mod, name) ?? ownFunction(mod.default, name);
  if (found === undefined) {
    throw new RuntimeFailure('Runtime.HandlerNotFound', `${handler} is undefined or not exported`);
  }
  return found;
}

/**
 * `holder[name]` when it is the holder's own property and a function. Only
 * own properties count: `index.constructor`, `index.toString` or
 * `index.call` would otherwise resolve to `Object`, `Object.prototype` or
 * `Function.prototype` members instead of anything the function exports.
 */
function ownFunction(holder, name) {
  if (holder === null || (typeof holder !== 'object' && typeof holder !== 'function')) return undefined;
  if (!Object.prototype.hasOwnProperty.call(holder, name)) return undefined;
  const value = holder[name];
  return typeof value === 'function' ? value : undefined;
}

// ---------------------------------------------------------------------------
// Work in progress. `current` lets a crash (uncaught exception, unhandled
// rejection) fail the init or invocation it happened in.

let current = null;
let crashing = false;

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

/** Runs `work` as the current operation; a crash meanwhile settles it as failed. */
function guarded(work) {
  return new Promise((settle) => {
    current = { fail: (error) => settle({ ok: false, error }) };
    work().then(settle, (err) => settle({ ok: false, error: errorInfo(err) }));
  }).finally(() => {
    current = null;
  });
}

/** Sends a reply; after a crash, flushes it and exits. */
function reply(frame) {
  if (crashing) exitAfterFlush(1, frame);
  else socket.write(frame);
}

function elapsed(since) {
  return Math.round((performance.now() - since) * 1000) / 1000;
}

async function handleInit(msg) {
  const started = performance.now();
  const outcome = await guarded(async () => {
    applyInit(msg);
    fn.handler = await loadHandler(msg.codeDir, msg.handler);
    return { ok: true };
  });
  const message = { type: 'initResult', ok: outcome.ok, durationMs: elapsed(started), ...drainLogs(), ...(crashing ? { fatal: true } : {}) };
  if (!outcome.ok) message.error = outcome.error;
  reply(frameOf(JSON.stringify(message)));
}

function createContext(msg, callback) {
  return {
    functionName: fn.name,
    functionVersion: fn.version,
    invokedFunctionArn: `arn:hearth:lambda:local:000000000000:function:${fn.name}:${fn.version}`,
    memoryLimitInMB: String(fn.memoryMb),
    awsRequestId: msg.id,
    invocationId: msg.id,
    logGroupName: `/hearth/${fn.name}`,
    logStreamName: fn.logStream,
    identity: undefined,
    clientContext: undefined,
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, msg.deadlineMs - Date.now()),
    done: callback,
    succeed: (result) => callback(null, result),
    fail: (err) => callback(err ?? new Error('context.fail() called')),
  };
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
      const returned = fn.handler(msg.event, createContext(msg, callback), callback);
      if (returned !== null && (typeof returned === 'object' || typeof returned === 'function') && typeof returned.then === 'function') {
        returned.then((result) => finish(true, result), (err) => finish(false, err));
      } else if (fn.handler.length < 3) {
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

async function handleInvoke(msg) {
  const started = performance.now();
  const outcome = await guarded(async () => {
    if (fn.handler === undefined) throw new RuntimeFailure('Runtime.InvalidState', 'invoke before a successful init');
    return { ok: true, json: serialiseResult(await callHandler(msg)) };
  });
  const durationMs = elapsed(started);
  const { logs, logsTruncated } = drainLogs();
  // The result is spliced in as already-serialised JSON, not stringified twice.
  // `fatal` tells the worker this process is about to exit: never reuse it.
  const head = `{"type":"invokeResult","id":${JSON.stringify(msg.id)},"durationMs":${durationMs},"logs":${JSON.stringify(logs)},"logsTruncated":${logsTruncated}${crashing ? ',"fatal":true' : ''}`;
  let frame = outcome.ok
    ? frameOf(`${head},"ok":true,"result":${outcome.json}}`)
    : frameOf(`${head},"ok":false,"error":${JSON.stringify(outcome.error)}}`);
  if (frame.length - 4 > MAX_FRAME_BYTES) {
    const error = { type: 'Runtime.ResponseSizeTooLarge', message: `Response of ${frame.length} bytes exceeds ${MAX_FRAME_BYTES}` };
    frame = frameOf(`${head},"ok":false,"error":${JSON.stringify(error)}}`);
  }
  reply(frame);
}

// ---------------------------------------------------------------------------
// Connection. The worker listens before the container starts, so the first
// attempt normally succeeds; retries cover a socket that is not there yet.

let queue = Promise.resolve();

function dispatch(msg) {
  if (msg?.type === 'init') queue = queue.then(() => handleInit(msg));
  else if (msg?.type === 'invoke') queue = queue.then(() => handleInvoke(msg));
  else agentStderr(`hearth agent: ignoring message of type ${safeString(msg?.type)}\n`);
}

function onData(chunk) {
  let messages;
  try {
    messages = takeMessages(chunk);
  } catch (err) {
    agentStderr(`hearth agent: protocol error: ${describe(err)}\n`);
    process.exit(1);
  }
  for (const msg of messages) dispatch(msg);
}

function start(startedAt) {
  const attempt = connect(SOCKET_PATH);
  attempt.once('connect', () => {
    socket = attempt;
    socket.removeAllListeners('error');
    // No more work can arrive: the worker is done with this container.
    socket.on('close', () => process.exit(crashing ? 1 : 0));
    socket.on('error', () => process.exit(crashing ? 1 : 0));
    socket.on('data', onData);
    send({ type: 'hello', runtime: RUNTIME, agentVersion: AGENT_VERSION });
    installCapture();
    // While no init has arrived (a pre-warmed container waits here), warm the
    // module loader so the handler's own import is all that init costs.
    queue = queue.then(() => import('./warmup.cjs').catch(() => {}));
  });
  attempt.once('error', (err) => {
    attempt.destroy();
    if (Date.now() - startedAt >= CONNECT_GIVE_UP_MS) {
      agentStderr(`hearth agent: cannot connect to ${SOCKET_PATH}: ${err.message}\n`);
      process.exit(1);
    }
    setTimeout(() => start(startedAt), CONNECT_RETRY_MS);
  });
}

start(Date.now());
