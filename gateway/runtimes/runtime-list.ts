/**
 * What `GET /v1/runtimes` answers: the catalogue (`runtime-images/runtimes.ts`)
 * joined with what live workers report of their images. The gateway has no
 * engine access, so a runtime is available exactly when a live worker says
 * it serves it (`WorkerReport.runtimes`: asked for and its image present);
 * versions and sizes are the workers' own inspection of the image. Pure.
 */
import { RUNTIME_NAMES, RUNTIMES, type RuntimeName } from '../../runtime-images/runtimes.ts';
import type { RuntimeImageReport, WorkerReport } from '../../worker/contract/worker-report.ts';

/** One distinct image of a runtime among the live workers (more than one only while workers differ, mid-upgrade). */
export interface RuntimeImageView {
  imageId: string;
  sizeBytes: number;
  createdAt: string;
  versions: Record<string, string>;
  /** Live workers that have it. */
  workers: number;
}

export interface RuntimeView {
  name: RuntimeName;
  /** A live worker serves it: a deploy of it is accepted and its calls can start. */
  available: boolean;
  /** Live workers serving it. */
  workers: number;
  /** Why not, when not available. */
  unavailableReason?: string;
  image: string;
  /** What the image most workers have carries, by component (`{ node: "20.19.2" }`); empty while unknown. */
  versions: Record<string, string>;
  /** That image's size in bytes; null while unknown. */
  imageSizeBytes: number | null;
  images: RuntimeImageView[];
  /** Lambda's names a deploy may give for it. */
  lambdaRuntimes: readonly string[];
  /** The Lambda name the Lambda API reports it as. */
  reportedLambdaRuntime: string;
  defaultHandler: string;
  handlerConvention: string;
}

export interface RuntimeListing {
  /** Live workers whose reports were read; 0 means nothing is known of this installation's images yet. */
  workers: number;
  runtimes: RuntimeView[];
}

/** The component whose version names a runtime's version (`runtimeResolved.version`). */
const PRIMARY_COMPONENT: Readonly<Record<RuntimeName, string>> = { nodejs20: 'node', python3: 'python', java17: 'java', provided: 'lambda' };

/** Every catalogue runtime, in catalogue order, with what `reports` (live workers) say of it. */
export function listRuntimes(reports: readonly WorkerReport[]): RuntimeListing {
  return { workers: reports.length, runtimes: RUNTIME_NAMES.map((name) => runtimeView(name, reports)) };
}

function runtimeView(name: RuntimeName, reports: readonly WorkerReport[]): RuntimeView {
  const info = RUNTIMES[name];
  const serving = reports.filter((r) => r.runtimes.includes(name));
  const images = distinctImages(serving.flatMap((r) => r.runtimeImages?.filter((i) => i.runtime === name).slice(0, 1) ?? []));
  const main = images[0];
  return {
    name,
    available: serving.length > 0,
    workers: serving.length,
    ...(serving.length > 0 ? {} : { unavailableReason: reports.length === 0 ? 'no worker has reported yet' : `none of the ${reports.length} live worker(s) serves it (its image is missing there, or HEARTH_RUNTIMES leaves it out)` }),
    image: info.image,
    versions: main?.versions ?? {},
    imageSizeBytes: main?.sizeBytes ?? null,
    images,
    lambdaRuntimes: info.lambdaRuntimes,
    reportedLambdaRuntime: info.reportedLambdaRuntime,
    defaultHandler: info.defaultHandler,
    handlerConvention: info.handlerConvention,
  };
}

/** Images by id, most workers first; of one id, the versions of the worker that knows most (another may not have probed yet). */
function distinctImages(reported: readonly RuntimeImageReport[]): RuntimeImageView[] {
  const byId = new Map<string, RuntimeImageView>();
  for (const image of reported) {
    const seen = byId.get(image.imageId);
    if (!seen) {
      byId.set(image.imageId, { imageId: image.imageId, sizeBytes: image.sizeBytes, createdAt: image.createdAt, versions: { ...image.versions }, workers: 1 });
      continue;
    }
    seen.workers++;
    if (Object.keys(image.versions).length > Object.keys(seen.versions).length) seen.versions = { ...image.versions };
  }
  return [...byId.values()].sort((a, b) => b.workers - a.workers || a.imageId.localeCompare(b.imageId));
}

/** The runtime's version as one word (`20.19.2`), when live workers know it. */
export function primaryVersion(view: RuntimeView): string | undefined {
  return view.versions[PRIMARY_COMPONENT[view.name]];
}
