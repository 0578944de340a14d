/**
 * The catalogue of runtimes a function can choose. Each maps to one prebuilt
 * image (see `build-images.ts`); code is never baked into an image, it is
 * mounted into a generic container at `/var/task` and loaded by the agent.
 */
export type RuntimeName = 'nodejs20' | 'python3';

/** uid and gid of the unprivileged user every function runs as, in every image. */
export const SANDBOX_UID = 10001;

export interface RuntimeInfo {
  name: RuntimeName;
  /** Local image tag, built by `runtime-images/build-images.ts`. */
  image: string;
  /** Handler used when a deploy does not name one. */
  defaultHandler: string;
  /** Extensions a handler's file may have, in lookup order. */
  sourceExtensions: readonly string[];
}

export const RUNTIMES: Readonly<Record<RuntimeName, RuntimeInfo>> = {
  nodejs20: {
    name: 'nodejs20',
    image: 'hearth/runtime-nodejs20:latest',
    defaultHandler: 'index.handler',
    sourceExtensions: ['.js', '.mjs', '.cjs'],
  },
  python3: {
    name: 'python3',
    image: 'hearth/runtime-python3:latest',
    defaultHandler: 'main.handler',
    sourceExtensions: ['.py'],
  },
};

export const RUNTIME_NAMES = Object.keys(RUNTIMES) as RuntimeName[];

export function isRuntimeName(value: string): value is RuntimeName {
  return Object.hasOwn(RUNTIMES, value);
}
