/**
 * Setting, reading and removing a function's destinations, whichever door
 * the request came in by (`/v1`, the Lambda API's event invoke config), and
 * checking an `X-Callback-Url`. What is written has passed the checks a
 * delivery would make: a function destination names a function (and alias)
 * that exists, every URL passes the outbound guard. After a change every
 * gateway is told, so its cached versions (which carry which destinations
 * are set, for the job) drop.
 */
import type { ControlMessage } from '../../worker/contract/messages.ts';
import { HearthError, notFound } from '../errors.ts';
import type { ChosenVersion, CallTarget } from '../invoke/dispatcher.ts';
import {
  DESTINATION_CONDITIONS,
  readStored,
  sealDestination,
  shownDestination,
  type Destination,
  type DestinationCondition,
  type StoredDestinations,
} from './destination-config.ts';
import type { Destinations } from './destinations-port.ts';

export interface DestinationServiceDeps {
  destinations: Destinations;
  dispatcher: { resolve(target: CallTarget): Promise<ChosenVersion | null> };
  announce(message: ControlMessage): Promise<void>;
}

/** A function's destinations as the API answers them. */
export interface ShownDestinations {
  onSuccess: Record<string, unknown> | null;
  onFailure: Record<string, unknown> | null;
  updatedAt: string | null;
}

export function shownDestinations(stored: StoredDestinations | null): ShownDestinations {
  return {
    onSuccess: stored?.onSuccess ? shownDestination(stored.onSuccess) : null,
    onFailure: stored?.onFailure ? shownDestination(stored.onFailure) : null,
    updatedAt: stored?.updatedAt ?? null,
  };
}

const functionMissing = (name: string) => notFound('FunctionNotFound', `function "${name}" does not exist`);

/** Why `destination` cannot be set, as a thrown error; nothing when it can. */
async function check(deps: DestinationServiceDeps, namespace: string, condition: DestinationCondition, destination: Destination): Promise<void> {
  if (destination.type === 'function') {
    const target = { namespace, name: destination.name, ...(destination.alias ? { alias: destination.alias } : {}) };
    if (await deps.dispatcher.resolve(target)) return;
    const what = destination.alias ? `function "${destination.name}" with alias "${destination.alias}"` : `function "${destination.name}"`;
    throw new HearthError('DestinationNotFound', `${condition} names ${what}, which does not exist in this namespace`, { condition });
  }
  const verdict = await deps.destinations.checkOutbound(new URL(destination.url));
  if (!verdict.ok) throw new HearthError('InvalidDestination', `${condition}: ${verdict.reason}`, { condition });
}

export function createDestinationService(deps: DestinationServiceDeps) {
  const { config } = deps.destinations;
  const patch = async (namespace: string, name: string, changes: Partial<Record<DestinationCondition, Destination | null>>): Promise<ShownDestinations> => {
    const fn = await config.get(namespace, name);
    if (!fn) throw functionMissing(name);
    for (const condition of DESTINATION_CONDITIONS) {
      const destination = changes[condition];
      if (destination) await check(deps, namespace, condition, destination);
    }
    const current = readStored(fn.stored);
    const next = (condition: DestinationCondition) => {
      if (!(condition in changes)) return current?.[condition] ?? null;
      const destination = changes[condition];
      return destination ? sealDestination(deps.destinations.sealer, { functionId: fn.functionId, namespace, condition }, destination) : null;
    };
    const stored: StoredDestinations = { onSuccess: next('onSuccess'), onFailure: next('onFailure'), updatedAt: new Date().toISOString() };
    const value = stored.onSuccess || stored.onFailure ? stored : null;
    if (!(await config.put(namespace, fn.functionId, value))) throw functionMissing(name);
    await deps.announce({ type: 'function-changed', namespace, name });
    return shownDestinations(value);
  };
  return {
    /** The function's destinations; throws 404 `FunctionNotFound`. */
    async get(namespace: string, name: string): Promise<ShownDestinations> {
      const fn = await config.get(namespace, name);
      if (!fn) throw functionMissing(name);
      return shownDestinations(readStored(fn.stored));
    },

    /**
     * Replaces both destinations (a condition absent or null: none); throws
     * 404 `FunctionNotFound` / `DestinationNotFound`, 400 `InvalidDestination`.
     */
    put(namespace: string, name: string, input: Partial<Record<DestinationCondition, Destination | null>>): Promise<ShownDestinations> {
      return patch(namespace, name, { onSuccess: input.onSuccess ?? null, onFailure: input.onFailure ?? null });
    },

    /**
     * Changes the conditions `changes` names (null: none) and keeps the other
     * as it is stored (the Lambda door's UpdateFunctionEventInvokeConfig);
     * the same errors as `put`, and nothing is written when one is thrown.
     */
    patch,

    /** Removes both; throws 404 `FunctionNotFound`. */
    async remove(namespace: string, name: string): Promise<void> {
      const fn = await config.get(namespace, name);
      if (!fn || !(await config.put(namespace, fn.functionId, null))) throw functionMissing(name);
      await deps.announce({ type: 'function-changed', namespace, name });
    },
  };
}

/**
 * `X-Callback-Url` as a job carries it, once it has passed the guard;
 * throws 400 `InvalidCallbackUrl` with the reason. Absent `destinations`
 * (the feature not wired), every callback is refused.
 */
export async function checkedCallbackUrl(destinations: Destinations | undefined, text: string): Promise<string> {
  const refuse = (why: string) => new HearthError('InvalidCallbackUrl', `X-Callback-Url refused: ${why}`);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw refuse('not a URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw refuse('it must be an http:// or https:// URL');
  if (url.hash !== '') throw refuse('it must not have a #fragment');
  if (url.href.length > 2048) throw refuse('it is longer than 2048 characters');
  if (!destinations) throw refuse('callbacks are not enabled on this gateway');
  const verdict = await destinations.checkOutbound(url);
  if (!verdict.ok) throw refuse(verdict.reason);
  return url.href;
}
