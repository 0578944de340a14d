/**
 * `ContainerRuntime.imageInfo` over the Docker Engine API: one image inspect,
 * and, when asked, one probe container of the image. The probe is how a
 * worker learns the versions an image carries when its labels do not say
 * them (`worker/run/runtime-inventory.ts` picks the command): the image's
 * own binary answers, not the host's.
 */
import { randomBytes } from 'node:crypto';
import type Docker from 'dockerode';
import { SANDBOX_UID } from '../../runtime-images/runtimes.ts';
import { PROBE_OUTPUT_BYTES, PROBE_TIMEOUT_MS, type ImageInfo } from './container-runtime.ts';

const MIB = 1024 * 1024;
/** Enough for a JVM to say its version; far less than any sandbox may hold. */
const PROBE_MEMORY_MB = 256;
/** Label of probe containers, so they are never taken for sandboxes (they carry no `io.hearth.managed`). */
export const PROBE_LABEL = 'io.hearth.probe';

function statusOf(err: unknown): number | undefined {
  const status = (err as { statusCode?: unknown } | null)?.statusCode;
  return typeof status === 'number' ? status : undefined;
}

export async function dockerImageInfo(docker: Docker, tag: string, probe?: readonly string[]): Promise<ImageInfo | null> {
  let inspected: Docker.ImageInspectInfo;
  try {
    inspected = await docker.getImage(tag).inspect();
  } catch (err) {
    if (statusOf(err) === 404) return null;
    throw err;
  }
  const env: Record<string, string> = {};
  for (const pair of inspected.Config?.Env ?? []) {
    const eq = pair.indexOf('=');
    if (eq > 0) env[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  const entrypoint = inspected.Config?.Entrypoint;
  const info: ImageInfo = {
    id: inspected.Id,
    sizeBytes: inspected.Size,
    createdAt: inspected.Created,
    labels: { ...(inspected.Config?.Labels ?? {}) },
    env,
    entrypoint: Array.isArray(entrypoint) ? [...entrypoint] : typeof entrypoint === 'string' ? [entrypoint] : [],
  };
  if (!probe || probe.length === 0) return info;
  // By id, not tag: the output belongs to exactly the image inspected.
  const output = await runProbe(docker, inspected.Id, probe).catch(() => undefined);
  return output === undefined ? info : { ...info, probeOutput: output };
}

/**
 * Runs `command` in a container of `image` with the sandbox's restrictions
 * (no network, read-only root, no capabilities, the sandbox user) and a TTY,
 * so stdout and stderr arrive as one plain stream (a JVM prints its version
 * on stderr). The container removes itself when it ends, so a worker that
 * dies mid-probe leaves nothing behind; one still running at the deadline is
 * killed. Resolves with at most `PROBE_OUTPUT_BYTES` of output.
 */
async function runProbe(docker: Docker, image: string, command: readonly string[]): Promise<string> {
  const container = await docker.createContainer({
    name: `hearth-probe-${randomBytes(6).toString('hex')}`,
    Image: image,
    Entrypoint: [...command],
    Cmd: [],
    User: `${SANDBOX_UID}:${SANDBOX_UID}`,
    Tty: true,
    NetworkDisabled: true,
    Labels: { [PROBE_LABEL]: 'true' },
    HostConfig: {
      AutoRemove: true,
      NetworkMode: 'none',
      Memory: PROBE_MEMORY_MB * MIB,
      MemorySwap: PROBE_MEMORY_MB * MIB,
      NanoCpus: 1e9,
      PidsLimit: 128,
      ReadonlyRootfs: true,
      Tmpfs: { '/tmp': 'rw,nosuid,nodev,size=16m,mode=1777' },
      CapDrop: ['ALL'],
      SecurityOpt: ['no-new-privileges'],
      LogConfig: { Type: 'none', Config: {} },
    },
  });
  const removeQuietly = () => container.remove({ force: true }).catch(() => undefined);
  let stream: NodeJS.ReadWriteStream;
  try {
    stream = await container.attach({ stream: true, stdout: true, stderr: true });
  } catch (err) {
    await removeQuietly();
    throw err;
  }
  const chunks: Buffer[] = [];
  let kept = 0;
  const ended = new Promise<void>((resolve) => {
    stream.on('data', (chunk: Buffer) => {
      if (kept >= PROBE_OUTPUT_BYTES) return;
      const part = chunk.subarray(0, PROBE_OUTPUT_BYTES - kept);
      chunks.push(part);
      kept += part.length;
    });
    stream.once('end', resolve);
    stream.once('close', resolve);
    stream.once('error', () => resolve());
  });
  try {
    await container.start();
  } catch (err) {
    // A command the image does not have fails here; the container was created, so it goes.
    (stream as unknown as { destroy?: () => void }).destroy?.();
    await removeQuietly();
    throw err;
  }
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'late'>((resolve) => {
    timer = setTimeout(() => resolve('late'), PROBE_TIMEOUT_MS);
  });
  try {
    if ((await Promise.race([ended, deadline])) === 'late') {
      (stream as unknown as { destroy?: () => void }).destroy?.();
      await removeQuietly();
      throw new Error(`probe of ${image} ran past ${PROBE_TIMEOUT_MS} ms`);
    }
  } finally {
    clearTimeout(timer);
  }
  return Buffer.concat(chunks).toString('utf8');
}
