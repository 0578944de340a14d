/**
 * Lambda's event source mappings over Hearth's queue and stream triggers:
 * Create, Get, List, Update and DeleteEventSourceMapping. A mapping IS a
 * trigger of its function (`gateway/triggers/`): its UUID is the trigger's
 * id, and one made here is named `esm-<8 hex>` (the name the REST API and
 * the CLI show it by). Every Redis Streams, RabbitMQ or NATS trigger is a
 * mapping, whichever door made it; schedules are not (they stay REST-only).
 * Changes go through the trigger service, so a mapping is checked against
 * the outbound rules and its broker before it is stored, and its broker
 * password is sealed and answered as `****`. The forms and fields are in
 * `esm-shapes.ts` and `esm-settings.ts`.
 *
 * ListEventSourceMappings stays what deploy tools read before every update
 * (node-lambda): filtered by FunctionName (a qualifier keeps the mappings
 * that target it) and EventSourceArn, paged by Marker and MaxItems.
 */
import { randomUUID } from 'node:crypto';
import { Hono, type Context } from 'hono';
import { HearthError } from '../errors.ts';
import type { GatewayDeps } from '../gateway-deps.ts';
import type { TriggerEntry } from '../triggers/trigger-service.ts';
import type { TriggerTarget } from '../triggers/trigger-settings.ts';
import { bodyOfView, createdBody, endpointUrl, secretOf, settingsDiffer, updatedBody } from './esm-settings.ts';
import {
  createMappingBody,
  isEsmType,
  mappingOf,
  refuseUnchangeable,
  refuseUnsupported,
  requireSourceArn,
  SOURCE_FIELD,
  sourceFilterOf,
  updateMappingBody,
  withoutSecrets,
  type EsmType,
  type MappingState,
  type SourceArn,
} from './esm-shapes.ts';
import { functionNotFound, parseFunctionIdentifier } from './function-identifier.ts';
import { lambdaQuery, type LambdaEnv } from './lambda-auth.ts';
import { LambdaError } from './lambda-errors.ts';
import { invalidMarker, markerKey, pageOf } from './lambda-paging.ts';
import { parseLambdaBody } from './lambda-requests.ts';
import { isUserAlias, qualifiedBy, resolveQualified } from './qualifier.ts';

/** ListEventSourceMappings answers at most 100 mappings a page, whatever MaxItems asks (as Lambda does). */
const MAX_PAGE = 100;
/** Functions whose triggers are read at once when a list spans the namespace. */
const FUNCTIONS_AT_ONCE = 50;
const ANY_CASE_UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
/** A marker's key: the function, NUL, the trigger (NUL sorts before every character of a name). */
const MARKER_KEY = /^([a-zA-Z0-9_-]{1,140})\u0000([a-z][a-z0-9-]{0,62})$/;

const noMapping = () => new LambdaError('ResourceNotFoundException', 'The resource you requested does not exist.');
const keyOf = (entry: TriggerEntry) => `${entry.functionName}\u0000${entry.view.name}`;
const byName = (a: TriggerEntry, b: TriggerEntry) => (a.view.name < b.view.name ? -1 : a.view.name > b.view.name ? 1 : 0);

function pageSize(raw: string | undefined): number {
  if (raw === undefined || raw === '') return MAX_PAGE;
  const n = Number(raw);
  if (!/^\d{1,5}$/.test(raw) || n < 1 || n > 10_000) {
    throw new LambdaError('InvalidParameterValueException', `MaxItems must be an integer from 1 to 10000 (a page holds at most ${MAX_PAGE} mappings), got "${raw.slice(0, 16).replace(/[^\x20-\x7e]/g, '?')}"`);
  }
  return Math.min(n, MAX_PAGE);
}

function markerPosition(raw: string | undefined): { functionName: string; trigger: string } | undefined {
  const key = markerKey(raw);
  if (key === undefined) return undefined;
  const match = MARKER_KEY.exec(key);
  if (!match) throw invalidMarker();
  return { functionName: match[1]!, trigger: match[2]! };
}

const sameTarget = (a: TriggerTarget, b: TriggerTarget) => JSON.stringify(a) === JSON.stringify(b);

export function eventSourceMappingsRoute(deps: GatewayDeps) {
  const where = (c: Context<LambdaEnv>) => ({ region: c.get('region'), namespace: c.get('namespace') });

  /** The trigger a qualifier targets, once the function (and the alias or version) is known to exist. */
  const targetOf = async (c: Context<LambdaEnv>, name: string, qualifier: string | undefined): Promise<TriggerTarget> => {
    const { qualified } = await resolveQualified(deps, where(c), name, qualifier);
    if (qualified.kind === 'version') return { version: qualified.version };
    if (qualified.kind === 'alias') return { alias: qualified.alias };
    return { alias: 'latest' };
  };

  /** The mapping `uuid` names in the caller's namespace, or ResourceNotFoundException. */
  const find = async (c: Context<LambdaEnv>): Promise<TriggerEntry> => {
    const uuid = c.req.param('uuid') ?? '';
    if (!ANY_CASE_UUID.test(uuid)) throw noMapping();
    const entry = await deps.triggers.byId(c.get('namespace'), uuid.toLowerCase());
    if (!entry || !isEsmType(entry.view.type)) throw noMapping();
    return entry;
  };

  /** A trigger-service failure as Lambda answers it: the broker's refusal without any secret, a gone function by its ARN. */
  const asLambda = (c: Context<LambdaEnv>, functionName: string, secret?: string) => (err: unknown): never => {
    if (err instanceof HearthError && err.code === 'InvalidTrigger') {
      throw new LambdaError('InvalidParameterValueException', `The event source was refused: ${withoutSecrets(err.message, secret).slice(0, 600)}`);
    }
    if (err instanceof HearthError && (err.code === 'FunctionNotFound' || err.code === 'TriggerNotFound')) {
      throw err.code === 'FunctionNotFound' ? functionNotFound(c.get('region'), functionName) : noMapping();
    }
    throw err;
  };

  /** The trigger `functionName` has under `name` now, with its id. */
  const entryNamed = async (c: Context<LambdaEnv>, functionName: string, name: string): Promise<TriggerEntry> => {
    const entries = await deps.triggers.entries(c.get('namespace'), functionName).catch(asLambda(c, functionName));
    const entry = entries.find((e) => e.view.name === name);
    if (!entry) throw noMapping();
    return entry;
  };

  /** A trigger name the function does not use yet. */
  const freshName = async (c: Context<LambdaEnv>, functionName: string): Promise<string> => {
    const taken = new Set((await deps.triggers.entries(c.get('namespace'), functionName).catch(asLambda(c, functionName))).map((e) => e.view.name));
    for (;;) {
      const name = `esm-${randomUUID().slice(0, 8)}`;
      if (!taken.has(name)) return name;
    }
  };

  const create = async (c: Context<LambdaEnv>) => {
    const input = await parseLambdaBody(createMappingBody, c.get('body'));
    refuseUnsupported(input);
    const source = requireSourceArn(input.EventSourceArn);
    const url = endpointUrl(input, source.type);
    const { name, qualifier } = parseFunctionIdentifier(input.FunctionName);
    const target = await targetOf(c, name, qualifier);
    const body = createdBody(input, source, url, target);
    const triggerName = await freshName(c, name);
    await deps.triggers.put(c.get('namespace'), name, triggerName, body).catch(asLambda(c, name, secretOf(url)));
    return c.json(mappingOf(await entryNamed(c, name, triggerName), c.get('region'), 'Creating'), 202);
  };

  const update = async (c: Context<LambdaEnv>) => {
    const entry = await find(c);
    const input = await parseLambdaBody(updateMappingBody, c.get('body'));
    refuseUnsupported(input);
    refuseUnchangeable(input);
    const namespace = c.get('namespace');
    let target = entry.view.target;
    if (input.FunctionName !== undefined) {
      const { name, qualifier } = parseFunctionIdentifier(input.FunctionName);
      if (name !== entry.functionName) {
        throw new LambdaError(
          'InvalidParameterValueException',
          `FunctionName: this mapping is a trigger of ${entry.functionName} and cannot move to ${name}; delete it and create a mapping for ${name}.`,
        );
      }
      target = await targetOf(c, name, qualifier);
    }
    const current = bodyOfView(entry.view);
    const next = updatedBody(current, input, target);
    let transition: MappingState = 'Updating';
    if (next.enabled !== entry.view.enabled) transition = next.enabled ? 'Enabling' : 'Disabling';
    if (settingsDiffer(current, next)) {
      await deps.triggers.put(namespace, entry.functionName, entry.view.name, next).catch(asLambda(c, entry.functionName));
    } else if (next.enabled !== entry.view.enabled) {
      await deps.triggers.setEnabled(namespace, entry.functionName, entry.view.name, next.enabled).catch(asLambda(c, entry.functionName));
    }
    return c.json(mappingOf(await entryNamed(c, entry.functionName, entry.view.name), c.get('region'), transition), 202);
  };

  const remove = async (c: Context<LambdaEnv>) => {
    const entry = await find(c);
    await deps.triggers.delete(c.get('namespace'), entry.functionName, entry.view.name).catch(asLambda(c, entry.functionName));
    return c.json(mappingOf(entry, c.get('region'), 'Deleting'), 202);
  };

  /** The mappings of one function after `after` (a trigger name), in name order. */
  const ofFunction = async (namespace: string, functionName: string, after?: string): Promise<TriggerEntry[]> => {
    const entries = await deps.triggers.entries(namespace, functionName).catch((err: unknown) => {
      // Deleted since it was listed: it has no mappings.
      if (err instanceof HearthError && err.code === 'FunctionNotFound') return [];
      throw err;
    });
    return entries.filter((e) => isEsmType(e.view.type) && (after === undefined || e.view.name > after)).sort(byName);
  };

  /**
   * Mappings of the whole namespace from `position` on, function by function
   * in the function store's order (whose `after` continues it), until
   * `enough` of them pass `keep`.
   */
  const ofNamespace = async (namespace: string, position: ReturnType<typeof markerPosition>, keep: (e: TriggerEntry) => boolean, enough: number) => {
    const found: TriggerEntry[] = [];
    if (position) found.push(...(await ofFunction(namespace, position.functionName, position.trigger)).filter(keep));
    let after = position?.functionName;
    while (found.length < enough) {
      const page = await deps.functions.list(namespace, { limit: FUNCTIONS_AT_ONCE, ...(after !== undefined ? { after } : {}) });
      if (page.length === 0) break;
      const lists = await Promise.all(page.map((fn) => ofFunction(namespace, fn.name)));
      for (const list of lists) found.push(...list.filter(keep));
      after = page[page.length - 1]!.name;
      if (page.length < FUNCTIONS_AT_ONCE) break;
    }
    return found;
  };

  const list = async (c: Context<LambdaEnv>) => {
    const namespace = c.get('namespace');
    const size = pageSize(lambdaQuery(c, 'MaxItems'));
    const position = markerPosition(lambdaQuery(c, 'Marker'));
    const arnParam = lambdaQuery(c, 'EventSourceArn');
    const source: SourceArn | 'none' | undefined = arnParam === undefined || arnParam === '' ? undefined : sourceFilterOf(arnParam);
    const named = lambdaQuery(c, 'FunctionName');
    const fn = named === undefined || named === '' ? undefined : parseFunctionIdentifier(named);
    let targetFilter: TriggerTarget | undefined;
    if (fn) {
      if (!(await deps.functions.get(namespace, fn.name))) throw functionNotFound(c.get('region'), fn.name);
      if (fn.qualifier !== undefined) {
        const q = qualifiedBy(fn.qualifier);
        targetFilter = q.kind === 'latest' ? { alias: 'latest' } : q.kind === 'version' ? { version: q.version } : { alias: q.alias };
        // Hearth's own `latest` alias is $LATEST here: as an alias name it names nothing.
        if (q.kind === 'alias' && !isUserAlias(q.alias)) return c.json({ EventSourceMappings: [] });
      }
    }
    if (source === 'none') return c.json({ EventSourceMappings: [] });
    const keep = (e: TriggerEntry) =>
      (!source || (e.view.type === source.type && e.view[SOURCE_FIELD[e.view.type as EsmType]] === source.name)) &&
      (!targetFilter || sameTarget(e.view.target, targetFilter));
    let rows: TriggerEntry[];
    if (fn) {
      const after = position && position.functionName === fn.name ? position.trigger : undefined;
      rows = position && position.functionName !== fn.name ? [] : (await ofFunction(namespace, fn.name, after)).filter(keep);
    } else {
      rows = await ofNamespace(namespace, position, keep, size + 1);
    }
    const { items, next } = pageOf(rows, size, keyOf);
    return c.json({ EventSourceMappings: items.map((e) => mappingOf(e, c.get('region'))), ...next });
  };

  return new Hono<LambdaEnv>()
    .post('/2015-03-31/event-source-mappings', create)
    .post('/2015-03-31/event-source-mappings/', create)
    .get('/2015-03-31/event-source-mappings', list)
    .get('/2015-03-31/event-source-mappings/', list)
    .get('/2015-03-31/event-source-mappings/:uuid', async (c) => c.json(mappingOf(await find(c), c.get('region'))))
    .put('/2015-03-31/event-source-mappings/:uuid', update)
    .delete('/2015-03-31/event-source-mappings/:uuid', remove);
}
