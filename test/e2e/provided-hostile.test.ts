/**
 * A hostile custom runtime: a `provided` bootstrap is the tenant's own
 * program talking to the Runtime API, so everything it posts is tenant
 * input. This one answers with bytes Postgres refuses (NUL escapes, raw
 * NULs and invalid UTF-8 in its output), posts errors with a NUL and a
 * huge type, and tries another call's request id. Each call is recorded
 * once, readable, and nothing reaches another function's records.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { zipOf } from '../helpers/code-fixtures.ts';
import { deploy, invoke, uniqueName } from '../helpers/packages.ts';
import { recordOf, startPlatform, type Platform } from '../helpers/platform.ts';

/** The tutorial loop on busybox wget, answering by the event's "op". */
const BOOTSTRAP = `#!/bin/sh
API="http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime"
while true; do
  wget -q -S -O /tmp/event "$API/invocation/next" 2>/tmp/headers
  ID=$(sed -n 's/.*Lambda-Runtime-Aws-Request-Id: *\\([^ \\r]*\\).*/\\1/ip' /tmp/headers | tr -d '\\r')
  case "$(cat /tmp/event)" in
    *nul-result*)
      printf 'raw NUL \\000 and bad UTF-8 \\377\\376 in stdout\\n'
      printf '{"s":"escaped NUL \\\\u0000 and lone \\\\ud800 surrogate","n":1e400}' > /tmp/out
      wget -q -O /dev/null --post-file /tmp/out "$API/invocation/$ID/response" ;;
    *raw-result*)
      printf 'not JSON: \\000\\377\\376' > /tmp/out
      wget -q -O /dev/null --post-file /tmp/out "$API/invocation/$ID/response" ;;
    *hostile-error*)
      { printf '{"errorType":"Evil\\\\u0000'; head -c 20000 /dev/zero | tr '\\000' 'T'; printf '","errorMessage":"NUL \\\\u0000 here"}'; } > /tmp/out
      wget -q -O /dev/null --post-file /tmp/out "$API/invocation/$ID/error" ;;
    *forged-id*)
      printf '{}' > /tmp/out
      wget -q -O /dev/null --post-file /tmp/out "$API/invocation/someone-elses-id/response" 2>/dev/null || echo "forged id refused"
      printf '{"own":true}' > /tmp/out
      wget -q -O /dev/null --post-file /tmp/out "$API/invocation/$ID/response" ;;
  esac
done
`;

describe('a hostile provided bootstrap', () => {
  let platform: Platform;
  const hostile = uniqueName('prov-hostile');
  const bystander = uniqueName('prov-bystander');

  beforeAll(async () => {
    platform = await startPlatform();
    const zip = await zipOf([{ path: 'bootstrap', data: BOOTSTRAP, mode: 0o755 }]);
    for (const name of [hostile, bystander]) {
      const res = await deploy(platform, name, { bytes: zip, filename: 'function.zip' }, { runtime: 'provided' });
      expect(res.status, await res.text()).toBe(201);
    }
  });
  afterAll(async () => {
    await platform?.stop();
  });

  const call = async (name: string, op: string) => {
    const res = await invoke(platform, name, { op });
    const text = await res.text();
    const record = await recordOf(platform, res.headers.get('x-invocation-id'), 10_000);
    return { res, text, record: record as { status: string; result?: unknown; logs?: string; error?: { type: string; message: string } } };
  };

  it('records an answer with NUL escapes and a lone surrogate, and raw NULs and bad UTF-8 in its output, once', async () => {
    const { res, text, record } = await call(hostile, 'nul-result');
    expect(res.status).toBe(200);
    expect(record.status).toBe('succeeded');
    // The answer is valid JSON text and kept as text: the record gives back what the caller got.
    expect(record.result).toEqual(JSON.parse(text));
    expect(record.logs).toContain('raw NUL');
    expect(record.logs).not.toContain('\u0000');
  });

  it('keeps a body that is not JSON, bytes and all, as a string', async () => {
    const { res, record } = await call(hostile, 'raw-result');
    expect(res.status).toBe(200);
    expect(record.status).toBe('succeeded');
    expect(typeof record.result).toBe('string');
    expect(record.result as string).not.toContain('\u0000');
  });

  it('records an error with a NUL and a 20,000-character type, capped and clean', async () => {
    const { res, record } = await call(hostile, 'hostile-error');
    expect(res.status).toBe(502);
    expect(record.status).toBe('failed');
    expect(record.error!.type.length).toBeLessThan(1000);
    expect(record.error!.type).not.toContain('\u0000');
    expect(record.error!.message).not.toContain('\u0000');
  });

  it('cannot answer for another request id; its own answer still counts', async () => {
    const { res, text, record } = await call(hostile, 'forged-id');
    expect(res.status).toBe(200);
    expect(JSON.parse(text)).toEqual({ own: true });
    expect(record.logs).toContain('forged id refused');
  });

  it("leaves another function's calls and records alone", async () => {
    const { res, text, record } = await call(bystander, 'forged-id');
    expect(res.status).toBe(200);
    expect(JSON.parse(text)).toEqual({ own: true });
    expect(record.status).toBe('succeeded');
    const listed = await (await platform.api(`/v1/functions/${bystander}/invocations`)).json();
    expect(listed.items).toHaveLength(1);
  });
});
