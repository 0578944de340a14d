/** Reading and validating JSON request bodies, with a clear 4xx for every way they go wrong. */
import type { Context } from 'hono';
import { HearthError, badRequest } from './errors.ts';
import { readBody } from './request-limits.ts';
import { jsonSyntaxError } from '../worker/common/json-check.ts';

/**
 * Checks that `bytes` are a JSON text (UTF-8) and returns the text unchanged,
 * so it can travel without re-serialising; an empty body stands for `{}` (as
 * in Lambda's Invoke). Multipart bodies are refused with 415.
 */
export function jsonText(bytes: Uint8Array, contentType: string | undefined): string {
  if (/^multipart\//i.test(contentType ?? '')) {
    throw new HearthError('UnsupportedMediaType', 'send the event as a JSON body (Content-Type: application/json)');
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw badRequest('InvalidJson', 'the body is not valid UTF-8');
  }
  if (text.trim() === '') return '{}';
  // Checked, not parsed: the event travels as this text, and JSON.parse of a
  // 6 MB body of nested arrays or of many keys holds the event loop for up to a second.
  const problem = jsonSyntaxError(text);
  if (problem) throw badRequest('InvalidJson', `the body is not valid JSON: ${problem}`);
  return text;
}

/** Reads (at most `maxBytes`) and checks a JSON body; returns the text. */
export async function readJsonText(c: Context, maxBytes: number, what = 'the body'): Promise<string> {
  return jsonText(await readBody(c, maxBytes, what), c.req.header('content-type'));
}

/** Like `readJsonText`, parsed. */
export async function readJsonBody(c: Context, maxBytes: number): Promise<unknown> {
  return JSON.parse(await readJsonText(c, maxBytes));
}
