// Handler loading: resolves `file.function` under the code directory and
// imports it, failing with the Lambda `Runtime.*` type that says why.

import { statSync } from 'node:fs';
import { resolve as resolvePath, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, RuntimeFailure } from './errors.mjs';

/** Tried in this order; mirrors sourceExtensions in runtime-images/runtimes.ts. */
const HANDLER_EXTENSIONS = ['.js', '.mjs', '.cjs'];

/** Resolves and imports `file.function` under codeDir; throws RuntimeFailure. */
export async function loadHandler(codeDir, handler) {
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
