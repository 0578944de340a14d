/**
 * What a thrown value means to the gateway, before either front door
 * answers it: a `HearthError` as it is; the queue's errors (`queue/queue-errors.ts`),
 * an unreachable database and hono's own
 * `HTTPException`s as the table's codes; anything else is null, a fault
 * the caller logs and answers as `InternalError`.
 */
import { HTTPException } from 'hono/http-exception';
import { isTransientDatabaseError } from '../worker/common/database.ts';
import { HearthError } from './errors.ts';
import { InvocationPlatformError, QueueUnavailableError } from './queue/queue-errors.ts';

export function knownError(err: unknown): HearthError | null {
  if (err instanceof HearthError) return err;
  if (err instanceof QueueUnavailableError) return new HearthError('QueueUnavailable', err.message);
  if (err instanceof InvocationPlatformError) return new HearthError('PlatformError', err.message);
  if (isTransientDatabaseError(err)) return new HearthError('DatabaseUnavailable', 'the platform database is unreachable right now; retry shortly');
  if (err instanceof HTTPException) return new HearthError(err.status === 413 ? 'PayloadTooLarge' : 'BadRequest', err.message);
  return null;
}
