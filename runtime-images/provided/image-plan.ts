/**
 * The provided image (Lambda's `provided.al2023`): a minimal root with the
 * C library, CA certificates and a shell, plus Hearth's agent serving the
 * Lambda Runtime API on the container's own loopback. Not built yet.
 */
import type { PlanResult } from '../image-rootfs.ts';

export async function providedPlan(_log: (line: string) => void): Promise<PlanResult> {
  return { unavailable: 'the provided runtime is not built yet' };
}
