// Handler loading: resolves a handler string the way Lambda's Node runtime
// (aws-lambda-nodejs-runtime-interface-client 3.x, UserFunction.js) does,
// with the same calls in the same order, so a package that loads on Lambda
// loads here and one that fails, fails with Lambda's type and wording:
//
//   dir/sub/module.a.b.c   module root `dir/sub/`, module `module` (up to
//                          the first dot after the last `/`), property path
//                          a.b.c into what the module exports
//
// The module is, first found: `module` with no extension (anything Node's
// require finds for that path: the file, or a directory's package.json main
// or index.js), `module.js` (required, or imported when the nearest
// package.json says "type": "module"), `module.mjs` (imported),
// `module.cjs` (required), else `module` as a package name from the
// node_modules beside the code (or a Node built-in).

import * as loaderFs from 'node:fs';
import { createRequire } from 'node:module';
import * as loaderPath from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, RuntimeFailure } from './errors.mjs';

/** Lambda's split of a handler's last path segment: the module, then the property path. */
const MODULE_AND_PROPERTY_PATH = /^([^.]*)\.(.*)$/;

/** The runtime's own `require`: what loads CommonJS user code, as the RIC's does. */
const userRequire = createRequire(import.meta.url);

/**
 * Properties no user code supplies: a module object or an exported function
 * inherits them. Lambda would resolve `index.toString` to
 * `Object.prototype.toString`; Hearth stops here and reports
 * Runtime.HandlerNotFound instead, the one place it refuses what Lambda
 * accepts (nothing useful can be called that way).
 */
const LANGUAGE_PROTOTYPES = new Set([Object.prototype, Function.prototype]);

/** Resolves and loads `handler` under codeDir; throws RuntimeFailure, or what the module itself threw. */
export async function loadHandler(codeDir, handler) {
  if (handler.includes('..')) {
    throw new RuntimeFailure(
      'Runtime.MalformedHandlerName',
      `'${handler}' is not a valid handler name. Use absolute paths when specifying root directories in handler names.`,
    );
  }
  // path.basename and the first indexOf, as the RIC splits it.
  const last = loaderPath.basename(handler);
  const moduleRoot = handler.substring(0, handler.indexOf(last));
  const match = MODULE_AND_PROPERTY_PATH.exec(last);
  if (match === null) throw new RuntimeFailure('Runtime.MalformedHandlerName', 'Bad handler');
  const [, moduleName, propertyPath] = match;
  const app = await loadUserModule(codeDir, moduleRoot, moduleName);
  const found = propertyAt(app, propertyPath) || defaultExportProperty(app, propertyPath);
  if (!found) throw new RuntimeFailure('Runtime.HandlerNotFound', `${handler} is undefined or not exported`);
  if (typeof found !== 'function') throw new RuntimeFailure('Runtime.HandlerNotFound', `${handler} is not a function`);
  return found;
}

/**
 * Loads the module; a SyntaxError is Runtime.UserCodeSyntaxError and a
 * CommonJS "Cannot find module" Runtime.ImportModuleError, both worded
 * `Name: message` as Lambda's are. Anything else (an ES module's missing
 * import, ERR_MODULE_NOT_FOUND; an error the module throws; a mismatch such
 * as "module is not defined in ES module scope") is rethrown as it is, so it
 * reports its own type, as on Lambda.
 */
async function loadUserModule(appRoot, moduleRoot, moduleName) {
  try {
    return await findUserModule(appRoot, moduleRoot, moduleName);
  } catch (err) {
    const kind = loadFailureKind(err);
    if (kind === undefined) throw err;
    throw new RuntimeFailure(kind, describe(err), typeof err.stack === 'string' ? err.stack : undefined);
  }
}

/** The Runtime.* type a load failure is reported as, or undefined to report the value as thrown. */
function loadFailureKind(err) {
  try {
    if (err instanceof SyntaxError) return 'Runtime.UserCodeSyntaxError';
    if (err !== null && typeof err === 'object' && err.code === 'MODULE_NOT_FOUND') return 'Runtime.ImportModuleError';
  } catch {
    // a Proxy whose traps throw: report it as thrown
  }
  return undefined;
}

/** The RIC's lookup order; each step's result counts only when truthy, as there. */
async function findUserModule(appRoot, moduleRoot, moduleName) {
  const base = loaderPath.resolve(appRoot, moduleRoot, moduleName);
  const extensionless = requireIfExists(base);
  if (extensionless) return extensionless;
  const jsIsModule = jsFileIsModule(base);
  if (!jsIsModule) {
    const js = requireIfExists(base + '.js');
    if (js) return js;
  }
  const loaded = (jsIsModule && (await importIfExists(base + '.js'))) || (await importIfExists(base + '.mjs')) || requireIfExists(base + '.cjs');
  if (loaded) return loaded;
  // A package name, from node_modules beside the code or above it, or a built-in.
  return userRequire(userRequire.resolve(moduleName, { paths: [appRoot, moduleRoot] }));
}

function requireIfExists(path) {
  return loaderFs.existsSync(path) ? userRequire(path) : undefined;
}

async function importIfExists(path) {
  return loaderFs.existsSync(path) ? await import(pathToFileURL(path).href) : undefined;
}

/** Whether `base.js` exists and its nearest package.json (the search stops at a node_modules folder) says "type": "module". */
function jsFileIsModule(base) {
  if (!loaderFs.existsSync(base + '.js')) return false;
  for (let folder = loaderPath.dirname(base); ; folder = loaderPath.resolve(folder, '..')) {
    if (folder.endsWith('/node_modules')) return false;
    const type = packageJsonType(loaderPath.join(folder, 'package.json'));
    if (type !== undefined) return type === 'module';
    if (folder === '/') return false;
  }
}

/**
 * The `type` a package.json says (`''` when it has none), or undefined when
 * there is no package.json or it holds a falsy JSON value, so the search goes
 * on upwards. An unreadable one counts as CommonJS, with Lambda's warning.
 */
function packageJsonType(file) {
  if (!loaderFs.existsSync(file)) return undefined;
  try {
    const pkg = JSON.parse(loaderFs.readFileSync(file, 'utf8'));
    if (!pkg) return undefined;
    return typeof pkg.type === 'string' ? pkg.type : '';
  } catch (err) {
    console.warn(`${file} cannot be read, it will be ignored for ES module detection purposes.`, err);
    return '';
  }
}

/** `root.a.b.c` as Lambda reads it (inherited properties too, stopping at a falsy step), bar LANGUAGE_PROTOTYPES. */
function propertyAt(root, propertyPath) {
  return propertyPath.split('.').reduce((holder, key) => holder && userProperty(holder, key), root);
}

function userProperty(holder, key) {
  for (let o = Object(holder); o !== null; o = Object.getPrototypeOf(o)) {
    if (LANGUAGE_PROTOTYPES.has(o)) return undefined;
    if (Object.prototype.hasOwnProperty.call(o, key)) return holder[key];
  }
  return undefined;
}

/**
 * The property path inside the module's `default` export, tried when the
 * module itself has nothing there: Lambda's newer runtimes (RIC 4) do this,
 * so `index.handler` finds `export default { handler }`.
 */
function defaultExportProperty(app, propertyPath) {
  if (app === null || typeof app !== 'object' || !('default' in app)) return undefined;
  return propertyAt(app.default, propertyPath);
}
