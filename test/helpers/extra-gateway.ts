/**
 * One more gateway beside a platform's own: the same database, Redis and
 * queue prefix (so it sends calls to the platform's worker and consumes the
 * same rollout checks), its API origin on a port of its own. Tests that
 * stop one gateway and go on with another start them here.
 */
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { serve } from '@hono/node-server';
import { createGateway } from '../../gateway/create-gateway.ts';
import { silentLogger } from '../../worker/common/logger.ts';
import { servicesOf } from '../../gateway/destinations/outbound-guard.ts';
import type { ApiResponse, Platform } from './platform.ts';

export interface ExtraGateway {
  url: string;
  /** Calls this gateway's API with the platform's key. */
  api(path: string, init?: RequestInit): Promise<ApiResponse>;
  /** Stops listening and closes the gateway (its rollout checks and Redis clients). */
  stop(): Promise<void>;
}

export async function startExtraGateway(
  platform: Platform,
  options: { rolloutSweepMs?: number; outboundAllowHosts?: string[]; triggerLeaseMs?: number } = {},
): Promise<ExtraGateway> {
  const gateway = await createGateway({
    db: platform.database.db,
    redisUrl: platform.redisUrl,
    queuePrefix: platform.prefix,
    apiKey: platform.apiKey,
    syncGraceMs: 30_000,
    throttleWaitMs: 2000,
    secretsSealer: platform.secretsKey.sealer,
    ...(options.rolloutSweepMs ? { rolloutSweepMs: options.rolloutSweepMs } : {}),
    ownServices: servicesOf([platform.redisUrl, platform.databaseUrl]),
    ...(options.outboundAllowHosts ? { outboundAllowHosts: options.outboundAllowHosts } : {}),
    ...(options.triggerLeaseMs ? { triggerLeaseMs: options.triggerLeaseMs } : {}),
    log: silentLogger,
  });
  const server = serve({ fetch: gateway.app.fetch, port: 0, hostname: '127.0.0.1' }) as Server;
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  let stopped = false;
  return {
    url,
    api(path, init = {}) {
      const headers = new Headers(init.headers);
      if (!headers.has('authorization')) headers.set('authorization', `Bearer ${platform.apiKey}`);
      return fetch(`${url}${path}`, { ...init, headers }) as Promise<ApiResponse>;
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await gateway.close();
    },
  };
}
