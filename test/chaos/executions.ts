/**
 * Counts how many times each invocation actually ran, through a side channel
 * the platform does not control: the chaos function writes one line
 * (`MARKER <invocationId> <seq>`) straight to its container's real stderr
 * (fd 2, past the agent's log capture), and we follow `docker logs` of every
 * container the run's workers start. A run that died with its worker (no
 * record, its container removed later) is still seen, so "ran more than
 * once" — allowed under at-least-once — can be told apart from "recorded
 * more than once", which is not.
 */
import { PassThrough } from 'node:stream';
import type Dockerode from 'dockerode';
import { SANDBOX_LABELS } from '../../worker/engine/container-runtime.ts';

export const EXECUTION_MARKER = 'chaos-exec';

export interface ExecutionCounter {
  /** Executions seen per invocation id. */
  readonly counts: ReadonlyMap<string, number>;
  /** Containers followed. */
  readonly containers: number;
  stop(): void;
}

/** Follows the logs of every container started by a worker whose id is in `workerIds`. */
export async function countExecutions(docker: Dockerode, workerIds: readonly string[]): Promise<ExecutionCounter> {
  const counts = new Map<string, number>();
  const followed = new Set<string>();
  const streams: NodeJS.ReadableStream[] = [];
  let stopped = false;

  const follow = async (containerId: string) => {
    if (followed.has(containerId) || stopped) return;
    followed.add(containerId);
    const raw = (await docker.getContainer(containerId).logs({ follow: true, stdout: true, stderr: true })) as NodeJS.ReadableStream;
    streams.push(raw);
    const text = new PassThrough();
    docker.modem.demuxStream(raw, text, text);
    raw.on('end', () => text.end());
    raw.on('error', () => text.end());
    let rest = '';
    text.on('data', (chunk: Buffer) => {
      const lines = (rest + chunk.toString('utf8')).split('\n');
      rest = lines.pop() ?? '';
      for (const line of lines) {
        const match = new RegExp(`${EXECUTION_MARKER} (\\S+) (\\d+)`).exec(line);
        if (match) counts.set(match[1]!, (counts.get(match[1]!) ?? 0) + 1);
      }
    });
  };

  const events = (await docker.getEvents({
    filters: { type: ['container'], event: ['start'], label: [`${SANDBOX_LABELS.managed}=true`] },
  })) as NodeJS.ReadableStream & { destroy?: () => void };
  let pending = '';
  events.on('data', (chunk: Buffer) => {
    const lines = (pending + chunk.toString('utf8')).split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) {
      if (!line.trim()) continue;
      const event = JSON.parse(line) as { id?: string; Actor?: { Attributes?: Record<string, string> } };
      const worker = event.Actor?.Attributes?.[SANDBOX_LABELS.worker] ?? '';
      if (event.id && workerIds.includes(worker)) follow(event.id).catch(() => {});
    }
  });
  events.on('error', () => {});

  return {
    counts,
    get containers() {
      return followed.size;
    },
    stop() {
      stopped = true;
      events.destroy?.();
      for (const stream of streams) (stream as NodeJS.ReadableStream & { destroy?: () => void }).destroy?.();
    },
  };
}
