/**
 * GetAccountSettings: the caller's namespace as Lambda's account — its
 * storage quotas and usage, and the calls it may run at once (its
 * concurrency quota, or without one what the live workers can run
 * together). Hearth reserves nothing, so all of it is unreserved.
 */
import { Hono, type Context } from 'hono';
import { CODE_LIMITS } from '../../worker/contract/limits.ts';
import type { GatewayDeps } from '../gateway-deps.ts';
import type { LambdaEnv } from './lambda-auth.ts';

export function accountSettingsRoute(deps: GatewayDeps) {
  const settings = async (c: Context<LambdaEnv>) => {
    const [usage, workers] = await Promise.all([deps.functionExtras.usage(c.get('namespace')), deps.metrics.workers()]);
    const concurrent = usage.concurrencyQuota ?? workers.reduce((sum, w) => sum + w.concurrency, 0);
    return c.json({
      AccountLimit: {
        TotalCodeSize: usage.maxCodeBytes,
        CodeSizeUnzipped: CODE_LIMITS.maxUnpackedBytes,
        CodeSizeZipped: usage.maxUploadBytes,
        ConcurrentExecutions: concurrent,
        UnreservedConcurrentExecutions: concurrent,
      },
      AccountUsage: { TotalCodeSize: usage.codeBytes, FunctionCount: usage.functionCount },
    });
  };
  return new Hono<LambdaEnv>().get('/2016-08-19/account-settings', settings).get('/2016-08-19/account-settings/', settings);
}
