/**
 * Event source mappings, until the events issue adds triggers: Hearth has
 * none, so ListEventSourceMappings answers an empty list (deploy tools read
 * it before every update) and a mapping named by its UUID is not found.
 * CreateEventSourceMapping stays unserved (UnknownOperationException).
 */
import { Hono, type Context } from 'hono';
import type { GatewayDeps } from '../gateway-deps.ts';
import { functionNotFound, parseFunctionIdentifier } from './function-identifier.ts';
import { lambdaQuery, type LambdaEnv } from './lambda-auth.ts';
import { LambdaError } from './lambda-errors.ts';
import { invalidMarker, markerKey, parseMaxItems } from './lambda-paging.ts';

const noMapping = () => new LambdaError('ResourceNotFoundException', 'The resource you requested does not exist.');

export function eventSourceMappingsRoute(deps: GatewayDeps) {
  const list = async (c: Context<LambdaEnv>) => {
    parseMaxItems(lambdaQuery(c, 'MaxItems'));
    // No page was ever given, so no marker continues one.
    if (markerKey(lambdaQuery(c, 'Marker')) !== undefined) throw invalidMarker();
    const named = lambdaQuery(c, 'FunctionName');
    if (named !== undefined && named !== '') {
      const { name } = parseFunctionIdentifier(named);
      if (!(await deps.functions.get(c.get('namespace'), name))) throw functionNotFound(c.get('region'), name);
    }
    return c.json({ EventSourceMappings: [] });
  };
  const none = () => {
    throw noMapping();
  };
  return new Hono<LambdaEnv>()
    .get('/2015-03-31/event-source-mappings', list)
    .get('/2015-03-31/event-source-mappings/', list)
    .get('/2015-03-31/event-source-mappings/:uuid', none)
    .put('/2015-03-31/event-source-mappings/:uuid', none)
    .delete('/2015-03-31/event-source-mappings/:uuid', none);
}
