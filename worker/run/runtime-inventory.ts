/**
 * Which runtimes this worker serves, and what their images carry: what the
 * worker's report says (`runtimes`, `runtimeImages`), so gateways route only
 * to workers that can start a runtime and `GET /v1/runtimes` can say what an
 * installation has. The gateway has no engine access; this is its only view.
 *
 * Each served image is inspected once, at start (an inspect is a few ms, so
 * the first report already says which runtimes are here). Versions come from
 * the image's `io.hearth.runtime-version` label when it has one; otherwise a
 * probe runs the image's own binary once (`node --version`, …), off the start
 * path, and the report carries them from the next round on. Probe output is
 * read through fixed patterns and kept only as short version words.
 */
import { RUNTIME_NAMES, RUNTIMES, type RuntimeName } from '../../runtime-images/runtimes.ts';
import type { ContainerRuntime, ImageInfo } from '../engine/container-runtime.ts';
import type { Logger } from '../common/logger.ts';
import type { RuntimeImageReport } from '../contract/worker-report.ts';

/**
 * The label an image may carry to say its versions without a probe:
 * `node 20.19.2`, or several as `java 17.0.15; glibc 2.36`.
 */
export const VERSION_LABEL = 'io.hearth.runtime-version';

/** A version word as reported: digits, letters and `._+~-`, short. */
const VERSION_WORD = /^[0-9A-Za-z][0-9A-Za-z._+~-]{0,39}$/;
const COMPONENT = /^[a-z][a-z0-9-]{0,23}$/;

/** How a runtime's versions are read when its image has no label: the command, and the patterns over its output. */
interface VersionProbe {
  command(image: ImageInfo): string[];
  read(output: string): Record<string, string>;
}

const first = (pattern: RegExp, output: string) => {
  const word = pattern.exec(output)?.[1];
  return word !== undefined && VERSION_WORD.test(word) ? word : undefined;
};
const only = (component: string, word: string | undefined): Record<string, string> => (word ? { [component]: word } : {});

/** The entrypoint's program when it is the interpreter (`/usr/bin/node …`), else `fallback`. */
const interpreter = (image: ImageInfo, name: RegExp, fallback: string) => {
  const program = image.entrypoint[0];
  return program && name.test(program.slice(program.lastIndexOf('/') + 1)) ? program : fallback;
};

/** The C library, run as a program, prints its release (the one library every image has; `provided` has no interpreter). */
const GLIBC_PROBE = ['/bin/sh', '-c', 'for f in /lib/*/libc.so.6 /usr/lib/*/libc.so.6 /lib64/libc.so.6; do [ -x "$f" ] && exec "$f"; done; exit 1'];

const PROBES: Readonly<Record<RuntimeName, VersionProbe>> = {
  nodejs20: {
    command: (image) => [interpreter(image, /^node$/, '/usr/bin/node'), '--version'],
    read: (output) => only('node', first(/^v(\d+\.\d+\.\d+)\s*$/m, output)),
  },
  python3: {
    command: (image) => [interpreter(image, /^python3(\.\d+)?$/, '/usr/bin/python3'), '--version'],
    read: (output) => only('python', first(/^Python (\d+\.\d+\.\d+\S*)\s*$/m, output)),
  },
  java17: {
    command: (image) => [image.env.JAVA_HOME ? `${image.env.JAVA_HOME}/bin/java` : interpreter(image, /^java$/, 'java'), '-version'],
    read: (output) => only('java', first(/^\S+ version "([0-9][0-9A-Za-z._+-]*)"/m, output)),
  },
  provided: {
    command: () => GLIBC_PROBE,
    read: (output) => only('glibc', first(/release version (\d+\.\d+)/, output)),
  },
};

/**
 * What a runtime's image claims besides what a probe finds: `provided` has no
 * interpreter to ask; what it offers is the Lambda Runtime API of the Lambda
 * name it reports (`provided.al2023`).
 */
function claimed(runtime: RuntimeName): Record<string, string> {
  return runtime === 'provided' ? { lambda: `${RUNTIMES.provided.reportedLambdaRuntime}-compatible` } : {};
}

/** `node 20.19.2; glibc 2.36` → versions; anything malformed is left out. */
export function versionsFromLabel(label: string | undefined): Record<string, string> | undefined {
  if (label === undefined) return undefined;
  const versions: Record<string, string> = {};
  for (const part of label.split(/[;,]/).slice(0, 8)) {
    const [component, word, ...rest] = part.trim().split(/\s+/);
    const version = word?.replace(/^v(?=\d)/, '');
    if (rest.length === 0 && component && COMPONENT.test(component) && version && VERSION_WORD.test(version)) versions[component] = version;
  }
  return Object.keys(versions).length > 0 ? versions : undefined;
}

/** The versions `runtime`'s probe reads from `output`. */
export function versionsFromProbe(runtime: RuntimeName, output: string): Record<string, string> {
  return PROBES[runtime].read(output.slice(0, 4096));
}

export interface RuntimeInventory {
  /** The runtimes this worker serves: asked for (`HEARTH_RUNTIMES`) and with an image. */
  runtimes(): RuntimeName[];
  /** Their images as the report carries them (versions fill in as probes end). */
  images(): RuntimeImageReport[];
  /** Resolves when every probe has ended. */
  probed: Promise<void>;
}

/** Versions probed per image id, for the life of the process (images are immutable; a worker restarted in-process, as tests do, probes once). */
const probedVersions = new Map<string, Record<string, string>>();

/**
 * Inspects the image of each runtime in `wanted` (default: every runtime of
 * the catalogue) and starts the probes of those without a version label.
 * A wanted runtime without an image is logged and not served.
 */
export async function openRuntimeInventory(options: {
  runtime: ContainerRuntime;
  wanted?: readonly RuntimeName[];
  log: Logger;
}): Promise<RuntimeInventory> {
  const { runtime, log } = options;
  const wanted = options.wanted ?? RUNTIME_NAMES;
  const found = await Promise.all(wanted.map(async (name) => ({ name, info: await runtime.imageInfo(RUNTIMES[name].image) })));
  const images: RuntimeImageReport[] = [];
  const probes: Array<Promise<void>> = [];
  for (const { name, info } of found) {
    if (!info) {
      // Expected for a runtime this machine cannot build; a warning when it was asked for by name.
      const fields = { runtime: name, image: RUNTIMES[name].image };
      if (options.wanted) log.warn('runtime not served: its image is missing', fields);
      else log.info('runtime not served: its image is missing', fields);
      continue;
    }
    const entry: RuntimeImageReport = {
      runtime: name,
      image: RUNTIMES[name].image,
      imageId: info.id,
      sizeBytes: info.sizeBytes,
      createdAt: info.createdAt,
      versions: { ...claimed(name), ...(versionsFromLabel(info.labels[VERSION_LABEL]) ?? probedVersions.get(info.id) ?? {}) },
    };
    images.push(entry);
    if (info.labels[VERSION_LABEL] !== undefined || probedVersions.has(info.id)) continue;
    probes.push(
      runtime.imageInfo(info.id, PROBES[name].command(info)).then(
        (probed) => {
          if (probed?.id !== info.id) return;
          const versions = probed.probeOutput === undefined ? {} : versionsFromProbe(name, probed.probeOutput);
          probedVersions.set(info.id, versions);
          entry.versions = { ...claimed(name), ...versions };
          if (Object.keys(versions).length === 0) log.warn('could not read the versions of a runtime image', { runtime: name, image: entry.image });
        },
        (err: unknown) => log.warn('could not probe a runtime image', { runtime: name, image: entry.image, err }),
      ),
    );
  }
  return {
    runtimes: () => images.map((image) => image.runtime as RuntimeName),
    images: () => images.map((image) => ({ ...image, versions: { ...image.versions } })),
    probed: Promise.all(probes).then(() => undefined),
  };
}
