/**
 * The release surface's stored text, in memory: an alias description or
 * weights key Postgres would take differently from what was sent (a NUL, a
 * lone surrogate, control characters) is a 400, and odd spellings of a
 * version in `weights` are refused rather than read as numbers. The real
 * platform's side is test/security/release-surface.test.ts.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { PLATFORM_KEY, bearer, createFakeGateway, expectError, type FakeGateway } from './fake-deps.ts';

let g: FakeGateway;
beforeEach(async () => {
  g = await createFakeGateway();
  g.functions.seed('default', 'echo', {}, 2);
});

const putAlias = (body: unknown) =>
  g.app.request('/v1/functions/echo/aliases/live', {
    method: 'PUT',
    headers: bearer(PLATFORM_KEY, { 'Content-Type': 'application/json' }),
    body: JSON.stringify(body),
  });

describe('alias text and weights a hostile tenant sends', () => {
  it.each(['half \ud800 a pair', 'trailing \udfff', 'nul \u0000', 'escape \u001b[31m', 'del \u007f'])('refuses the description %j as 400', async (description) => {
    await expectError(await putAlias({ version: 1, description }), 400, 'InvalidParameter');
  });

  it('keeps a well-formed description with astral characters as sent', async () => {
    const res = await putAlias({ version: 1, description: 'canary 🐤 naïve' });
    expect(res.status).toBe(201);
    expect(((await res.json()) as { description: string }).description).toBe('canary 🐤 naïve');
  });

  it.each(['1e0', '0x1', '-0', '1.0', '02', '+2', ' 2', '2147483648', '\u0000', '\ud800'])('refuses the weights key %j as 400', async (key) => {
    await expectError(await putAlias({ version: 1, weights: { [key]: 0.5 } }), 400, 'InvalidParameter');
  });
});
