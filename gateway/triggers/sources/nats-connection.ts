/**
 * One NATS connection and its health, for the source, the publisher and the
 * settings check alike: connecting within 3 s to the URL's one server, the
 * guard that fails a call at once (SourceError) when the connection drops
 * rather than leaving it to hang, and the wording of the client's errors
 * with any credential from the URL blotted out. Kept apart so every caller
 * gets the same timeouts and the same sentences.
 */
import { connect, Events, type ConnectionOptions, type NatsConnection } from 'nats';
import { SourceError } from '../event-source.ts';
import { clip } from './nats-event.ts';

const CONNECT_TIMEOUT_MS = 3000;
/** How long a call to the server may take before the guard gives up on it. */
export const ANSWER_TIMEOUT_MS = 10_000;

const decoded = (text: string) => { try { return decodeURIComponent(text); } catch { return text; } };

/** JetStream's error code (`api_error.err_code`) of an error or of the error it wraps. */
export const apiCode = (err: unknown): number | undefined => {
  const own = (e: unknown) => (e as { api_error?: { err_code?: number } } | undefined)?.api_error?.err_code;
  return own(err) ?? own((err as { cause?: unknown } | undefined)?.cause);
};
/** The client's error code (`CONNECTION_REFUSED`, `503`...), or '' for none. */
export const codeOf = (err: unknown) => String((err as { code?: unknown } | undefined)?.code ?? '');

/** Readable causes for the codes the client reports; anything else is its message, bounded. */
export function describeError(err: unknown): string {
  const code = codeOf(err);
  const known: Record<string, string> = {
    CONNECTION_REFUSED: 'connection refused', CONNECTION_TIMEOUT: 'no answer within 3 s', TIMEOUT: 'no answer in time',
    AUTHORIZATION_VIOLATION: 'authorization violation (check the user, password or token in the URL)',
    SERVER_OPT_NA: 'the server does not offer TLS', CONNECTION_CLOSED: 'the connection is closed',
    '503': 'no responders (JetStream is off, or nothing serves that subject)',
  };
  return clip(known[code] ?? (err instanceof Error ? err.message : String(err)), 512);
}

/**
 * One connection and its health. `guard` runs a call unless the connection is
 * down, and fails it (SourceError) at once when the connection drops, after
 * `timeoutMs`, or when the client throws, even synchronously (it does when closed).
 */
export interface Link {
  nc: NatsConnection;
  where: string;
  guard<T>(work: () => Promise<T>, what: string, timeoutMs?: number): Promise<T>;
  close(): Promise<void>;
}

/** Connects within 3 s to the URL's one server (cluster gossip ignored: a broker must not steer us to other hosts). */
export async function openLink(url: string, reconnect: boolean): Promise<Link> {
  const u = new URL(url);
  const where = `${u.hostname}:${u.port || '4222'}`;
  const user = decoded(u.username), pass = decoded(u.password);
  const secrets = [u.username, u.password, user, pass].filter((s) => s.length >= 3);
  const scrub = (text: string) => secrets.reduce((t, s) => t.split(s).join('***'), text);
  const options: ConnectionOptions = {
    servers: where, name: 'hearth-trigger', timeout: CONNECT_TIMEOUT_MS, ignoreClusterUpdates: true,
    maxReconnectAttempts: reconnect ? 10 : 0, reconnectTimeWait: 1000, pingInterval: 10_000, maxPingOut: 2,
    ...(user && pass ? { user, pass } : user ? { token: user } : {}), ...(u.protocol === 'tls:' ? { tls: {} } : {}),
  };
  const attempt = connect(options);
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error('no answer within 3 s')), CONNECT_TIMEOUT_MS + 250); });
  let nc: NatsConnection;
  try {
    nc = await Promise.race([attempt, late]);
  } catch (err) {
    attempt.then((nc) => nc.close()).catch(() => {}); // one that connects after we gave up
    throw new SourceError(`nats: cannot connect to ${where}: ${scrub(describeError(err))}`);
  } finally {
    clearTimeout(timer);
  }
  let failure: SourceError | null = null;
  const waiters = new Set<(err: SourceError) => void>();
  const drop = (err: SourceError) => { failure = err; for (const w of [...waiters]) w(err); };
  let closed = false;
  void (async () => {
    for await (const s of nc.status()) {
      if (s.type === Events.Disconnect) drop(new SourceError(`nats: lost the connection to ${where}; reconnecting`));
      else if (s.type === Events.Reconnect && !closed) failure = null;
    }
  })().catch(() => {});
  nc.closed().then((err) => {
    closed = true;
    drop(new SourceError(`nats: the connection to ${where} is closed${err ? ` (${scrub(describeError(err))})` : ''}`));
  }, () => {});
  const guard = <T>(call: () => Promise<T>, what: string, timeoutMs = ANSWER_TIMEOUT_MS): Promise<T> => {
    if (failure) return Promise.reject(failure);
    let work: Promise<T>;
    try { work = call(); } catch (err) { work = Promise.reject(err); }
    work.catch(() => {}); // a call given up on must not reject unhandled later
    return new Promise<T>((resolve, reject) => {
      const settle = (fn: () => void) => { clearTimeout(t); waiters.delete(lost); fn(); };
      const lost = (err: SourceError) => settle(() => reject(err));
      const t = setTimeout(() => lost(new SourceError(`nats: ${what} on ${where} got no answer within ${Math.ceil(timeoutMs / 1000)} s`)), timeoutMs);
      waiters.add(lost);
      work.then((v) => settle(() => resolve(v)), (err) => settle(() => reject(err instanceof SourceError
        ? err : new SourceError(`nats: ${what} on ${where} failed: ${scrub(describeError(err))}`, { cause: err }))));
    });
  };
  const close = async () => {
    if (nc.isClosed()) return;
    await guard(() => nc.drain(), 'drain', 5000).catch(() => nc.close()).catch(() => {});
  };
  return { nc, where, guard, close };
}
