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
 * worker's maximum age).
 *
 * `DestinationConfig` maps onto the function's destinations
 * (`destinations/`, the same column `/v1/functions/{name}/destinations`
 * writes): a Lambda function ARN (`arn:aws:lambda:<region>:<account>:function:<name>[:<alias>]`,
 * account and region not checked) is a function destination of the same
 * namespace. Other ARNs (SQS, SNS, EventBridge, S3) are refused: Hearth's
 * webhooks and brokers are set through `/v1`, and read back here as `{}`.
 * As in Lambda, Put replaces both destinations (one left out is removed),
 * Update changes those it names (`{}` removes one), Delete removes both.
 */
import { Hono, type Context } from 'hono';
import { z } from 'zod';
import { createDestinationService, type ShownDestinations } from '../destinations/destination-service.ts';
import type { Destination, DestinationCondition } from '../destinations/destination-config.ts';
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

/** A full Lambda function ARN: its name and, when it names one, its qualifier. */
const FUNCTION_ARN = /^arn:aws[a-zA-Z-]*:lambda:[a-z0-9-]+:\d{12}:function:([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(?::(\$LATEST|[a-z][a-z0-9-]{0,62}))?$/;

/** The function destination a Lambda destination ARN names. */
function destinationOfArn(arn: string, field: string): Destination {
  const match = FUNCTION_ARN.exec(arn);
  if (!match) {
    throw new LambdaError(
      'InvalidParameterValueException',
      `${field}: Hearth maps only Lambda function ARNs (arn:aws:lambda:<region>:<account>:function:<name>[:<alias>]) to destinations; set webhooks and brokers through /v1/functions/{name}/destinations.`,
    );
  }
  const [, name, qualifier] = match;
  return { type: 'function', name: name!, ...(qualifier && qualifier !== '$LATEST' ? { alias: qualifier } : {}) };
}

/**
 * The destination changes `input` asks for: under Put (`replace`) both
 * conditions, one it leaves out removed; under Update only those it names.
 */
function destinationChanges(input: EventInvokeInput, replace: boolean): Partial<Record<DestinationCondition, Destination | null>> {
  const config = input.DestinationConfig;
  const changes: Partial<Record<DestinationCondition, Destination | null>> = replace ? { onSuccess: null, onFailure: null } : {};
  for (const [field, condition] of [['OnSuccess', 'onSuccess'], ['OnFailure', 'onFailure']] as const) {
    const named = config?.[field];
    if (named === undefined) continue;
    changes[condition] = named.Destination ? destinationOfArn(named.Destination, `DestinationConfig.${field}`) : null;
  }
  return changes;
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
  const destinations = deps.destinations ? createDestinationService({ destinations: deps.destinations, dispatcher: deps.dispatcher, announce: deps.announce }) : null;
  /** A destination as Lambda reads it back: a function's ARN, or `{}` (none, or a webhook or broker set through /v1). */
  const arnOf = (c: Context<LambdaEnv>, shown: Record<string, unknown> | null) =>
    shown?.type === 'function' ? { Destination: functionArn(c.get('region'), String(shown.name), typeof shown.alias === 'string' ? shown.alias : undefined) } : {};
  const answer = (c: Context<LambdaEnv>, name: string, config: StoredEventInvokeConfig, shown: ShownDestinations | null) => ({
    ...config,
    FunctionArn: functionArn(c.get('region'), name, '$LATEST'),
    DestinationConfig: { OnSuccess: arnOf(c, shown?.onSuccess ?? null), OnFailure: arnOf(c, shown?.onFailure ?? null) },
  });
  const shownOf = (c: Context<LambdaEnv>, name: string) => (destinations ? destinations.get(c.get('namespace'), name) : Promise.resolve(null));
  /**
   * Writes `changes` to the function's destinations before the rest of the
   * config, so a destination refused leaves everything as it was; without
   * destinations on this gateway, only a request that names none passes.
   */
  const writeDestinations = async (c: Context<LambdaEnv>, name: string, changes: Partial<Record<DestinationCondition, Destination | null>>) => {
    if (!destinations) {
      if (Object.values(changes).some((d) => d)) throw new LambdaError('InvalidParameterValueException', 'Destinations are not enabled on this gateway; leave DestinationConfig empty.');
      return null;
    }
    if (!(await deps.functionExtras.get(c.get('namespace'), name))) throw functionNotFound(c.get('region'), name);
    return Object.keys(changes).length > 0 ? destinations.patch(c.get('namespace'), name, changes) : destinations.get(c.get('namespace'), name);
  };

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
      const changes = destinationChanges(input, true);
      const name = functionName(c);
      const shown = await writeDestinations(c, name, changes);
      const written = await write(c, name, () => ({ ...settingsOf(input), LastModified: now() }));
      return c.json(answer(c, name, written!, shown));
    })
    .post('/2019-09-25/functions/:name/event-invoke-config', async (c) => {
      const input = await parseLambdaBody(eventInvokeConfig, c.get('body'));
      const changes = destinationChanges(input, false);
      const name = functionName(c);
      const extras = await deps.functionExtras.get(c.get('namespace'), name);
      if (!extras) throw functionNotFound(c.get('region'), name);
      if (!extras.eventInvokeConfig) throw missing(c, name);
      const shown = await writeDestinations(c, name, changes);
      const written = await write(c, name, (current) => {
        if (!current) throw missing(c, name);
        return { ...current, ...settingsOf(input), LastModified: now() };
      });
      return c.json(answer(c, name, written!, shown));
    })
    .get('/2019-09-25/functions/:name/event-invoke-config', async (c) => {
      const name = functionName(c);
      const extras = await deps.functionExtras.get(c.get('namespace'), name);
      if (!extras) throw functionNotFound(c.get('region'), name);
      if (!extras.eventInvokeConfig) throw missing(c, name);
      return c.json(answer(c, name, extras.eventInvokeConfig, await shownOf(c, name)));
    })
    .delete('/2019-09-25/functions/:name/event-invoke-config', async (c) => {
      const name = functionName(c);
      await write(c, name, (current) => {
        if (!current) throw missing(c, name);
        return null;
      });
      await destinations?.remove(c.get('namespace'), name);
      return c.body(null, 204);
    })
    .get('/2019-09-25/functions/:name/event-invoke-config/list', async (c) => {
      const name = functionName(c);
      const extras = await deps.functionExtras.get(c.get('namespace'), name);
      if (!extras) throw functionNotFound(c.get('region'), name);
      return c.json({ FunctionEventInvokeConfigs: extras.eventInvokeConfig ? [answer(c, name, extras.eventInvokeConfig, await shownOf(c, name))] : [] });
    });
}
