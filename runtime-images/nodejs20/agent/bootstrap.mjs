// Hearth runtime agent for Node.js: the process a `hearth/runtime-nodejs20`
// container runs. It connects to the worker's Unix socket, loads the
// function named by `init` and runs one invocation at a time. The protocol
// (framing, messages, order) is defined in `worker/sandbox/agent-protocol.ts`;
// these files must stay in step with it.
//
// This file connects, says `hello` and dispatches what arrives; the rest is
// one module per concern, next to it:
//   framing.mjs          length-prefixed JSON frames
//   log-capture.mjs      stdout/stderr into a capped buffer per reply
//   crash-guard.mjs      the operation in progress, crashes, replies, exit
//   operations.mjs       init and invoke
//   handler-loading.mjs  `file.function` → the handler
//   context.mjs          the function's identity, env and `context`
//   errors.mjs           thrown values in Lambda's `{type, message, stack}`
//   warmup.cjs           imported while no init has arrived, to warm the loader
//
// Plain JS, built-in modules only, and nothing heavy (no `http`): everything
// up to `hello` is on the cold-start path. That includes loading these
// modules, so the image does not load them one by one: build-images.ts joins
// them into one /opt/hearth/bootstrap.mjs (see runtime-images/join-es-modules.ts
// for the rules they keep to: one-line imports without `as`, top-level names
// unique across files). Run from here, they behave the same.

import { connect } from 'node:net';
import { attachSocket, installCrashHandlers, isCrashing } from './crash-guard.mjs';
import { describe, safeString } from './errors.mjs';
import { createFrameReader, frameOf } from './framing.mjs';
import { agentStderr, installCapture } from './log-capture.mjs';
import { handleInit, handleInvoke } from './operations.mjs';

const RUNTIME = 'nodejs20';
const AGENT_VERSION = 1;
const SOCKET_PATH = process.env.HEARTH_AGENT_SOCKET || '/run/hearth/agent.sock';
const CONNECT_RETRY_MS = 5;
const CONNECT_GIVE_UP_MS = 2000;

installCrashHandlers();

// One operation at a time, in the order the worker sent them.
let queue = Promise.resolve();
const takeMessages = createFrameReader();

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

// The worker listens before the container starts, so the first attempt
// normally succeeds; retries cover a socket that is not there yet.
function start(startedAt) {
  const attempt = connect(SOCKET_PATH);
  attempt.once('connect', () => {
    const socket = attempt;
    attachSocket(socket);
    socket.removeAllListeners('error');
    // No more work can arrive: the worker is done with this container.
    socket.on('close', () => process.exit(isCrashing() ? 1 : 0));
    socket.on('error', () => process.exit(isCrashing() ? 1 : 0));
    socket.on('data', onData);
    socket.write(frameOf(JSON.stringify({ type: 'hello', runtime: RUNTIME, agentVersion: AGENT_VERSION })));
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
