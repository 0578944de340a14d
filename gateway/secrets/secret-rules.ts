/**
 * What a secret's name and value may be, and how many a namespace holds.
 * Names are file names under `/run/secrets` too, hence the narrow alphabet;
 * values go into environment variables and files, hence no NUL, and into
 * JSON frames, hence well-formed Unicode. Messages name sizes, never content.
 */
import { SECRET_NAME, SECRET_VALUE_MAX_BYTES } from '../../worker/contract/function-version.ts';
import { badRequest } from '../errors.ts';

export { SECRET_NAME, SECRET_VALUE_MAX_BYTES };

/** Most secrets one namespace holds. */
export const MAX_SECRETS_PER_NAMESPACE = 100;

/** Throws `InvalidSecret` unless `name` is a secret name. */
export function assertSecretName(name: string): void {
  if (!SECRET_NAME.test(name)) {
    const shown = name.replace(/[^\x20-\x7e]/g, '?').slice(0, 64);
    throw badRequest('InvalidSecret', `secret name "${shown}" is not valid: use 1-63 characters a-z 0-9 . _ -, starting with a letter or digit`);
  }
}

/** Throws `InvalidSecret` unless `value` can be a secret's value (the message never quotes it). */
export function assertSecretValue(value: string): void {
  const bytes = Buffer.byteLength(value, 'utf8');
  if (bytes === 0) throw badRequest('InvalidSecret', 'a secret value must not be empty');
  if (bytes > SECRET_VALUE_MAX_BYTES) throw badRequest('InvalidSecret', `the secret value is ${bytes} bytes; at most ${SECRET_VALUE_MAX_BYTES} bytes (16 KiB) are allowed`);
  if (value.includes('\0')) throw badRequest('InvalidSecret', 'a secret value must not contain a NUL byte (it could not be an environment variable)');
  if (!value.isWellFormed()) throw badRequest('InvalidSecret', 'the secret value is not well-formed Unicode (a lone surrogate)');
}
