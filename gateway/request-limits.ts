/** Request size limits, enforced while the body streams in. */
import { bodyLimit } from 'hono/body-limit';
import { HearthError } from './errors.ts';

/** Lambda's synchronous payload limit. */
export const MAX_EVENT_BYTES = 6 * 1024 * 1024;
/** A 50 MiB archive plus room for the multipart envelope and fields. */
export const MAX_DEPLOY_BYTES = 50 * 1024 * 1024 + 256 * 1024;

export function limitBody(maxSize: number, what: string) {
  return bodyLimit({
    maxSize,
    onError: () => {
      throw new HearthError(413, 'PayloadTooLarge', `${what} is larger than ${maxSize} bytes`);
    },
  });
}
