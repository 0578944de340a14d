/**
 * Lambda's ways of naming a function and a version, mapped to Hearth's.
 * `FunctionName` may be a name, `name:qualifier`, a partial ARN
 * (`123456789012:function:name`) or a full ARN
 * (`arn:aws:lambda:us-east-1:123456789012:function:name[:qualifier]`); the
 * account and region in it are not checked (Hearth has one of each per
 * caller). A qualifier is `$LATEST`, a version number or an alias
 * (`qualifier.ts` says what each names).
 */
import { LambdaError } from './lambda-errors.ts';
import { INT4_MAX, isVersionNumber } from '../ids.ts';

/** The fixed account id in every ARN Hearth reports. */
export const ACCOUNT_ID = '000000000000';

const IDENTIFIER =
  /^(?:arn:aws[a-zA-Z-]*:lambda:[a-z0-9-]+:\d{12}:function:|\d{12}:function:)?([a-zA-Z0-9_-]{1,140})(?::(\$LATEST|[a-zA-Z0-9_-]{1,128}))?$/;

export interface FunctionIdentifier {
  name: string;
  /** `$LATEST`, a version number as text, or an alias name. */
  qualifier?: string;
}

/**
 * Splits a function name or ARN, merging a `Qualifier` parameter. Throws
 * InvalidParameterValueException for a malformed name or a conflict
 * between the two qualifiers.
 */
export function parseFunctionIdentifier(raw: string, qualifierParam?: string): FunctionIdentifier {
  const match = IDENTIFIER.exec(raw);
  if (!match) {
    throw new LambdaError(
      'InvalidParameterValueException',
      `1 validation error detected: Value '${raw.slice(0, 170)}' at 'functionName' failed to satisfy constraint: it must be a function name, a name with a qualifier, or a function ARN`,
    );
  }
  const name = match[1]!;
  const fromName = match[2];
  const param = qualifierParam === '' ? undefined : qualifierParam;
  if (fromName !== undefined && param !== undefined && fromName !== param) {
    throw new LambdaError('InvalidParameterValueException', 'The derived qualifier from the function name does not match the specified qualifier.');
  }
  const qualifier = fromName ?? param;
  return qualifier === undefined ? { name } : { name, qualifier };
}

/**
 * The Hearth version a qualifier names: undefined for latest (`$LATEST` or
 * none), a number, or null when it is not a version (an alias's name). Throws
 * InvalidParameterValueException for a qualifier Lambda would refuse: one
 * over 128 characters or of other characters, or a version number past the
 * largest there can be.
 */
export function versionOf(qualifier: string | undefined): number | undefined | null {
  if (qualifier === undefined || qualifier === '$LATEST') return undefined;
  if (!/^[a-zA-Z0-9$_-]{1,128}$/.test(qualifier)) {
    throw new LambdaError(
      'InvalidParameterValueException',
      `1 validation error detected: Value '${qualifier.slice(0, 128)}' at 'qualifier' failed to satisfy constraint: Member must satisfy regular expression pattern: (|[a-zA-Z0-9$_-]+) and have length at most 128`,
    );
  }
  if (!/^\d+$/.test(qualifier)) return null;
  const n = Number(qualifier);
  if (!/^[1-9]/.test(qualifier) || !isVersionNumber(n)) {
    throw new LambdaError('InvalidParameterValueException', `Qualifier '${qualifier.slice(0, 32)}' is not a version number: versions run from 1 to ${INT4_MAX}.`);
  }
  return n;
}

/** `arn:aws:lambda:<region>:000000000000:function:<name>[:<qualifier>]`. */
export function functionArn(region: string, name: string, qualifier?: string): string {
  return `arn:aws:lambda:${region}:${ACCOUNT_ID}:function:${name}${qualifier === undefined ? '' : `:${qualifier}`}`;
}

/** Lambda's answer for a function (or version) that does not exist. */
export function functionNotFound(region: string, name: string, qualifier?: string): LambdaError {
  return new LambdaError('ResourceNotFoundException', `Function not found: ${functionArn(region, name, qualifier)}`);
}
