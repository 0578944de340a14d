/** Reading and validating JSON request bodies, with a clear 4xx for every way they go wrong. */
import { HearthError, badRequest } from './errors.ts';

/**
 * Reads the body as text (at most `maxBytes`) and checks it is JSON.
 * Returns the text unchanged so it can travel without re-serialising; an
 * empty body stands for `{}` (as in Lambda's Invoke).
 */
export async function readJsonText(request: Request, maxBytes: number): Promise<string> {
  const contentType = request.headers.get('content-type') ?? '';
  if (/^multipart\//i.test(contentType)) {
    throw new HearthError(415, 'UnsupportedMediaType', 'send the event as a JSON body (Content-Type: application/json)');
  }
  const bytes = new Uint8Array(await request.arrayBuffer());
  if (bytes.length > maxBytes) throw new HearthError(413, 'PayloadTooLarge', `the body is larger than ${maxBytes} bytes`);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw badRequest('InvalidJson', 'the body is not valid UTF-8');
  }
  if (text.trim() === '') return '{}';
  try {
    JSON.parse(text);
  } catch (err) {
    throw badRequest('InvalidJson', `the body is not valid JSON: ${(err as Error).message}`);
  }
  return text;
}

/** Like `readJsonText`, parsed. */
export async function readJsonBody(request: Request, maxBytes: number): Promise<unknown> {
  return JSON.parse(await readJsonText(request, maxBytes));
}
