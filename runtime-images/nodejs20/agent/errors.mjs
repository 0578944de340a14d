// Errors in Lambda's shape: what a failed init or invocation reports as
// `{type, message, stack}`. Every value described here may be the function's,
// so nothing in this file may throw.

/** An error the runtime itself reports, with a Lambda `Runtime.*` type. */
export class RuntimeFailure extends Error {
  constructor(type, message, stack) {
    super(message);
    this.type = type;
    if (stack !== undefined) this.stack = stack;
  }
}

/** `String(value)`, or the best stand-in when that throws. */
export function safeString(value) {
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
export function errorInfo(value) {
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
    const type = ownName && ownName !== 'Error' ? ownName : ctorName && ctorName !== 'Object' ? ctorName : ownName;
    const message = typeof value.message === 'string' ? value.message : safeString(value);
    const info = { type: type ?? 'object', message };
    if (typeof value.stack === 'string') info.stack = value.stack;
    return info;
  }
  if (value === null || value === undefined) return { type: 'Error', message: safeString(value) };
  return { type: typeof value, message: safeString(value) };
}

/** A one-line `Name: message` for an Error, else the value as a string. */
export function describe(value) {
  try {
    if (value instanceof Error) return `${safeString(value.name)}: ${safeString(value.message)}`;
  } catch {
    // a Proxy or getter that throws: fall through to the plain string
  }
  return safeString(value);
}
