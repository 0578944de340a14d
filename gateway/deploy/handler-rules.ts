/**
 * The rules a handler string follows, per runtime: its syntax (checked at
 * deploy, before anything is stored) and, where the package can be read,
 * whether the package holds something it could load. Deploy-time checks may
 * refuse what can never load, but never what Lambda's own runtime would load:
 * for nodejs20 and python3 they follow the runtimes' resolution
 * (runtime-images/nodejs20/agent/handler-loading.mjs,
 * runtime-images/python3/agent/handler_loading.py, which follow Lambda's
 * runtime interface clients) and name the `Runtime.*` type the function's
 * init would fail with. Pure functions, unit-tested.
 */
import { isBuiltin } from 'node:module';
import { posix } from 'node:path';
import type { RuntimeName } from '../../runtime-images/runtimes.ts';
import { badRequest } from '../errors.ts';

/** Lambda's own limit: 1-128 characters, no whitespace (its API pattern is `[^\s]+`); control characters are refused too. */
const HANDLER_TEXT = /^[^\s\x00-\x1f\x7f]{1,128}$/u;

/**
 * Modules built into every CPython 3.11 (its core and Modules/Setup.bootstrap):
 * a handler module named after one is Runtime.BuiltInModuleConflict on Lambda
 * and here alike. Hearth's interpreter has more built-ins (math, zlib, array,
 * ...); those fail the same way at init, but only here, so the deploy lets
 * them through.
 */
const PYTHON_CORE_BUILTINS = new Set(
  ('_abc _ast _codecs _collections _functools _imp _io _locale _operator _signal _sre _stat _string _symtable _thread ' +
    '_tokenize _tracemalloc _warnings _weakref atexit builtins errno faulthandler gc itertools marshal posix pwd sys time').split(' '),
);

/**
 * Python 3.11's standard-library top-level modules (sys.stdlib_module_names,
 * private ones left out): a handler module among them may load from the
 * interpreter rather than the package, so the package is not asked for it.
 */
const PYTHON_STDLIB_TOP_LEVEL = new Set(
  (
    'abc aifc antigravity argparse array ast asynchat asyncio asyncore atexit audioop base64 bdb binascii bisect ' +
    'builtins bz2 cProfile calendar cgi cgitb chunk cmath cmd code codecs codeop collections colorsys compileall ' +
    'concurrent configparser contextlib contextvars copy copyreg crypt csv ctypes curses dataclasses datetime dbm ' +
    'decimal difflib dis distutils doctest email encodings ensurepip enum errno faulthandler fcntl filecmp fileinput ' +
    'fnmatch fractions ftplib functools gc genericpath getopt getpass gettext glob graphlib grp gzip hashlib heapq ' +
    'hmac html http idlelib imaplib imghdr imp importlib inspect io ipaddress itertools json keyword lib2to3 ' +
    'linecache locale logging lzma mailbox mailcap marshal math mimetypes mmap modulefinder msilib msvcrt ' +
    'multiprocessing netrc nis nntplib nt ntpath nturl2path numbers opcode operator optparse os ossaudiodev pathlib ' +
    'pdb pickle pickletools pipes pkgutil platform plistlib poplib posix posixpath pprint profile pstats pty pwd ' +
    'py_compile pyclbr pydoc pydoc_data pyexpat queue quopri random re readline reprlib resource rlcompleter runpy ' +
    'sched secrets select selectors shelve shlex shutil signal site smtpd smtplib sndhdr socket socketserver spwd ' +
    'sqlite3 sre_compile sre_constants sre_parse ssl stat statistics string stringprep struct subprocess sunau ' +
    'symtable sys sysconfig syslog tabnanny tarfile telnetlib tempfile termios textwrap this threading time timeit ' +
    'tkinter token tokenize tomllib trace traceback tracemalloc tty turtle turtledemo types typing unicodedata ' +
    'unittest urllib uu uuid venv warnings wave weakref webbrowser winreg winsound wsgiref xdrlib xml xmlrpc zipapp ' +
    'zipfile zipimport zlib zoneinfo '
  )
    .trim()
    .split(' '),
);

/** Where the code is mounted: an absolute handler path under it names a file of the package. */
const TASK_ROOT = '/var/task/';

/**
 * True for a handler's last part that names the language's machinery rather
 * than an export: `constructor`, `__proto__`, `prototype`, or a dunder
 * (`__class__`, `__init__`). A module object inherits these, so Lambda would
 * resolve one to `Object` or a type instead of the user's code; Hearth
 * refuses them here and the agents at init (Runtime.HandlerNotFound), the one
 * place it is stricter than Lambda. `call`, `apply` and `bind` stay allowed:
 * they can be real exports.
 */
export function isReservedHandlerFunction(handler: string): boolean {
  const fn = handler.slice(handler.lastIndexOf('.') + 1);
  return fn === 'constructor' || fn === 'prototype' || fn === '__proto__' || /^__.*__$/.test(fn);
}

/**
 * Every problem with `handler` for `runtime`, as sentences; empty when it may
 * be stored. For nodejs20 and python3 only what can never load is a problem,
 * and the sentence starts with the Runtime.* type init would report.
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
  if (!HANDLER_TEXT.test(handler)) return ['handler must be 1-128 characters without spaces or control characters'];
  const problem = runtime === 'nodejs20' ? nodeSyntaxProblem(handler) : pythonSyntaxProblem(handler);
  if (problem) return [problem];
  if (isReservedHandlerFunction(handler)) {
    return ['handler function cannot be constructor, prototype, __proto__ or a __dunder__ name: name an exported function (Runtime.HandlerNotFound)'];
  }
  return [];
}

function nodeSyntaxProblem(handler: string): string | undefined {
  if (handler.includes('..')) {
    return `Runtime.MalformedHandlerName: '${handler}' is not a valid handler name. Use absolute paths when specifying root directories in handler names.`;
  }
  if (splitNodeHandler(handler) === undefined) {
    return `Runtime.MalformedHandlerName: Bad handler '${handler}': expected module.export (e.g. index.handler or src/app.handlers.main)`;
  }
  return undefined;
}

function pythonSyntaxProblem(handler: string): string | undefined {
  const dot = handler.lastIndexOf('.');
  if (dot < 0) return `Runtime.MalformedHandlerName: Bad handler '${handler}': expected module.function (e.g. main.handler or pkg.app.handler)`;
  const moduleName = handler.slice(0, dot);
  const top = moduleName.split('.')[0]!;
  if (PYTHON_CORE_BUILTINS.has(top)) return `Runtime.BuiltInModuleConflict: Cannot use built-in module ${moduleName} as a handler module`;
  return undefined;
}

/**
 * Lambda's Node split: the module root is everything before the last path
 * segment, the module that segment up to its first dot, the rest a property
 * path. (The RIC finds the segment with path.basename and the root with the
 * first indexOf of it; done the same way here.) Undefined without a dot.
 */
export function splitNodeHandler(handler: string): { moduleRoot: string; moduleName: string; propertyPath: string } | undefined {
  const last = posix.basename(handler);
  const moduleRoot = handler.substring(0, handler.indexOf(last));
  const dot = last.indexOf('.');
  if (dot < 0) return undefined;
  return { moduleRoot, moduleName: last.slice(0, dot), propertyPath: last.slice(dot + 1) };
}

/** What the package holds, as the checks below ask it: regular files, plus symlinks that may stand for anything. */
class PackageView {
  readonly #files: ReadonlySet<string>;
  readonly #links: readonly string[];

  constructor(
    readonly files: readonly string[],
    symlinks: readonly string[],
  ) {
    this.#files = new Set(files);
    this.#links = symlinks;
  }

  /** A file (or possibly a file: a symlink at it or above it) at `path`. */
  has(path: string): boolean {
    return this.#files.has(path) || this.#links.some((l) => path === l || path.startsWith(`${l}/`));
  }

  /** A directory at `path` (`''` is the package root) holding anything, or a symlink that may be one. */
  hasDir(path: string): boolean {
    if (path === '') return this.files.length > 0;
    const prefix = `${path}/`;
    return this.files.some((f) => f.startsWith(prefix)) || this.has(path);
  }

  /** Any entry at `path` or `path.<anything>` or under `path/`. */
  hasAnyAt(path: string): boolean {
    return this.hasDir(path) || this.files.some((f) => f === path || (f.startsWith(`${path}.`) && !f.slice(path.length).includes('/')));
  }

  /** The first few paths, for a message. */
  shown(): string {
    const { files } = this;
    return files.slice(0, 10).join(', ') + (files.length > 10 ? `, … (${files.length} files)` : '') || 'no files';
  }
}

/**
 * Throws `HandlerNotFound` (400; `details.runtimeErrorType` and the message
 * name the Runtime.* type init would report) when the package holds nothing
 * the handler could load. Refuses only what can never load: a module found by
 * the runtime's other routes (a directory, node_modules, a Node built-in,
 * Python's standard library, a path outside the package) passes. `symlinks`
 * are the package's symlink paths, when the caller has them.
 */
export function assertHandlerFileExists(runtime: RuntimeName, handler: string, files: readonly string[], symlinks: readonly string[] = []): void {
  if (runtime === 'provided' || runtime === 'java17') return;
  const pkg = new PackageView(files, symlinks);
  const missing = runtime === 'nodejs20' ? missingNodeModule(handler, pkg) : missingPythonModule(handler, pkg);
  if (missing === undefined) return;
  throw badRequest(
    'HandlerNotFound',
    `Runtime.ImportModuleError: handler "${handler}" cannot load: the package has no ${missing}; it holds: ${pkg.shown()}`,
    { runtimeErrorType: 'Runtime.ImportModuleError' },
  );
}

/** What the Node runtime would look for and not find, or undefined when it may find something. */
function missingNodeModule(handler: string, pkg: PackageView): string | undefined {
  const split = splitNodeHandler(handler);
  if (split === undefined || handler.includes('..')) return undefined; // a syntax problem, reported as one
  const { moduleName } = split;
  let { moduleRoot } = split;
  if (moduleRoot.startsWith('/')) {
    if (!moduleRoot.startsWith(TASK_ROOT)) return undefined; // outside the package: nothing to check
    moduleRoot = moduleRoot.slice(TASK_ROOT.length);
  }
  if (isBuiltin(moduleName)) return undefined;
  const root = relativeDir(moduleRoot);
  const base = relativePath(root, moduleName);
  // The extensionless path, as a file or directory (require finds base.js,
  // base.json, a package.json main or index.js through it).
  if (pkg.has(base) || pkg.hasDir(base)) return undefined;
  const tried = ['.js', '.mjs', '.cjs'].map((ext) => `${base}${ext}`);
  if (tried.some((path) => pkg.has(path))) return undefined;
  // A package name: node_modules in the module root or any folder above it.
  const folders = ancestors(root);
  if (moduleName !== '' && folders.some((dir) => pkg.hasAnyAt(relativePath(dir, `node_modules/${moduleName}`)))) return undefined;
  return `${[base, ...tried].join(', ')}, no directory ${base}/ and no package "${moduleName}" in node_modules`;
}

/** What the Python runtime would look for and not find, or undefined when it may find something. */
function missingPythonModule(handler: string, pkg: PackageView): string | undefined {
  const dot = handler.lastIndexOf('.');
  if (dot < 0) return undefined;
  const parts = handler.slice(0, dot).replace(/\//g, '.').split('.');
  if (PYTHON_CORE_BUILTINS.has(parts[0]!)) return undefined; // BuiltInModuleConflict, a syntax problem
  const path = parts.join('/');
  // An empty part (`.handler`, `a..b.f`, `/abs/main.f`) names no module: import_module raises.
  if (parts.includes('')) return `module at ${JSON.stringify(handler.slice(0, dot))} (it has an empty dotted part)`;
  // The standard library (Python's own modules come after the package on sys.path, but may still be found).
  if (PYTHON_STDLIB_TOP_LEVEL.has(parts[0]!)) return undefined;
  const pyInPackage = pkg.hasDir(path) || ['.py', '.pyc', '.so'].some((ext) => pkg.has(`${path}${ext}`)) || extensionModuleAt(pkg, path);
  if (pyInPackage) return undefined;
  return `${path}.py, ${path}/ (a package) or an extension module ${path}.*.so`;
}

/** `path.cpython-311-x86_64-linux-gnu.so`, `path.abi3.so` and the like. */
function extensionModuleAt(pkg: PackageView, path: string): boolean {
  return pkg.files.some((f) => f.startsWith(`${path}.`) && f.endsWith('.so') && !f.slice(path.length).includes('/'));
}

/** A handler's module root (`src/`, `./src/`, `''`) as a normalised relative directory (`src`, `''`). */
function relativeDir(moduleRoot: string): string {
  const dir = posix.normalize(moduleRoot === '' ? '.' : moduleRoot).replace(/\/+$/, '');
  return dir === '.' ? '' : dir;
}

function relativePath(dir: string, name: string): string {
  return dir === '' ? name : name === '' ? dir : `${dir}/${name}`;
}

/** `a/b` → [`a/b`, `a`, `''`]: the folders whose node_modules Node searches, inside the package. */
function ancestors(dir: string): string[] {
  const out = [dir];
  for (let d = dir; d !== ''; ) {
    d = d.includes('/') ? d.slice(0, d.lastIndexOf('/')) : '';
    out.push(d);
  }
  return out;
}
