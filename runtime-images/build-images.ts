/**
 * Builds the prebuilt runtime images (`RUNTIMES` in `runtimes.ts`) with no
 * registry and no base image: each root filesystem is assembled from this
 * machine's own binaries (the interpreter, exactly the shared libraries `ldd`
 * reports, the agent, a few /etc files) and streamed as a tar straight into
 * the Engine API's image import, which applies the image config in the same
 * step. Nothing is copied to disk first, so a build takes seconds.
 *
 * Each runtime's plan is `<runtime>/image-plan.ts`; a plan may say this
 * machine cannot build its runtime, and that image is then left out.
 *
 * Usable as a module (`ensureRuntimeImages`, called by the worker and tests)
 * and as a CLI: `npx tsx runtime-images/build-images.ts [--force] [runtime ...]`.
 */
import { pathToFileURL } from 'node:url';
import Dockerode from 'dockerode';
import { importImage, inputsHash, INPUTS_LABEL } from './image-import.ts';
import type { ImagePlanner } from './image-rootfs.ts';
import { java17Plan } from './java17/image-plan.ts';
import { planNode } from './nodejs20/image-plan.ts';
import { providedPlan } from './provided/image-plan.ts';
import { planPython } from './python3/image-plan.ts';
import { isRuntimeName, RUNTIME_NAMES, type RuntimeName } from './runtimes.ts';

const PLANNERS: Readonly<Record<RuntimeName, ImagePlanner>> = {
  nodejs20: () => planNode(),
  python3: (log) => planPython(log),
  provided: (log) => providedPlan(log),
  java17: (log) => java17Plan(log),
};

export interface EnsureRuntimeImagesOptions {
  /** Rebuild even when an image with matching inputs exists. */
  force?: boolean;
  /** Receives one line per step (what was built or skipped, and how long it took). */
  log?: (line: string) => void;
  /** Only these runtimes (default: all). */
  only?: readonly RuntimeName[];
}

/** What `ensureRuntimeImages` did per runtime: the image is there, or why it is not. */
export type ImageOutcome = { runtime: RuntimeName; tag: string } | { runtime: RuntimeName; unavailable: string };

/**
 * Makes sure every runtime image this machine can build exists and was built
 * from the current inputs (agent source, the build's version, the identity
 * of every host file copied in). An image whose `io.hearth.inputs` label
 * matches is left alone; otherwise it is rebuilt and the image it replaces
 * is removed if no container uses it. Needs root or read access to the
 * host's binaries, and `apt-get` for what a plan installs. A runtime this
 * machine cannot build is logged and reported, not thrown.
 */
export async function ensureRuntimeImages(docker: Dockerode, options: EnsureRuntimeImagesOptions = {}): Promise<ImageOutcome[]> {
  const log = options.log ?? (() => {});
  const outcomes: ImageOutcome[] = [];
  for (const runtime of options.only ?? RUNTIME_NAMES) {
    const plan = await PLANNERS[runtime](log);
    if ('unavailable' in plan) {
      log(`${runtime}: not built (${plan.unavailable})`);
      outcomes.push({ runtime, unavailable: plan.unavailable });
      continue;
    }
    const started = performance.now();
    const inputs = await inputsHash(plan);
    const existing = await docker.getImage(plan.tag).inspect().catch(() => undefined);
    outcomes.push({ runtime, tag: plan.tag });
    if (!options.force && existing?.Config?.Labels?.[INPUTS_LABEL] === inputs) {
      log(`${plan.tag}: up to date (${inputs.slice(0, 19)})`);
      continue;
    }
    await importImage(docker, plan, inputs);
    const built = await docker.getImage(plan.tag).inspect();
    const seconds = ((performance.now() - started) / 1000).toFixed(2);
    log(`${plan.tag}: built in ${seconds}s, ${(built.Size / 1e6).toFixed(1)} MB, ${plan.entries.length} entries`);
    if (existing && existing.Id !== built.Id) {
      // The old image is now untagged; drop it unless a container still uses it.
      await docker.getImage(existing.Id).remove().catch(() => undefined);
    }
  }
  return outcomes;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const started = performance.now();
  const only = process.argv.slice(2).filter(isRuntimeName);
  ensureRuntimeImages(new Dockerode(), {
    force: process.argv.includes('--force'),
    log: (line) => console.log(line),
    ...(only.length > 0 ? { only } : {}),
  }).then(
    () => console.log(`done in ${((performance.now() - started) / 1000).toFixed(2)}s`),
    (err: unknown) => {
      console.error(err);
      process.exitCode = 1;
    },
  );
}
