/**
 * What a Lambda qualifier names in Hearth: none or `$LATEST` is the
 * function's `latest` alias (Hearth's latest version), a number is that
 * version, any other name one of the user's aliases.
 *
 * Hearth's own `latest` alias is not one of those: the Lambda API already
 * calls it `$LATEST`, so through it an alias named `latest` is neither
 * listed nor found, and CreateAlias, UpdateAlias and DeleteAlias refuse the
 * name. Lambda takes alias names Hearth does not (capitals, `_`, up to 128
 * characters); those are refused when written and never found when read.
 */
import type { GatewayDeps } from '../gateway-deps.ts';
import { ALIAS_NAME, LATEST_ALIAS, type AliasView, type VersionView } from '../store/functions-store.ts';
import { functionArn, functionNotFound, versionOf } from './function-identifier.ts';
import { LambdaError } from './lambda-errors.ts';

export type Qualified = { kind: 'latest' } | { kind: 'version'; version: number } | { kind: 'alias'; alias: string };

/** The kind of thing `qualifier` names (InvalidParameterValueException for one Lambda would refuse). */
export function qualifiedBy(qualifier: string | undefined): Qualified {
  const version = versionOf(qualifier);
  if (version === undefined) return { kind: 'latest' };
  if (version === null) return { kind: 'alias', alias: qualifier! };
  return { kind: 'version', version };
}

/** Whether `alias` could be one of the user's aliases (and so be found). */
export const isUserAlias = (alias: string) => ALIAS_NAME.test(alias) && alias !== LATEST_ALIAS;

/** Refuses an alias name a write cannot take: Hearth's naming rule, and `latest` (which is `$LATEST` here). */
export function assertUserAliasName(alias: string): void {
  if (alias === LATEST_ALIAS) {
    throw new LambdaError('InvalidParameterValueException', `"${LATEST_ALIAS}" is Hearth's own alias, $LATEST in the Lambda API; choose another name.`);
  }
  if (!ALIAS_NAME.test(alias)) {
    throw new LambdaError(
      'InvalidParameterValueException',
      `Alias name '${alias.slice(0, 128)}' is not one Hearth takes: a lowercase letter, then up to 62 lowercase letters, digits and dashes ([a-z][a-z0-9-]{0,62}).`,
    );
  }
}

/** Lambda's answer for an alias that does not exist. */
export function aliasNotFound(region: string, name: string, alias: string): LambdaError {
  return new LambdaError('ResourceNotFoundException', `Alias not found: ${functionArn(region, name, alias)}`);
}

/** A qualified function as it is now: the version the qualifier names (an alias's primary version) and the alias, if one. */
export interface QualifiedVersion {
  version: VersionView;
  alias: AliasView | null;
  qualified: Qualified;
}

/**
 * The version `qualifier` names now in the caller's namespace, or
 * ResourceNotFoundException naming the qualified ARN. One or two reads:
 * an alias is read, then its version.
 */
export async function resolveQualified(
  deps: Pick<GatewayDeps, 'functions'>,
  where: { region: string; namespace: string },
  name: string,
  qualifier: string | undefined,
): Promise<QualifiedVersion> {
  const qualified = qualifiedBy(qualifier);
  const missing = () => functionNotFound(where.region, name, qualifier === '$LATEST' ? undefined : qualifier);
  if (qualified.kind === 'latest') {
    const fn = await deps.functions.get(where.namespace, name);
    if (!fn) throw missing();
    return { version: fn.latest, alias: null, qualified };
  }
  if (qualified.kind === 'version') {
    const version = await deps.functions.getVersion(where.namespace, name, qualified.version);
    if (!version) throw missing();
    return { version, alias: null, qualified };
  }
  if (!isUserAlias(qualified.alias)) throw missing();
  const alias = await deps.functions.getAlias(where.namespace, name, qualified.alias);
  const version = alias ? await deps.functions.getVersion(where.namespace, name, alias.version) : null;
  if (!alias || !version) throw missing();
  return { version, alias, qualified };
}
