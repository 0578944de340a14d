/**
 * ioredis's Sentinel connector with one race closed. With `failoverDetector`
 * on, each connection subscribes to the Sentinels' `+switch-master` and,
 * when it comes, disconnects so that the client reconnects to the promoted
 * master. But the subscription outlives the connection it was made for: a
 * master killed outright closes the connection, the client goes on
 * reconnecting (asking the Sentinels, who still name the dead master), and
 * the switch, announced in the middle of such an attempt, makes the
 * connector abandon it with "Connection is closed." — which ioredis takes
 * for a final error: the client ends and never reconnects (read in
 * ioredis's code after one run of test/integration/redis-sentinel-failover.test.ts
 * in which no client came back after the switch; not reproduced at will).
 * Here every attempt starts by dropping the previous
 * connection's subscription; the attempt itself asks the Sentinels, and the
 * connection it makes subscribes anew.
 */
import { SentinelConnector } from 'ioredis';

export class FailoverSafeSentinelConnector extends SentinelConnector {
  /** ioredis hands a `Connector` the client's whole options (`sentinels`, `name`, … among them). */
  constructor(options: unknown) {
    super(options as ConstructorParameters<typeof SentinelConnector>[0]);
  }

  override connect(...args: Parameters<SentinelConnector['connect']>): ReturnType<SentinelConnector['connect']> {
    // `failoverDetector` is private in ioredis's types; it is the previous connection's subscription.
    const self = this as unknown as { failoverDetector: { cleanup(): void } | null };
    self.failoverDetector?.cleanup();
    self.failoverDetector = null;
    return super.connect(...args);
  }
}
