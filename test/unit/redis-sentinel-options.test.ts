/** The connection options a client reached through Sentinel gets, and those a plain URL gets (test/integration/redis-sentinel-failover.test.ts runs them for real). */
import { describe, expect, it } from 'vitest';
import { redisOptionsFromUrl } from '../../worker/common/redis/connection-options.ts';
import { FailoverSafeSentinelConnector } from '../../worker/common/redis/sentinel-connector.ts';

describe('redis connection options', () => {
  it('reaches a master through its Sentinels, reconnecting on a switch and on READONLY', () => {
    const options = redisOptionsFromUrl('redis://:secret@ignored:6379/2', { sentinels: '10.0.0.1:26379, 10.0.0.2', name: 'hearth' });
    expect(options).toMatchObject({
      sentinels: [
        { host: '10.0.0.1', port: 26379 },
        { host: '10.0.0.2', port: 26379 },
      ],
      name: 'hearth',
      failoverDetector: true,
      Connector: FailoverSafeSentinelConnector,
      password: 'secret',
      db: 2,
    });
    const reconnect = options.reconnectOnError as (err: Error) => boolean | 1 | 2;
    // 2: reconnect (through the Sentinels) and resend the refused command.
    expect(reconnect(new Error("READONLY You can't write against a read only replica."))).toBe(2);
    expect(reconnect(new Error('ERR wrong number of arguments'))).toBe(false);
    // Retries stay frequent: each one asks the Sentinels where the master is now.
    const retry = options.retryStrategy as (times: number) => number;
    expect(retry(50)).toBeLessThanOrEqual(500);
  });

  it('leaves a plain URL without Sentinel behaviour', () => {
    const options = redisOptionsFromUrl('redis://127.0.0.1:6380');
    expect(options).toMatchObject({ host: '127.0.0.1', port: 6380 });
    expect(options).not.toHaveProperty('sentinels');
    expect(options).not.toHaveProperty('failoverDetector');
    expect(options).not.toHaveProperty('Connector');
    expect(options).not.toHaveProperty('reconnectOnError');
    expect((options.retryStrategy as (times: number) => number)(50)).toBe(2000);
  });
});
