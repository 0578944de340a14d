/**
 * A function's tags: TagResource, UntagResource and ListTags (and the
 * `Tags` of CreateFunction and GetFunction). Stored on the function, shown,
 * never used for access. As in Lambda, a function takes at most 50, keys
 * of 1–128 characters outside the reserved `aws:` prefix, values of at most
 * 256; tags belong to the function, so a qualified ARN is refused.
 */
import { Hono, type Context } from 'hono';
import { z } from 'zod';
import type { GatewayDeps } from '../gateway-deps.ts';
import { functionNotFound, parseFunctionIdentifier } from './function-identifier.ts';
import { lambdaQueryAll, type LambdaEnv } from './lambda-auth.ts';
import { LambdaError } from './lambda-errors.ts';
import { MAX_TAGS, parseLambdaBody, storableString, tagMap } from './lambda-requests.ts';

const tagKey = storableString(128, 1);
const tagResource = z.object({ Tags: tagMap });

/** Refuses tags Lambda would: reserved keys, and more than a function may hold once merged. */
export function assertTags(tags: Record<string, string>): void {
  const reserved = Object.keys(tags).find((k) => k.toLowerCase().startsWith('aws:'));
  if (reserved !== undefined) throw new LambdaError('InvalidParameterValueException', `Tag keys starting with "aws:" are reserved: '${reserved.slice(0, 128)}'.`);
  const count = Object.keys(tags).length;
  if (count > MAX_TAGS) throw new LambdaError('InvalidParameterValueException', `A function may have at most ${MAX_TAGS} tags; this would give it ${count}.`);
}

export function manageTagsRoute(deps: GatewayDeps) {
  /** The function the path's ARN names (unqualified). */
  const resource = (c: Context<LambdaEnv>) => {
    const { name, qualifier } = parseFunctionIdentifier(c.req.param('arn') ?? '');
    if (qualifier !== undefined) throw new LambdaError('InvalidParameterValueException', 'Tags belong to the function: name it by its unqualified ARN.');
    return name;
  };
  /** Changes the function's tags; the Lambda 404 when there is no such function. */
  const retag = async (c: Context<LambdaEnv>, change: (tags: Record<string, string>) => Record<string, string>) => {
    const name = resource(c);
    const updated = await deps.functionExtras.update(c.get('namespace'), name, (current) => {
      const tags = change({ ...current.tags });
      assertTags(tags);
      return { tags };
    });
    if (!updated) throw functionNotFound(c.get('region'), name);
  };

  return new Hono<LambdaEnv>()
    .post('/2017-03-31/tags/:arn', async (c) => {
      const input = await parseLambdaBody(tagResource, c.get('body'));
      await retag(c, (tags) => ({ ...tags, ...input.Tags }));
      return c.body(null, 204);
    })
    .delete('/2017-03-31/tags/:arn', async (c) => {
      const keys = lambdaQueryAll(c, 'tagKeys');
      if (keys.length === 0 || keys.length > MAX_TAGS || keys.some((k) => !tagKey.safeParse(k).success)) {
        throw new LambdaError('InvalidParameterValueException', `tagKeys must name 1 to ${MAX_TAGS} tag keys of 1 to 128 characters.`);
      }
      await retag(c, (tags) => Object.fromEntries(Object.entries(tags).filter(([k]) => !keys.includes(k))));
      return c.body(null, 204);
    })
    .get('/2017-03-31/tags/:arn', async (c) => {
      const name = resource(c);
      const extras = await deps.functionExtras.get(c.get('namespace'), name);
      if (!extras) throw functionNotFound(c.get('region'), name);
      return c.json({ Tags: extras.tags });
    });
}
