/**
 * The linear scan of Lambda code bodies: it finds the ZipFile string where
 * JSON puts it and decodes its base64 exactly as Node would, takes the
 * wrapped forms encoders produce, and refuses what is not base64, what
 * hides a second ZipFile, and fields too large or too deep, in time
 * proportional to the body.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { scanJsonBody } from '../../gateway/lambda/code-request-body.ts';

const LIMITS = { maxFieldsBytes: 64 * 1024, maxDepth: 16 };
const create = (zipJson: string, extra = '') => Buffer.from(`{"FunctionName":"f",${extra}"Code":{"S3Key":"x","ZipFile":${zipJson}},"Publish":true}`);
const scan = (body: Buffer) => scanJsonBody(body, ['Code', 'ZipFile'], LIMITS);
const refusal = async (body: Buffer) => {
  try {
    await scan(body);
  } catch (err) {
    return (err as { type: string }).type;
  }
  return 'accepted';
};

describe('Lambda code body scan', () => {
  it('decodes ZipFile as Buffer.from would and parses the other fields', async () => {
    for (const size of [0, 1, 2, 3, 100, 3 * 1024 * 1024 + 7]) {
      const bytes = randomBytes(size);
      const { json, zip } = await scan(create(JSON.stringify(bytes.toString('base64'))));
      expect(zip?.equals(bytes)).toBe(true);
      expect(json).toEqual({ FunctionName: 'f', Code: { S3Key: 'x', ZipFile: '' }, Publish: true });
    }
  });

  it('takes base64 wrapped in lines, with spaces, with \\/ escapes, or with its key written in escapes', async () => {
    const bytes = randomBytes(5000);
    const b64 = bytes.toString('base64');
    const wrapped = b64.replace(/(.{76})/g, '$1\n');
    expect((await scan(create(JSON.stringify(wrapped)))).zip?.equals(bytes)).toBe(true);
    // JSON may escape '/' as '\/' (PHP's json_encode does).
    expect((await scan(create(`"${b64.replace(/(.{64})/g, '$1 ').replace(/\//g, '\\/')}"`))).zip?.equals(bytes)).toBe(true);
    const escapedKey = Buffer.from(`{"Code":{"Zip\\u0046ile":"${b64}"}}`);
    const { zip } = await scan(escapedKey);
    expect(zip?.equals(bytes)).toBe(true);
  });

  it('refuses what is not base64, quickly: the backtracking shape, padding inside, other escapes', async () => {
    const started = performance.now();
    expect(await refusal(create(`"${' '.repeat(200_000)}!"`))).toBe('InvalidParameterValueException');
    expect(performance.now() - started).toBeLessThan(200);
    expect(await refusal(create('"QUJD=REVG"'))).toBe('InvalidParameterValueException');
    expect(await refusal(create('"QQ==="'))).toBe('InvalidParameterValueException');
    expect(await refusal(create('"QUJDR"'))).toBe('InvalidParameterValueException');
    expect(await refusal(create('"QUJD\\u0041"'))).toBe('InvalidParameterValueException');
  });

  it('refuses a second ZipFile, large or deep fields, and broken JSON', async () => {
    expect(await refusal(Buffer.from('{"Code":{"ZipFile":"QUJD","ZipFile":"REVG"}}'))).toBe('InvalidParameterValueException');
    expect(await refusal(Buffer.from('{"Code":{"ZipFile":"QUJD"},"Code":{"ZipFile":"REVG"}}'))).toBe('InvalidParameterValueException');
    expect(await refusal(create('"QUJD"', `"Description":"${'d'.repeat(70_000)}",`))).toBe('RequestTooLargeException');
    expect(await refusal(create('"QUJD"', `"Tags":${'['.repeat(20)}${']'.repeat(20)},`))).toBe('InvalidRequestContentException');
    expect(await refusal(Buffer.from('{"Code":{"ZipFile":"QUJD"}'))).toBe('InvalidRequestContentException');
    expect(await refusal(Buffer.from('{"Code":{"ZipFile":"QUJD'))).toBe('InvalidRequestContentException');
    expect(await refusal(Buffer.alloc(1024 * 1024, 0x20))).toBe('RequestTooLargeException');
  });

  it('does not take a ZipFile elsewhere in the document for the code', async () => {
    const { json, zip } = await scan(Buffer.from('{"Tags":{"ZipFile":"QUJD"},"Code":{}}'));
    expect(zip).toBeNull();
    expect(json).toEqual({ Tags: { ZipFile: 'QUJD' }, Code: {} });
  });
});
