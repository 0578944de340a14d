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
import { LOG_CAP_BYTES, type AgentMessage } from './agent-protocol.ts';
import { storableText } from './storable.ts';

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
  result: z.unknown().optional(),
  error: errorInfo.optional(),
  ...logFields,
});

const agentMessage = z.discriminatedUnion('type', [hello, initResult, invokeResult]);

/**
 * Checks one decoded frame and returns it with every text field capped and
 * made storable; throws ProtocolViolation when it is not a message an agent
 * may send. `durationMs`, if sent, is dropped: the worker keeps its own time.
 */
export function checkAgentMessage(value: unknown): AgentMessage {
  const parsed = agentMessage.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue && issue.path.length > 0 ? ` at ${issue.path.join('.')}` : '';
    throw new ProtocolViolation(`the agent sent a malformed message${where}: ${issue?.message ?? 'invalid'}`);
  }
  const message = parsed.data;
  if (message.type === 'hello') return message;
  const logs = storableText(message.logs, LOG_CAP_BYTES);
  return { ...message, logs: logs.text, logsTruncated: message.logsTruncated || logs.truncated };
}
