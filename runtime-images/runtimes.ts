/**
 * The catalogue of runtimes a function can choose. Each maps to one prebuilt
 * image (see `build-images.ts`); code is never baked into an image, it is
 * mounted into a generic container at `/var/task` and loaded by the agent.
 *
 * A runtime is in the catalogue whether or not this installation could build
 * its image: the workers report which images they have (`GET /v1/runtimes`
 * says so), and a deploy of a runtime no worker has is refused.
 */
export type RuntimeName = 'nodejs20' | 'python3' | 'provided' | 'java17';

/** uid and gid of the unprivileged user every function runs as, in every image. */
export const SANDBOX_UID = 10001;

/** Where every image mounts a tmpfs for the function's secret files (one file per secret, 0400). */
export const SECRETS_DIR = '/run/secrets';

export interface RuntimeInfo {
  name: RuntimeName;
  /** Local image tag, built by `runtime-images/build-images.ts`. */
  image: string;
  /** Handler used when a deploy does not name one. */
  defaultHandler: string;
  /** Extensions of a handler's source file, in lookup order (the CLI guesses a runtime by them; Node also loads an extensionless file first, as Lambda does). */
  sourceExtensions: readonly string[];
  /**
   * Lambda's runtime identifiers that run on this runtime. A deploy may name
   * any of them; the deploy answer says which Hearth runtime it resolved to
   * (`runtimeResolved`) rather than pretending to run the exact version.
   */
  lambdaRuntimes: readonly string[];
  /** The Lambda identifier reported for this runtime (the version the image carries). */
  reportedLambdaRuntime: string;
  /** How a handler string is read, in one sentence (shown by `GET /v1/runtimes`). */
  handlerConvention: string;
}

export const RUNTIMES: Readonly<Record<RuntimeName, RuntimeInfo>> = {
  nodejs20: {
    name: 'nodejs20',
    image: 'hearth/runtime-nodejs20:latest',
    defaultHandler: 'index.handler',
    sourceExtensions: ['.js', '.mjs', '.cjs'],
    lambdaRuntimes: ['nodejs18.x', 'nodejs20.x', 'nodejs22.x'],
    reportedLambdaRuntime: 'nodejs20.x',
    handlerConvention:
      'dir/module.export[.property...]: the module is the path up to the first dot after the last "/", resolved as module, module.js, module.mjs, module.cjs; the rest is a property path into its exports',
  },
  python3: {
    name: 'python3',
    image: 'hearth/runtime-python3:latest',
    defaultHandler: 'main.handler',
    sourceExtensions: ['.py'],
    lambdaRuntimes: ['python3.8', 'python3.9', 'python3.10', 'python3.11', 'python3.12', 'python3.13'],
    reportedLambdaRuntime: 'python3.11',
    handlerConvention: 'dir/module.function or package.module.function: the last dotted part is the function, the rest the module',
  },
  provided: {
    name: 'provided',
    image: 'hearth/runtime-provided:latest',
    defaultHandler: 'bootstrap',
    sourceExtensions: [],
    lambdaRuntimes: ['provided', 'provided.al2', 'provided.al2023'],
    reportedLambdaRuntime: 'provided.al2023',
    handlerConvention:
      'any string, passed to the program as _HANDLER; the program is the executable "bootstrap" at the archive root (or, without one, the executable the handler names), speaking the Lambda Runtime API on AWS_LAMBDA_RUNTIME_API',
  },
  java17: {
    name: 'java17',
    image: 'hearth/runtime-java17:latest',
    defaultHandler: 'example.Handler::handleRequest',
    sourceExtensions: ['.jar'],
    lambdaRuntimes: ['java17'],
    reportedLambdaRuntime: 'java17',
    handlerConvention:
      'package.Class::method or package.Class (a RequestHandler or RequestStreamHandler); classes load from the archive root, lib/*.jar and *.jar at the root',
  },
};

export const RUNTIME_NAMES = Object.keys(RUNTIMES) as RuntimeName[];

export function isRuntimeName(value: string): value is RuntimeName {
  return Object.hasOwn(RUNTIMES, value);
}

/**
 * The runtime a name given at deploy runs on: a Hearth name (`nodejs20`) or
 * one of Lambda's (`nodejs22.x`, `provided.al2023`). Undefined for anything
 * else. `requested` is the name as given, so the answer can say both.
 */
export function resolveRuntime(name: string): { runtime: RuntimeName; requested: string } | undefined {
  if (isRuntimeName(name)) return { runtime: name, requested: name };
  const runtime = runtimeOfLambdaName(name);
  return runtime ? { runtime, requested: name } : undefined;
}

/** The runtime one of Lambda's identifiers (`nodejs22.x`, `provided.al2023`) runs on; undefined for anything else, Hearth's own names included. */
export function runtimeOfLambdaName(name: string): RuntimeName | undefined {
  return RUNTIME_NAMES.find((r) => RUNTIMES[r].lambdaRuntimes.includes(name));
}
