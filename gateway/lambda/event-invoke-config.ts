/**
 * Async invoke configuration: Put (replace), Update (merge), Get and
 * DeleteFunctionEventInvokeConfig, and ListFunctionEventInvokeConfigs.
 * One per function (Qualifier none or `$LATEST`): `MaximumRetryAttempts`
 * (0–2) and `MaximumEventAgeInSeconds` (60–21600) are stored on the
 * function and every async call queued after the change carries them
 * (`asyncRetries`, `maxEventAgeMs` in its job): retries of a call the
 * platform fails (a function's own error is an outcome, never retried, as
 * for every Hearth async call) and the age past which a queued call is
 * recorded `expired` instead of run (never longer than the worker's own
 * maximum). A field left unset is the platform's default (two retries, the
 * worker's maximum age). Destinations wait for the events issue: naming
 * one is refused.
 */
import { Hono, type Context } from 'hono';
import { z } from 'zod';
import type { GatewayDeps } from '../gateway-deps.ts';
import type { StoredEventInvokeConfig } from '../store/function-extras-store.ts';
import { functionArn, functionNotFound, parseFunctionIdentifier } from './function-identifier.ts';
import { lambdaQuery, type LambdaEnv } from './lambda-auth.ts';
import { LambdaError } from './lambda-errors.ts';
import { parseLambdaBody } from './lambda-requests.ts';

const destination = z.object({ Destination: z.string().max(350).optional() }).optional();
const eventInvokeConfig = z.object({
  MaximumRetryAttempts: z.number().int().min(0).max(2).optional(),
  MaximumEventAgeInSeconds: z.number().int().min(60).max(21_600).optional(),
  DestinationConfig: z.object({ OnSuccess: destination, OnFailure: destination }).optional(),
});
type EventInvokeInput = z.infer<typeof eventInvokeConfig>;

function refuseDestinations(input: EventInvokeInput): void {
  const { OnSuccess, OnFailure } = input.DestinationConfig ?? {};
  if (OnSuccess?.Destination || OnFailure?.Destination) {
    throw new LambdaError('InvalidParameterValueException', 'Hearth has no async invocation destinations yet; leave DestinationConfig empty.');
  }
}

/** The stored fields `input` sets (those it leaves out are not in the answer). */
function settingsOf(input: EventInvokeInput): Omit<StoredEventInvokeConfig, 'LastModified'> {
  return {
    ...(input.MaximumRetryAttempts !== undefined ? { MaximumRetryAttempts: input.MaximumRetryAttempts } : {}),
    ...(input.MaximumEventAgeInSeconds !== undefined ? { MaximumEventAgeInSeconds: input.MaximumEventAgeInSeconds } : {}),
  };
}

export function eventInvokeConfigRoute(deps: GatewayDeps) {
  /** The function of the path (a Qualifier other than `$LATEST` is refused: the config is the function's). */
  const functionName = (c: Context<LambdaEnv>) => {
    const { name, qualifier } = parseFunctionIdentifier(c.req.param('name') ?? '', lambdaQuery(c, 'Qualifier'));
    if (qualifier !== undefined && qualifier !== '$LATEST') {
      throw new LambdaError('InvalidParameterValueException', 'Hearth keeps one async invoke configuration per function: leave Qualifier out (or $LATEST).');
    }
    return name;
  };
  const missing = (c: Context<LambdaEnv>, name: string) =>
    new LambdaError('ResourceNotFoundException', `The function ${functionArn(c.get('region'), name, '$LATEST')} doesn't have an EventInvokeConfig`);
  const answer = (c: Context<LambdaEnv>, name: string, config: StoredEventInvokeConfig) => ({
    ...config,
    FunctionArn: functionArn(c.get('region'), name, '$LATEST'),
    DestinationConfig: { OnSuccess: {}, OnFailure: {} },
  });

  /** Writes the config `change` makes of the current one (null: none), answering it. */
  const write = async (c: Context<LambdaEnv>, name: string, change: (current: StoredEventInvokeConfig | null) => StoredEventInvokeConfig | null) => {
    const updated = await deps.functionExtras.update(c.get('namespace'), name, (extras) => ({ eventInvokeConfig: change(extras.eventInvokeConfig) }));
    if (!updated) throw functionNotFound(c.get('region'), name);
    // Every gateway drops what it cached of the function: its next async call takes the new policy.
    await deps.announce({ type: 'function-changed', namespace: c.get('namespace'), name });
    return updated.eventInvokeConfig;
  };
  const now = () => Math.floor(Date.now() / 1000);

  return new Hono<LambdaEnv>()
    .put('/2019-09-25/functions/:name/event-invoke-config', async (c) => {
      const input = await parseLambdaBody(eventInvokeConfig, c.get('body'));
      refuseDestinations(input);
      const name = functionName(c);
      const written = await write(c, name, () => ({ ...settingsOf(input), LastModified: now() }));
      return c.json(answer(c, name, written!));
    })
    .post('/2019-09-25/functions/:name/event-invoke-config', async (c) => {
      const input = await parseLambdaBody(eventInvokeConfig, c.get('body'));
      refuseDestinations(input);
      const name = functionName(c);
      const written = await write(c, name, (current) => {
        if (!current) throw missing(c, name);
        return { ...current, ...settingsOf(input), LastModified: now() };
      });
      return c.json(answer(c, name, written!));
    })
    .get('/2019-09-25/functions/:name/event-invoke-config', async (c) => {
      const name = functionName(c);
      const extras = await deps.functionExtras.get(c.get('namespace'), name);
      if (!extras) throw functionNotFound(c.get('region'), name);
      if (!extras.eventInvokeConfig) throw missing(c, name);
      return c.json(answer(c, name, extras.eventInvokeConfig));
    })
    .delete('/2019-09-25/functions/:name/event-invoke-config', async (c) => {
      const name = functionName(c);
      await write(c, name, (current) => {
        if (!current) throw missing(c, name);
        return null;
      });
      return c.body(null, 204);
    })
    .get('/2019-09-25/functions/:name/event-invoke-config/list', async (c) => {
      const name = functionName(c);
      const extras = await deps.functionExtras.get(c.get('namespace'), name);
      if (!extras) throw functionNotFound(c.get('region'), name);
      return c.json({ FunctionEventInvokeConfigs: extras.eventInvokeConfig ? [answer(c, name, extras.eventInvokeConfig)] : [] });
    });
}
