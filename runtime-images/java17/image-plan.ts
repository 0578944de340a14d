/**
 * The java17 image: Debian's openjdk-17-jre-headless and Hearth's Java agent.
 * Not built yet.
 */
import type { PlanResult } from '../image-rootfs.ts';

export async function java17Plan(_log: (line: string) => void): Promise<PlanResult> {
  return { unavailable: 'the java17 runtime is not built yet' };
}
