/**
 * The gateway process: reads configuration, creates real clients, serves
 * HTTP on two listeners: the dashboard and API on PORT, function endpoints
 * on HEARTH_FN_PORT (a separate origin).
 */
import { serve } from '@hono/node-server';
import { openDatabase } from '../worker/common/database.ts';
import { setRedisLogger } from '../worker/common/redis/redis-client.ts';
import { createLogger } from '../worker/common/logger.ts';
import type { Server } from 'node:http';
import { answerClientErrors } from './client-errors.ts';
import { gatewayLimits, loadGatewayConfig } from './config.ts';
import { createGateway } from './create-gateway.ts';
import { servicesOf } from './destinations/outbound-guard.ts';
import { openSecretsKey } from '../worker/common/secret-keyring.ts';

const log = createLogger('gateway');
setRedisLogger(log);
const config = loadGatewayConfig(process.env);
const database = openDatabase(config.DATABASE_URL, { max: 20, log });
const secretsKey = openSecretsKey(config);
if (secretsKey.source.generated) log.warn('generated a secrets key: give every gateway and worker of this platform the same one', { file: secretsKey.source.file });
const gateway = await createGateway({
  db: database.db,
  redisUrl: config.REDIS_URL,
  redisSentinel: {
    ...(config.HEARTH_REDIS_SENTINELS ? { sentinels: config.HEARTH_REDIS_SENTINELS } : {}),
    ...(config.HEARTH_REDIS_SENTINEL_NAME ? { name: config.HEARTH_REDIS_SENTINEL_NAME } : {}),
  },
  queuePrefix: config.HEARTH_QUEUE_PREFIX,
  apiKey: config.HEARTH_API_KEY,
  ...(config.HEARTH_ADMIN_KEY ? { adminKey: config.HEARTH_ADMIN_KEY } : {}),
  syncGraceMs: config.HEARTH_SYNC_GRACE_MS,
  throttleWaitMs: config.HEARTH_THROTTLE_WAIT_MS,
  limits: gatewayLimits(config),
  functionOrigin: { port: config.HEARTH_FN_PORT, ...(config.HEARTH_PUBLIC_FN_URL ? { publicUrl: config.HEARTH_PUBLIC_FN_URL } : {}) },
  outboundAllowHosts: config.HEARTH_OUTBOUND_ALLOW_HOSTS,
  // The platform's own Redis (and its sentinels) and Postgres: never a trigger's broker or a webhook's target, allowed or not.
  secretsSealer: secretsKey.sealer,
  ownServices: servicesOf([config.REDIS_URL, config.DATABASE_URL, ...(config.HEARTH_REDIS_SENTINELS ?? '').split(',').filter(Boolean).map((s) => `redis://${s.trim()}`)]),
  log,
});

const listen = (fetch: typeof gateway.app.fetch, port: number) =>
  new Promise<Server>((resolve, reject) => {
    const server = serve({ fetch, port, hostname: config.HOST, serverOptions: { maxHeaderSize: 16 * 1024 } }) as Server;
    answerClientErrors(server);
    server.once('error', reject);
    server.once('listening', () => resolve(server));
  });
// Both or neither: a gateway that lost one of its ports exits (with the reason) rather than serve half.
const servers = await Promise.all([listen(gateway.app.fetch, config.PORT), listen(gateway.functionApp.fetch, config.HEARTH_FN_PORT)]);
log.info('gateway listening', { port: config.PORT, fnPort: config.HEARTH_FN_PORT });

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    for (const server of servers) server.close();
    void gateway
      .close()
      .then(() => database.close())
      .finally(() => process.exit(0));
  });
}
