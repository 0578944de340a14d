/**
 * A function's resource-based policy: AddPermission, RemovePermission and
 * GetPolicy. Statements are stored on the function and answered as Lambda
 * builds them (principal, conditions, the qualified ARN as Resource), so a
 * tool that adds a permission and reads it back sees what it wrote. They
 * grant nothing: Hearth's own keys still decide who may call or manage a
 * function. A Qualifier (an alias or a version) keeps a policy of its own,
 * as in Lambda; `$LATEST` is the function's.
 */
import { Hono, type Context } from 'hono';
import { z } from 'zod';
import type { GatewayDeps } from '../gateway-deps.ts';
import type { StoredStatement } from '../store/function-extras-store.ts';
import { functionArn, functionNotFound, parseFunctionIdentifier } from './function-identifier.ts';
import { lambdaQuery, type LambdaEnv } from './lambda-auth.ts';
import { LambdaError } from './lambda-errors.ts';
import { parseLambdaBody, storableString } from './lambda-requests.ts';
import { uuidOf } from './lambda-shapes.ts';
import { resolveQualified } from './qualifier.ts';

/** Lambda's limit on one function's policy, in bytes of its JSON. */
const MAX_POLICY_BYTES = 20 * 1024;

const text = (max: number) => storableString(max, 1);
const addPermission = z.object({
  StatementId: z.string().regex(/^[a-zA-Z0-9._-]{1,100}$/, 'a statement id is 1 to 100 letters, digits, ".", "_" and "-"'),
  Action: z.string().regex(/^(?:lambda:[*]|lambda:[a-zA-Z]+|[*])$/, 'an action is lambda:<Operation>, lambda:* or *'),
  Principal: text(256).regex(/^[^\s]+$/, 'a principal has no spaces'),
  SourceArn: text(1024).optional(),
  SourceAccount: z.string().regex(/^\d{12}$/, 'an account is 12 digits').optional(),
  EventSourceToken: text(256).optional(),
  PrincipalOrgID: text(34).optional(),
  FunctionUrlAuthType: z.enum(['NONE', 'AWS_IAM']).optional(),
  RevisionId: text(64).optional(),
});
type AddPermissionInput = z.infer<typeof addPermission>;

/** The principal as Lambda writes it into a statement. */
function principalOf(principal: string): unknown {
  if (principal === '*') return '*';
  if (/^\d{12}$/.test(principal)) return { AWS: `arn:aws:iam::${principal}:root` };
  if (principal.startsWith('arn:')) return { AWS: principal };
  return principal.includes('.') ? { Service: principal } : { AWS: principal };
}

/** The statement's conditions, as Lambda writes them (none: left out). */
function conditionOf(input: AddPermissionInput): Record<string, Record<string, string>> | undefined {
  const equals: Record<string, string> = {
    ...(input.SourceAccount !== undefined ? { 'AWS:SourceAccount': input.SourceAccount } : {}),
    ...(input.PrincipalOrgID !== undefined ? { 'aws:PrincipalOrgID': input.PrincipalOrgID } : {}),
    ...(input.EventSourceToken !== undefined ? { 'lambda:EventSourceToken': input.EventSourceToken } : {}),
    ...(input.FunctionUrlAuthType !== undefined ? { 'lambda:FunctionUrlAuthType': input.FunctionUrlAuthType } : {}),
  };
  const condition = {
    ...(Object.keys(equals).length > 0 ? { StringEquals: equals } : {}),
    ...(input.SourceArn !== undefined ? { ArnLike: { 'AWS:SourceArn': input.SourceArn } } : {}),
  };
  return Object.keys(condition).length > 0 ? condition : undefined;
}

/** The policy document of `statements` (those of one qualifier) as Lambda answers it. */
function policyDocument(statements: StoredStatement[], resource: string) {
  return {
    Version: '2012-10-17',
    Id: 'default',
    Statement: statements.map(({ Qualifier: _q, ...s }) => ({ ...s, Resource: resource })),
  };
}

const revisionOf = (statements: StoredStatement[]) => uuidOf(JSON.stringify(statements));

export function resourcePolicyRoute(deps: GatewayDeps) {
  /** The function and qualifier of the request (an alias or version must exist; `$LATEST` is the function's). */
  const target = async (c: Context<LambdaEnv>) => {
    const { name, qualifier } = parseFunctionIdentifier(c.req.param('name') ?? '', lambdaQuery(c, 'Qualifier'));
    const where = { region: c.get('region'), namespace: c.get('namespace') };
    const { qualified } = await resolveQualified(deps, where, name, qualifier);
    const scope = qualified.kind === 'latest' ? null : qualifier!;
    return { name, scope, resource: functionArn(where.region, name, scope ?? undefined) };
  };
  const ofScope = (policy: StoredStatement[], scope: string | null) => policy.filter((s) => s.Qualifier === scope);
  const checkRevision = (given: string | undefined, statements: StoredStatement[]) => {
    if (given !== undefined && given !== revisionOf(statements)) {
      throw new LambdaError('PreconditionFailedException', 'The Revision Id provided does not match the latest Revision Id. Call the GetPolicy API to retrieve the latest Revision Id');
    }
  };

  return new Hono<LambdaEnv>()
    .post('/2015-03-31/functions/:name/policy', async (c) => {
      const input = await parseLambdaBody(addPermission, c.get('body'));
      const { name, scope, resource } = await target(c);
      const condition = conditionOf(input);
      const statement: StoredStatement = {
        Sid: input.StatementId,
        Qualifier: scope,
        Effect: 'Allow',
        Principal: principalOf(input.Principal),
        Action: input.Action,
        ...(condition ? { Condition: condition } : {}),
      };
      const updated = await deps.functionExtras.update(c.get('namespace'), name, ({ policy }) => {
        const mine = ofScope(policy, scope);
        checkRevision(input.RevisionId, mine);
        if (mine.some((s) => s.Sid === input.StatementId)) {
          throw new LambdaError(
            'ResourceConflictException',
            `The statement id (${input.StatementId}) provided already exists. Please provide a new statement id, or remove the existing statement.`,
          );
        }
        const bytes = Buffer.byteLength(JSON.stringify(policyDocument([...mine, statement], resource)));
        if (bytes > MAX_POLICY_BYTES) throw new LambdaError('PolicyLengthExceededException', `The final policy size (${bytes}) is bigger than the limit (${MAX_POLICY_BYTES}).`);
        return { policy: [...policy, statement] };
      });
      if (!updated) throw functionNotFound(c.get('region'), name);
      return c.json({ Statement: JSON.stringify(policyDocument([statement], resource).Statement[0]) }, 201);
    })
    .get('/2015-03-31/functions/:name/policy', async (c) => {
      const { name, scope, resource } = await target(c);
      const extras = await deps.functionExtras.get(c.get('namespace'), name);
      if (!extras) throw functionNotFound(c.get('region'), name);
      const mine = ofScope(extras.policy, scope);
      if (mine.length === 0) throw new LambdaError('ResourceNotFoundException', 'The resource you requested does not exist.');
      return c.json({ Policy: JSON.stringify(policyDocument(mine, resource)), RevisionId: revisionOf(mine) });
    })
    .delete('/2015-03-31/functions/:name/policy/:sid', async (c) => {
      const { name, scope } = await target(c);
      const sid = c.req.param('sid');
      const updated = await deps.functionExtras.update(c.get('namespace'), name, ({ policy }) => {
        const mine = ofScope(policy, scope);
        checkRevision(lambdaQuery(c, 'RevisionId') || undefined, mine);
        if (!mine.some((s) => s.Sid === sid)) throw new LambdaError('ResourceNotFoundException', `Statement ${sid.slice(0, 100)} is not found in resource policy.`);
        return { policy: policy.filter((s) => !(s.Qualifier === scope && s.Sid === sid)) };
      });
      if (!updated) throw functionNotFound(c.get('region'), name);
      return c.body(null, 204);
    });
}
