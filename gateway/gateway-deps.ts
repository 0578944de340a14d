/** The ports the gateway's routes are built from; `main.ts` (or a test) supplies them. */
import type { ControlMessage } from '../worker/contract/messages.ts';
import type { InvocationQueue } from './queue/invocation-queue.ts';
import type { Logger } from '../worker/common/logger.ts';
import type { InvocationRow } from '../worker/common/invocations-store.ts';
import type { WorkerReport } from '../worker/contract/worker-report.ts';
import type { BucketRow } from './metrics/compute-metrics.ts';
import type { GatewayPrometheus } from './metrics/gateway-prometheus.ts';
import type { MetricsScope, RecordQuery, RecordRow } from './metrics/metrics-store.ts';
import type { VersionTotalsRow } from './metrics/version-breakdown.ts';
import type { AuthOptions, AuthVariables } from './auth.ts';
import type { Dispatcher } from './invoke/dispatcher.ts';
import type { Destinations } from './destinations/destinations-port.ts';
import type { Rollouts } from './rollouts/rollout-engine.ts';
import type { TriggerService } from './triggers/trigger-service.ts';
import type { FunctionStore } from './store/functions-store.ts';
import type { FunctionExtrasStore } from './store/function-extras-store.ts';
import type { TenantsStore } from './store/tenants-store.ts';
import type { UploadBudget } from './upload-budget.ts';
import type { SecretService } from './secrets/secret-service.ts';

/** Reads behind the metrics, logs and history routes. */
export interface MetricsReader {
  functionIdOf(namespace: string, name: string): Promise<string | null>;
  readBuckets(scope: MetricsScope, resolution: number, bucketSeconds: number, from: Date): Promise<BucketRow[]>;
  readFunctionTotals(namespace: string, resolution: number, from: Date): Promise<Array<BucketRow & { name: string }>>;
  /** One function's rollups from `from` on, summed per version (every version with calls, histograms included). */
  readVersionTotals(functionId: string, resolution: number, from: Date): Promise<VersionTotalsRow[]>;
  readRecords(query: RecordQuery): Promise<RecordRow[]>;
  /** Live workers' reports (pool state). */
  workers(): Promise<WorkerReport[]>;
}

export interface GatewayDeps {
  auth: AuthOptions;
  tenants: TenantsStore;
  functions: FunctionStore;
  /** Tags, policy, URL and async invoke configuration, a version's own minWarm, a namespace's usage (the Lambda API's). */
  functionExtras: FunctionExtrasStore;
  invocations: { find(namespace: string, id: string): Promise<InvocationRow | null> };
  queue: InvocationQueue;
  dispatcher: Dispatcher;
  /** Gradual rollouts of aliases (`rollouts/rollout-engine.ts`). */
  rollouts: Rollouts;
  /** Where async calls' outcomes go (`destinations/`); absent: destinations and callbacks are refused. */
  destinations?: Destinations;
  /** Schedules and queue or stream sources that invoke functions (`triggers/trigger-service.ts`). */
  triggers: TriggerService;
  metrics: MetricsReader;
  prometheus: GatewayPrometheus;
  /** Tells every gateway and worker that a function, key or namespace changed (best effort, never throws). */
  announce(message: ControlMessage): Promise<void>;
  /** Upload bytes in flight, per gateway and per namespace (`upload-budget.ts`). */
  uploads: UploadBudget;
  /** Namespace secrets (`secrets/secret-service.ts`); absent: the secrets API answers 500 and deploys naming secrets are refused. */
  secrets?: SecretService;
  log: Logger;
}

/** Hono environment shared by every route. */
export type GatewayEnv = { Variables: AuthVariables };
