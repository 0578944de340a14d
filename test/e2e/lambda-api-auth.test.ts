/**
 * The AWS Lambda API end to end, who may call it: wrong secrets, unknown
 * key ids, a body changed after signing, odd regions and stale signatures
 * refused; a namespace key with its own access key id that sees only its
 * namespace and stops at revocation.
 * Driven by `@aws-sdk/client-lambda` itself against a real platform with
 * only the endpoint changed (SigV4 with Hearth keys as secrets).
 */
import {
  GetFunctionCommand,
  InvokeCommand,
  LambdaClient,
  ListFunctionsCommand,
  type ServiceInputTypes,
  type ServiceOutputTypes,
} from '@aws-sdk/client-lambda';
import type { FinalizeRequestMiddleware, HttpRequest } from '@smithy/types';
import { describe, expect, it } from 'vitest';
import { ADMIN, createNode, failureOf, json, useLambdaPlatform, parsePayload } from '../helpers/lambda-sdk.ts';
import { uniqueName } from '../helpers/packages.ts';
import type { Platform } from '../helpers/platform.ts';

describe('AWS Lambda API: signatures and keys', () => {
  let platform: Platform;
  let lambda: LambdaClient;
  const { clients, clientWith } = useLambdaPlatform((started) => ({ platform, lambda } = started));

  it('refuses a wrong secret, an unknown key id, a changed body and a stale signature', async () => {
    const tampered = await failureOf(clientWith('HEARTHDEFAULT', `${platform.apiKey}x`).send(new ListFunctionsCommand({})));
    expect(tampered.name).toBe('InvalidSignatureException');
    expect(tampered.$metadata.httpStatusCode).toBe(403);
    // The admin key signs only as HEARTHADMIN.
    expect((await failureOf(clientWith('HEARTHDEFAULT', ADMIN).send(new ListFunctionsCommand({})))).name).toBe('InvalidSignatureException');
    expect((await clientWith('HEARTHADMIN', ADMIN).send(new ListFunctionsCommand({}))).Functions).toBeDefined();

    const unknown = await failureOf(clientWith('AKIAIOSFODNN7EXAMPLE', platform.apiKey).send(new ListFunctionsCommand({})));
    expect(unknown.name).toBe('UnrecognizedClientException');
    expect(unknown.$metadata.httpStatusCode).toBe(403);
    const unknownKey = await failureOf(clientWith(`HK${'0'.repeat(32)}`, platform.apiKey).send(new ListFunctionsCommand({})));
    expect(unknownKey.name).toBe('UnrecognizedClientException');

    // A body swapped after signing: the signature covers its hash.
    const name = uniqueName('lambda-swap');
    await createNode(lambda, name);
    const swapping = clientWith('HEARTHDEFAULT', platform.apiKey);
    // After signing, the request is the SDK's HTTP request (the step's type leaves it `unknown`).
    const swapBody: FinalizeRequestMiddleware<ServiceInputTypes, ServiceOutputTypes> = (next) => async (args) => {
      const request = args.request as HttpRequest;
      const body = new TextEncoder().encode(JSON.stringify({ name: 'Mallory' }));
      request.body = body;
      request.headers['content-length'] = String(body.length);
      return next(args);
    };
    swapping.middlewareStack.addRelativeTo(swapBody, {
      relation: 'after',
      toMiddleware: 'httpSigningMiddleware',
      name: 'swapBody',
    });
    const swapped = await failureOf(swapping.send(new InvokeCommand({ FunctionName: name, Payload: json({ name: 'Alice' }) })));
    expect(swapped.name).toBe('InvalidSignatureException');

    // The scope's region ends up in every ARN: one not shaped like AWS's is refused.
    for (const region of ['moon', `us-${'x'.repeat(40)}-1`]) {
      const client = new LambdaClient({ endpoint: platform.url, region, credentials: { accessKeyId: 'HEARTHDEFAULT', secretAccessKey: platform.apiKey }, maxAttempts: 1 });
      clients.push(client);
      const odd = await failureOf(client.send(new ListFunctionsCommand({})));
      expect(odd.name).toBe('InvalidSignatureException');
      expect(odd.$metadata.httpStatusCode).toBe(403);
    }

    // Signed 20 minutes ago: outside the 15-minute window.
    const stale = await failureOf(clientWith('HEARTHDEFAULT', platform.apiKey, { systemClockOffset: -20 * 60_000 }).send(new ListFunctionsCommand({})));
    expect(stale.name).toBe('InvalidSignatureException');
    expect(stale.message).toContain('Signature expired');
  });

  it('gives a namespace key its own access key id; it sees only its namespace, pages its list, and stops at revocation', async () => {
    const admin = (path: string, body: unknown, method = 'POST') =>
      platform.api(path, { method, headers: { authorization: `Bearer ${ADMIN}` }, body: JSON.stringify(body) });
    const tenant = uniqueName('lambda-tenant');
    expect((await admin('/v1/namespaces', { name: tenant })).status).toBe(201);
    const created = await (await admin(`/v1/namespaces/${tenant}/keys`, { name: 'sdk' })).json();
    expect(created.lambdaAccessKeyId).toBe(`HK${created.id.replace(/-/g, '').toUpperCase()}`);
    // Stored sealed, never in the clear.
    const { rows } = await platform.database.pool.query('select lambda_secret from api_keys where id = $1', [created.id]);
    expect(rows[0].lambda_secret).toMatch(/^v1\./);
    expect(rows[0].lambda_secret).not.toContain(created.key);

    const tenantLambda = clientWith(created.lambdaAccessKeyId, created.key);
    const names = ['c', 'a', 'b', 'd', 'e'].map((letter) => `${letter}-${uniqueName('fn')}`);
    for (const name of names) await createNode(tenantLambda, name);
    const mine = await tenantLambda.send(new InvokeCommand({ FunctionName: names[0], Payload: json({ name: 'tenant' }) }));
    expect(parsePayload(mine.Payload).hello).toBe('tenant');

    const seen: string[] = [];
    let marker: string | undefined;
    let pages = 0;
    do {
      const page = await tenantLambda.send(new ListFunctionsCommand({ MaxItems: 2, ...(marker ? { Marker: marker } : {}) }));
      expect(page.Functions!.length).toBeLessThanOrEqual(2);
      seen.push(...page.Functions!.map((f) => f.FunctionName!));
      marker = page.NextMarker;
      pages += 1;
    } while (marker);
    expect(seen).toEqual([...names].sort());
    expect(pages).toBe(3);

    // The default namespace does not see the tenant's functions, and the tenant does not see default's.
    expect((await failureOf(lambda.send(new GetFunctionCommand({ FunctionName: names[0] })))).name).toBe('ResourceNotFoundException');
    const defaultName = uniqueName('lambda-default-only');
    await createNode(lambda, defaultName);
    expect((await failureOf(tenantLambda.send(new InvokeCommand({ FunctionName: defaultName })))).name).toBe('ResourceNotFoundException');

    expect((await admin(`/v1/namespaces/${tenant}/keys/${created.id}`, undefined, 'DELETE')).status).toBe(204);
    const revoked = await failureOf(tenantLambda.send(new ListFunctionsCommand({})));
    expect(revoked.name).toBe('UnrecognizedClientException');
  });
});
