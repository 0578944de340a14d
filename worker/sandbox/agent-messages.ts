/**
 * The trust boundary of the sandbox. The agent shares its process with the
 * tenant's code, so every frame on the agent socket is tenant input: it may
 * be forged, oversized, of the wrong shape, or full of text Postgres
 * refuses. This module is the one place such a message becomes something
 * the worker acts on: it checks the shape with a schema and caps every text
 * field. What it does not take from the agent at all: durations (the worker
 * measures them itself) and which call a result belongs to (the channel
 * checks the id against the call in flight).
 */
import { z } from 'zod';
import { LOG_CAP_BYTES, type HelloMessage, type InitResultMessage, type InvokeResultMessage } from './agent-protocol.ts';
import type { ReadFrame } from './frame-reader.ts';
import { storableText } from '../common/storable.ts';

/** Caps on what an agent's error may carry (bytes of UTF-8). */
export const ERROR_TYPE_CAP_BYTES = 256;
export const ERROR_MESSAGE_CAP_BYTES = 16 * 1024;
export const ERROR_STACK_CAP_BYTES = 32 * 1024;
/** Invocation ids are UUIDs or gateway-made ids; anything longer is forged. */
const ID_CAP_CHARS = 200;

/** Raised when an agent breaks the protocol: the function's fault, never retried. */
export class ProtocolViolation extends Error {
  override name = 'ProtocolViolation';
}

const capped = (maxBytes: number) => z.string().transform((s) => storableText(s, maxBytes).text);

const errorInfo = z.object({
  type: capped(ERROR_TYPE_CAP_BYTES),
  message: capped(ERROR_MESSAGE_CAP_BYTES),
  stack: capped(ERROR_STACK_CAP_BYTES).optional(),
});

/** Logs are cut at the cap by the worker too; a cut marks them truncated. */
const logFields = {
  logs: z.string(),
  logsTruncated: z.boolean(),
};

const hello = z.object({
  type: z.literal('hello'),
  runtime: z.string().max(64),
  agentVersion: z.number().int().min(0).max(1_000_000),
});

const initResult = z.object({
  type: z.literal('initResult'),
  ok: z.boolean(),
  fatal: z.boolean().optional(),
  error: errorInfo.optional(),
  ...logFields,
});

const invokeResult = z.object({
  type: z.literal('invokeResult'),
  id: z.string().max(ID_CAP_CHARS),
  ok: z.boolean(),
  fatal: z.boolean().optional(),
  error: errorInfo.optional(),
  ...logFields,
});

const agentMessage = z.discriminatedUnion('type', [hello, initResult, invokeResult]);

/**
 * An `invokeResult` as the worker holds it: the result is JSON text the
 * worker serialised itself (the tenant's value is never kept), or the
 * reason it could not be serialised.
 */
export interface CheckedInvokeResult extends Omit<InvokeResultMessage, 'result' | 'durationMs'> {
  resultJson: string | Error;
}

export type CheckedAgentMessage = HelloMessage | InitResultMessage | CheckedInvokeResult;

/**
 * Checks one read frame (`frame-reader.ts`: the message without its
 * result, and the result as JSON text) and returns it with every text field
 * capped and made storable; throws ProtocolViolation when it is not a
 * message an agent may send. `durationMs`, if sent, is dropped: the worker
 * keeps its own time. An `invokeResult` without a result stands for `null`.
 */
export function checkAgentMessage(value: unknown, result?: ReadFrame['result']): CheckedAgentMessage {
  const parsed = agentMessage.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue && issue.path.length > 0 ? ` at ${issue.path.join('.')}` : '';
    throw new ProtocolViolation(`the agent sent a malformed message${where}: ${issue?.message ?? 'invalid'}`);
  }
  const message = parsed.data;
  if (message.type === 'hello') return message;
  const logs = storableText(message.logs, LOG_CAP_BYTES);
  const checked = { ...message, logs: logs.text, logsTruncated: message.logsTruncated || logs.truncated };
  if (checked.type === 'initResult') return checked;
  const resultJson = result === undefined ? 'null' : 'json' in result ? result.json : new Error(result.unserialisable);
  return { ...checked, resultJson };
}
