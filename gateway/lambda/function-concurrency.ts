/**
 * Reserved concurrency onto `maxConcurrency`: PutFunctionConcurrency,
 * GetFunctionConcurrency and DeleteFunctionConcurrency. Hearth versions are
 * immutable, so a change is a new version with the latest one's code and
 * settings but this one (which becomes `$LATEST`, as any configuration
 * update does); aliases pinned to older versions keep those versions'
 * limit. Hearth cannot stop a function's calls with 0: its limit is at
 * least 1.
 */
import { Hono, type Context } from 'hono';
import { z } from 'zod';
import { MAX_CONCURRENCY } from '../deploy/function-settings.ts';
import { createFunctionService } from '../functions/function-service.ts';
import { settingsOf } from '../functions/next-version.ts';
import type { GatewayDeps } from '../gateway-deps.ts';
import type { VersionView } from '../store/functions-store.ts';
import { functionNotFound, parseFunctionIdentifier } from './function-identifier.ts';
import type { LambdaEnv } from './lambda-auth.ts';
import { LambdaError } from './lambda-errors.ts';
import { parseLambdaBody } from './lambda-requests.ts';

/** Lambda's `Concurrency` of a version: its `maxConcurrency`, or nothing when it has none. */
export function reservedConcurrency(version: VersionView): { ReservedConcurrentExecutions?: number } {
  return version.maxConcurrency === null ? {} : { ReservedConcurrentExecutions: version.maxConcurrency };
}

const putConcurrency = z.object({ ReservedConcurrentExecutions: z.number().int().min(0) });

export function functionConcurrencyRoute(deps: GatewayDeps) {
  const service = createFunctionService({ ...deps, via: 'lambda-api' });
  /** The unqualified function of the path, as it is now. */
  const latestOf = async (c: Context<LambdaEnv>) => {
    const { name, qualifier } = parseFunctionIdentifier(c.req.param('name') ?? '');
    if (qualifier !== undefined) throw new LambdaError('InvalidParameterValueException', 'Reserved concurrency is set on the unqualified function.');
    const fn = await deps.functions.get(c.get('namespace'), name);
    if (!fn) throw functionNotFound(c.get('region'), name);
    return { name, latest: fn.latest };
  };
  /** Makes the next version with `maxConcurrency` (nothing when it is already that). */
  const setMaxConcurrency = async (c: Context<LambdaEnv>, maxConcurrency: number | null) => {
    const { name, latest } = await latestOf(c);
    if (latest.maxConcurrency === maxConcurrency) return;
    await service.updateSettings({ namespace: c.get('namespace'), name, current: latest, settings: { ...settingsOf(latest), maxConcurrency } });
  };

  return new Hono<LambdaEnv>()
    .put('/2017-10-31/functions/:name/concurrency', async (c) => {
      const input = await parseLambdaBody(putConcurrency, c.get('body'));
      const n = input.ReservedConcurrentExecutions;
      if (n < MAX_CONCURRENCY.min || n > MAX_CONCURRENCY.max) {
        throw new LambdaError(
          'InvalidParameterValueException',
          `ReservedConcurrentExecutions must be from ${MAX_CONCURRENCY.min} to ${MAX_CONCURRENCY.max} on Hearth, got ${n}` +
            (n === 0 ? ' (Hearth cannot hold every call back; delete the function to stop it).' : '.'),
        );
      }
      await setMaxConcurrency(c, n);
      return c.json({ ReservedConcurrentExecutions: n });
    })
    .get('/2019-09-30/functions/:name/concurrency', async (c) => c.json(reservedConcurrency((await latestOf(c)).latest)))
    .delete('/2017-10-31/functions/:name/concurrency', async (c) => {
      await setMaxConcurrency(c, null);
      return c.body(null, 204);
    });
}
