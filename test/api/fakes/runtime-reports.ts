/**
 * Worker reports as a worker with runtime images writes them
 * (`worker/run/runtime-inventory.ts`): which runtimes it serves and what
 * their images carry. For the runtime-list and deploy-refusal API tests.
 */
import { RUNTIMES, type RuntimeName } from '../../../runtime-images/runtimes.ts';
import type { RuntimeImageReport, WorkerReport } from '../../../worker/contract/worker-report.ts';
import { workerReport } from './invocation-queue.ts';

/** Versions and sizes a fake image of each runtime carries. */
export const FAKE_IMAGES: Readonly<Record<RuntimeName, Omit<RuntimeImageReport, 'runtime' | 'image'>>> = {
  nodejs20: { imageId: 'sha256:node', sizeBytes: 104_572_270, createdAt: '2025-01-01T00:00:00.000Z', versions: { node: '20.19.2' } },
  python3: { imageId: 'sha256:python', sizeBytes: 47_966_890, createdAt: '2025-01-01T00:00:00.000Z', versions: { python: '3.11.2' } },
  provided: { imageId: 'sha256:provided', sizeBytes: 9_000_000, createdAt: '2025-01-01T00:00:00.000Z', versions: { lambda: 'provided.al2023-compatible', glibc: '2.36' } },
  java17: { imageId: 'sha256:java', sizeBytes: 210_000_000, createdAt: '2025-01-01T00:00:00.000Z', versions: { java: '17.0.15' } },
};

/** A live worker serving `runtimes`, with their images (`overrides` replace an image's fields). */
export function workerServing(
  workerId: string,
  runtimes: readonly RuntimeName[],
  overrides: Partial<Record<RuntimeName, Partial<RuntimeImageReport>>> = {},
): WorkerReport {
  return {
    ...workerReport(workerId),
    runtimes: [...runtimes],
    runtimeImages: runtimes.map((runtime) => ({ runtime, image: RUNTIMES[runtime].image, ...FAKE_IMAGES[runtime], ...overrides[runtime] })),
  };
}
