/**
 * The rules a handler string follows, per runtime: its syntax (checked at
 * deploy, before anything is stored) and, where the package can be read,
 * whether the package holds something it could load. Deploy-time checks may
 * refuse what can never load, but never what Lambda's own runtime would load.
 * Pure functions, unit-tested.
 */
import { RUNTIMES, type RuntimeName } from '../../runtime-images/runtimes.ts';
import { badRequest } from '../errors.ts';

/** `file.function`, for nodejs20 and python3. */
const handlerPattern = /^(?!.*\.\.)(?!\/)[A-Za-z0-9_][A-Za-z0-9_/.-]{0,126}\.[A-Za-z_$][A-Za-z0-9_$]{0,63}$/;
/**
 * True for a handler's function part that names the language's machinery
 * rather than an export: `constructor`, `__proto__`, `prototype`, or a
 * dunder (`__class__`, `__init__`). A module object inherits these, so the
 * runtime would resolve one to `Object` or a type instead of the user's code;
 * the agents refuse them at init too, this refuses them at deploy. `call`,
 * `apply` and `bind` stay allowed: they can be real exports.
 */
export function isReservedHandlerFunction(handler: string): boolean {
  const fn = handler.slice(handler.lastIndexOf('.') + 1);
  return fn === 'constructor' || fn === 'prototype' || fn === '__proto__' || /^__.*__$/.test(fn);
}

/**
 * Every problem with `handler` for `runtime`, as sentences; empty when it may
 * be stored.
 */
export function handlerProblems(runtime: RuntimeName, handler: string): string[] {
  if (runtime === 'provided') {
    return /^[\x21-\x7e]{1,128}$/.test(handler) ? [] : ['handler must be 1-128 printable ASCII characters without spaces'];
  }
  if (runtime === 'java17') {
    return /^[A-Za-z_$][A-Za-z0-9_$]*(\.[A-Za-z_$][A-Za-z0-9_$]*)*(::[A-Za-z_$][A-Za-z0-9_$]*)?$/.test(handler) && handler.length <= 128
      ? []
      : ['handler must look like "package.Class::method" or "package.Class"'];
  }
  if (!handlerPattern.test(handler)) return ['handler must look like "file.function" (e.g. index.handler or src/app.main), without ".."'];
  if (isReservedHandlerFunction(handler)) {
    return ['handler function cannot be constructor, prototype, __proto__ or a __dunder__ name: name an exported function'];
  }
  return [];
}

/**
 * Throws `HandlerNotFound` unless the package holds a file the handler can
 * load: `<file>` plus one of the runtime's extensions, or (Python) a package
 * directory with `__init__.py`.
 */
export function assertHandlerFileExists(runtime: RuntimeName, handler: string, files: readonly string[]): void {
  if (runtime === 'provided' || runtime === 'java17') return;
  const file = handler.slice(0, handler.lastIndexOf('.'));
  const candidates = RUNTIMES[runtime].sourceExtensions.map((ext) => `${file}${ext}`);
  if (runtime === 'python3') candidates.push(`${file}/__init__.py`);
  const present = new Set(files);
  if (candidates.some((c) => present.has(c))) return;
  const shown = files.slice(0, 10).join(', ') + (files.length > 10 ? `, … (${files.length} files)` : '');
  throw badRequest(
    'HandlerNotFound',
    `handler "${handler}" needs ${candidates.join(' or ')} in the package, which holds: ${shown || 'no files'}`,
  );
}

