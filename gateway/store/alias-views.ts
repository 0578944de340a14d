/**
 * The shapes of aliases as the store reads and writes them, shared by the
 * store, the routes, the Lambda front door and the CLI. No database here.
 */

/** An alias name: a lowercase letter, then up to 62 lowercase letters, digits and dashes. */
export const ALIAS_NAME = /^[a-z][a-z0-9-]{0,62}$/;

/** Most aliases one function may hold (`latest` included). */
export const MAX_ALIASES = 100;

/** The alias every function has: moved by each deploy (unless the deploy says otherwise), never deleted. */
export const LATEST_ALIAS = 'latest';

/** Where an alias sends calls: `version`, except `weight` (0–1) of them to `weighted.version`. */
export interface AliasTarget {
  version: number;
  weighted: { version: number; weight: number } | null;
}

/** What a `PUT` of an alias sets. */
export interface AliasSpec extends AliasTarget {
  description: string;
  /** Containers kept initialised for each version the alias points at; null: each version's own `minWarm`. */
  minWarm: number | null;
}

export interface AliasView extends AliasSpec {
  name: string;
  createdAt: string;
  updatedAt: string;
}

/** What the gateway needs to route a call through an alias. */
export interface AliasRoute extends AliasTarget {
  functionId: string;
  alias: string;
}

/** The alias's weights as the API shows them: `{ "M": weight }`, or `{}` when it has one version. */
export function weightsOf(target: AliasTarget): Record<string, number> {
  return target.weighted ? { [String(target.weighted.version)]: target.weighted.weight } : {};
}

/**
 * Which version one call through `route` runs. `draw` is a number in
 * [0, 1): random per call, or fixed by the caller's routing key (so a
 * caller keeps landing on the same side of the split, and stays on the new
 * side as its weight only grows).
 */
export function chooseVersion(route: AliasTarget, draw: number): number {
  return route.weighted && draw < route.weighted.weight ? route.weighted.version : route.version;
}
