/**
 * What a thrown value means to the gateway, before either front door
 * answers it: a `HearthError` as it is; the queue's errors (by their stable
 * `name`, see `FOREIGN_ERROR_CODES`), an unreachable database and hono's own
 * `HTTPException`s as the table's codes; anything else is null, a fault
 * the caller logs and answers as `InternalError`.
 */
import { HTTPException } from 'hono/http-exception';
import { isTransientDatabaseError } from '../worker/common/database.ts';
import { FOREIGN_ERROR_CODES } from './error-table.ts';
import { HearthError } from './errors.ts';

export function knownError(err: unknown): HearthError | null {
  if (err instanceof HearthError) return err;
  if (err instanceof Error && Object.hasOwn(FOREIGN_ERROR_CODES, err.name)) return new HearthError(FOREIGN_ERROR_CODES[err.name]!, err.message);
  if (isTransientDatabaseError(err)) return new HearthError('DatabaseUnavailable', 'the platform database is unreachable right now; retry shortly');
  if (err instanceof HTTPException) return new HearthError(err.status === 413 ? 'PayloadTooLarge' : 'BadRequest', err.message);
  return null;
}
