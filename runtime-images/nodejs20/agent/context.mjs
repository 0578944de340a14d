// The function's identity and what it sees of it: `init` sets the identity
// and the Lambda environment variables once; each invocation gets a
// Lambda-style `context` built from them.

/** Who the function is: set by applyInit, read by every context. */
const fn = { name: '', version: '', memoryMb: 0, logStream: '' };

/** Applies `init`: the function's env, then the reserved names, then its code directory as cwd. */
export function applyInit(msg) {
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

/** The `context` one invocation's handler receives; `callback` is the handler's own callback. */
export function createContext(msg, callback) {
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
