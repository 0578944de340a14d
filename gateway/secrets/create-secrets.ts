/**
 * The gateway's secrets, assembled from the process's sealer: the service
 * the routes and deploys use, the sealer registered for every version's
 * environment (`worker/common/stored-env.ts`), and, once at start, in the
 * background, the sealing of environments stored before sealing existed.
 */
import type { Database } from '../../worker/common/database.ts';
import type { Logger } from '../../worker/common/logger.ts';
import type { Sealer } from '../../worker/common/secret-sealing.ts';
import { useEnvSealer } from '../../worker/common/stored-env.ts';
import type { ControlMessage } from '../../worker/contract/messages.ts';
import { sealPlainEnvironments } from './reseal-store.ts';
import { createSecretService, type SecretService } from './secret-service.ts';
import { createPostgresSecretStore } from './secrets-store.ts';

export interface GatewaySecrets {
  service: SecretService;
  /** Waits for the start-up sealing to end (it is not cut short: each batch is one short transaction). */
  close(): Promise<void>;
}

export function createGatewaySecrets(options: { db: Database; sealer: Sealer; announce(message: ControlMessage): Promise<void>; log: Logger }): GatewaySecrets {
  useEnvSealer(options.sealer);
  const sealing = sealPlainEnvironments(options.db, options.sealer).then(
    (count) => {
      if (count > 0) options.log.info('sealed environments stored in plain text', { versions: count });
    },
    (err: unknown) => options.log.warn('could not seal the environments stored in plain text (the next start tries again)', { err }),
  );
  return {
    service: createSecretService({ store: createPostgresSecretStore(options.db), sealer: options.sealer, announce: options.announce }),
    close: () => sealing,
  };
}
