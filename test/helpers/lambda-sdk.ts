/**
 * What the Lambda API end-to-end files share (test/e2e/lambda-api-*.test.ts):
 * SDK clients pointed at a platform, a Node function made through
 * CreateFunction, and reading what the SDK answers or throws.
 */
import { CreateFunctionCommand, LambdaClient, type CreateFunctionCommandInput } from '@aws-sdk/client-lambda';
import { afterAll, beforeAll } from 'vitest';
import { zipOf } from './packages.ts';
import { startPlatform, type Platform } from './platform.ts';

/** The admin key the Lambda files start their platform with (`startPlatform({ adminKey: ADMIN })`). */
export const ADMIN = 'lambda-admin-key-0123456789abcdef';
export const REGION = 'us-east-1';
export const ARN_PREFIX = `arn:aws:lambda:${REGION}:000000000000:function:`;

/** A Node handler that logs, may throw, and returns its event's name, GREETING, `tag` and its version. */
export const NODE_GREETER = (tag: string) => `
exports.handler = async (event, context) => {
  console.log('called by', event.name);
  if (event.fail) throw new TypeError('boom: ' + event.fail);
  return { hello: event.name ?? 'world', greeting: process.env.GREETING ?? null, tag: ${JSON.stringify(tag)}, version: context.functionVersion };
};
`;

export const json = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));
export const parsePayload = (payload: Uint8Array | undefined) => JSON.parse(new TextDecoder().decode(payload));

/** The error an SDK call rejects with (so a test can assert on its name and status). */
export async function failureOf(work: Promise<unknown>): Promise<{ name: string; message: string; $metadata: { httpStatusCode?: number } }> {
  try {
    await work;
  } catch (err) {
    return err as { name: string; message: string; $metadata: { httpStatusCode?: number } };
  }
  throw new Error('expected the call to fail');
}

/**
 * SDK clients for the platform at `url()` (read when a client is made, so
 * it may be called before the platform starts), kept in `clients` so that
 * `destroyAll` closes them after the file.
 */
export function lambdaClients(url: () => string) {
  const clients: LambdaClient[] = [];
  const clientWith = (accessKeyId: string, secretAccessKey: string, extra: { systemClockOffset?: number } = {}) => {
    const client = new LambdaClient({
      endpoint: url(),
      region: REGION,
      credentials: { accessKeyId, secretAccessKey },
      maxAttempts: 1,
      ...extra,
    });
    clients.push(client);
    return client;
  };
  return {
    clients,
    clientWith,
    destroyAll() {
      for (const client of clients.splice(0)) client.destroy();
    },
  };
}

/**
 * A platform for one Lambda e2e file: started before its tests (`onStart`
 * gets it and a client of the default namespace), stopped after, with every
 * SDK client made through the returned `clientWith` destroyed.
 */
export function useLambdaPlatform(onStart: (started: { platform: Platform; lambda: LambdaClient }) => unknown) {
  let platform: Platform | undefined;
  const sdk = lambdaClients(() => platform!.url);
  beforeAll(async () => {
    platform = await startPlatform({ adminKey: ADMIN });
    onStart({ platform, lambda: sdk.clientWith('HEARTHDEFAULT', platform.apiKey) });
  });
  afterAll(async () => {
    sdk.destroyAll();
    await platform?.stop();
  });
  return sdk;
}

/** CreateFunction of a `NODE_GREETER('v1')` zip (nodejs20.x, index.handler), with `overrides`. */
export const createNode = async (client: LambdaClient, name: string, overrides: Partial<CreateFunctionCommandInput> = {}) =>
  client.send(
    new CreateFunctionCommand({
      FunctionName: name,
      Runtime: 'nodejs20.x',
      Handler: 'index.handler',
      Role: 'arn:aws:iam::123456789012:role/lambda-test',
      Code: { ZipFile: await zipOf({ 'index.js': NODE_GREETER('v1') }) },
      ...overrides,
    }),
  );
