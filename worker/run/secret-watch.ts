/**
 * How a worker hears that a secret changed: at once from the gateway's
 * `secret-changed` broadcast, and, since a broadcast can be missed (Redis
 * pub/sub keeps nothing), from a poll of the secrets written lately
 * (`intervalMs`, default 5 s). Either way the sandboxes holding another
 * version stop being reused (`sandbox/sandbox-secrets.ts`).
 */
import type { Logger } from '../common/logger.ts';
import type { SealedSecretSource, SecretVersions } from '../sandbox/sandbox-secrets.ts';

/** Re-read a little of the past each poll: a write committed late can carry an earlier time. */
const OVERLAP_MS = 10_000;

export interface SecretWatch {
  stop(): Promise<void>;
}

export function startSecretWatch(options: {
  source: SealedSecretSource;
  versions: SecretVersions;
  intervalMs?: number;
  log: Logger;
  /** Called after a poll that saw changes (they may be ones already heard of). */
  onChange?: () => void;
}): SecretWatch {
  let since: Date | null = null;
  let polling: Promise<void> | null = null;
  const poll = () => {
    polling ??= options.source
      .changedSince(since === null ? null : new Date(since.getTime() - OVERLAP_MS))
      .then(({ changes, now }) => {
        for (const change of changes) options.versions.note(change.namespace, change.name, change.version);
        since = now;
        if (changes.length > 0) options.onChange?.();
      })
      .catch((err: unknown) => options.log.warn('could not poll for changed secrets', { err }))
      .finally(() => {
        polling = null;
      });
    return polling;
  };
  void poll();
  const timer = setInterval(() => void poll(), options.intervalMs ?? 5000);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await polling;
    },
  };
}
