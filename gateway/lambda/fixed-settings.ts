/**
 * Settings Hearth has one answer for, which deploy tools (Terraform's AWS
 * provider among them) read back after every change: the function's code
 * signing configuration (none: Hearth checks no signatures), its recursive
 * loop handling (Terminate) and its runtime updates (Auto: Hearth's images
 * carry the runtime). Only the reads are served; the Puts are not.
 */
import { Hono, type Context } from 'hono';
import type { GatewayDeps } from '../gateway-deps.ts';
import { functionArn, functionNotFound, parseFunctionIdentifier } from './function-identifier.ts';
import { lambdaQuery, type LambdaEnv } from './lambda-auth.ts';
import { resolveQualified } from './qualifier.ts';

export function fixedSettingsRoute(deps: GatewayDeps) {
  /** The unqualified function of the path, once it is known to exist. */
  const existing = async (c: Context<LambdaEnv>) => {
    const { name } = parseFunctionIdentifier(c.req.param('name') ?? '');
    if (!(await deps.functions.get(c.get('namespace'), name))) throw functionNotFound(c.get('region'), name);
    return name;
  };
  return new Hono<LambdaEnv>()
    .get('/2020-06-30/functions/:name/code-signing-config', async (c) => c.json({ CodeSigningConfigArn: '', FunctionName: await existing(c) }))
    .get('/2024-08-31/functions/:name/recursion-config', async (c) => {
      await existing(c);
      return c.json({ RecursiveLoop: 'Terminate' });
    })
    .get('/2021-07-20/functions/:name/runtime-management-config', async (c) => {
      const { name, qualifier } = parseFunctionIdentifier(c.req.param('name') ?? '', lambdaQuery(c, 'Qualifier'));
      await resolveQualified(deps, { region: c.get('region'), namespace: c.get('namespace') }, name, qualifier);
      const arn = functionArn(c.get('region'), name, qualifier === undefined || qualifier === '$LATEST' ? undefined : qualifier);
      return c.json({ UpdateRuntimeOn: 'Auto', FunctionArn: arn });
    });
}
