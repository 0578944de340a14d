/**
 * Invoke: `POST /2015-03-31/functions/{name}/invocations`, with
 * `X-Amz-Invocation-Type` `RequestResponse` (default: wait, answer the
 * payload), `Event` (queue it: 202) or `DryRun` (only check the function is
 * there: 204), `X-Amz-Log-Type: Tail` for the log tail, and `Qualifier`
 * (`$LATEST`, a version, or an alias: the version is drawn from its split
 * and answered as `X-Amz-Executed-Version`).
 * Calls go through Hearth's dispatcher, so they are queued, run and recorded
 * like any other (`GET /v1/invocations/{x-amzn-RequestId}` finds them).
 */
import { Hono } from 'hono';
import type { GatewayDeps } from '../gateway-deps.ts';
import { jsonText } from '../read-json-body.ts';
import { functionNotFound, parseFunctionIdentifier, versionOf } from './function-identifier.ts';
import { lambdaQuery, type LambdaEnv } from './lambda-auth.ts';
import { LambdaError } from './lambda-errors.ts';
import { lambdaInvokeResponse } from './invoke-response.ts';
import { isUserAlias } from './qualifier.ts';

type InvocationType = 'RequestResponse' | 'Event' | 'DryRun';

export function invokeFunctionRoute(deps: GatewayDeps) {
  return new Hono<LambdaEnv>().post('/2015-03-31/functions/:name/invocations', async (c) => {
    const region = c.get('region');
    const { name, qualifier } = parseFunctionIdentifier(c.req.param('name'), lambdaQuery(c, 'Qualifier'));
    const type = invocationType(c.req.header('x-amz-invocation-type'));
    const tail = logType(c.req.header('x-amz-log-type'));
    const version = versionOf(qualifier);
    // A qualifier that is not a version names an alias.
    const alias = version === null ? qualifier : undefined;
    // `latest` is `$LATEST` here (`qualifier.ts`), and a name Hearth does not take names nothing.
    if (alias !== undefined && !isUserAlias(alias)) throw functionNotFound(region, name, qualifier);
    const target = {
      namespace: c.get('namespace'),
      name,
      ...(typeof version === 'number' ? { version } : {}),
      ...(alias !== undefined ? { alias } : {}),
    };

    // The version is chosen once, here, and that choice is what runs.
    const chosen = await deps.dispatcher.resolve(target);
    if (!chosen) throw functionNotFound(region, name, qualifier);
    if (type === 'DryRun') return c.body(null, 204);

    const event = jsonText(c.get('body'), c.req.header('content-type'));
    if (type === 'Event') {
      const { invocationId } = await deps.dispatcher.dispatchAsync(target, event, undefined, chosen);
      c.set('requestId', invocationId);
      return c.body(null, 202, { 'x-amzn-RequestId': invocationId });
    }
    const outcome = await deps.dispatcher.dispatchSync(target, event, 'sync', chosen);
    c.set('requestId', outcome.invocationId);
    // Lambda names the version an alias ran; an unqualified call ran `$LATEST`.
    const executedVersion = qualifier === undefined || qualifier === '$LATEST' ? '$LATEST' : String(chosen.fn.version);
    return lambdaInvokeResponse(outcome, { executedVersion, tail });
  });
}

function invocationType(raw: string | undefined): InvocationType {
  if (raw === undefined || raw === '' || raw === 'RequestResponse') return 'RequestResponse';
  if (raw === 'Event' || raw === 'DryRun') return raw;
  throw new LambdaError(
    'InvalidParameterValueException',
    `1 validation error detected: Value '${raw.slice(0, 32)}' at 'invocationType' failed to satisfy constraint: Member must satisfy enum value set: [Event, RequestResponse, DryRun]`,
  );
}

function logType(raw: string | undefined): boolean {
  if (raw === undefined || raw === '' || raw === 'None') return false;
  if (raw === 'Tail') return true;
  throw new LambdaError(
    'InvalidParameterValueException',
    `1 validation error detected: Value '${raw.slice(0, 32)}' at 'logType' failed to satisfy constraint: Member must satisfy enum value set: [None, Tail]`,
  );
}
