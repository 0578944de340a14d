/**
 * What the gateway's routes need of destinations (`GatewayDeps.destinations`):
 * the configuration store, the deliveries and chains as shown, the sealer
 * of secrets, the outbound guard with this deployment's policy, and the
 * namespaces' callback secrets. Built once in `create-gateway.ts` (or by a
 * test over fakes); the delivery consumer gets the same pieces.
 */
import type { CredentialSealer } from '../lambda/credential-seal.ts';
import type { DeliveryStore, DestinationConfigStore } from './destinations-store.ts';
import type { OutboundVerdict } from './outbound-guard.ts';

export interface Destinations {
  config: DestinationConfigStore;
  deliveries: Pick<DeliveryStore, 'forInvocation' | 'chainFrom'>;
  sealer: CredentialSealer;
  /** The outbound guard (`outbound-guard.ts`) under this deployment's allow and refuse lists, with real DNS. */
  checkOutbound(url: URL): Promise<OutboundVerdict>;
  /** The secret that signs `namespace`'s callbacks (and its webhooks without a secret of their own). */
  callbackSecret(namespace: string): string;
}
