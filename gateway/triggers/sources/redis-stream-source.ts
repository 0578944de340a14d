/**
 * The Redis Streams adapter of the `EventSource` port: a consumer group on a
 * stream the user runs, read by one consumer name (the lease holder's). With
 * its `redis-stream-*` helpers (connection, entry, scripts, event) it is the
 * only code that talks to a user's stream.
 *
 * Two connections. The reader only runs `XREADGROUP ... BLOCK` for new
 * entries, so a blocking read never delays an ack; it is cut off (and
 * reconnects) when one reply grows past 8 MB, so a 100 MB entry is never
 * buffered whole. Entries of a reply cut off are in this consumer's pending
 * list and come back, cut to size on the server, through the take script
 * (`redis-stream-scripts.ts`), as do a dead holder's entries and entries
 * other consumers left idle. The other connection does everything else.
 *
 * Needs Redis 6.2+ (XAUTOCLAIM) and EVAL rights; `lag` needs Redis 7.
 */
import type { Redis } from 'ioredis';
import type { EventSource, SourceMessage } from '../event-source.ts';
import { SourceError } from '../event-source.ts';
import type { RedisStreamSettings } from '../trigger-settings.ts';
import { checkStream, connect, CONNECT_TIMEOUT_MS, failure, MAX_BLOCK_MS, quit, targetOf, type Log, type Target } from './redis-stream-connection.ts';
import { clipBytes, MAX_VALUE_BYTES, toMessage } from './redis-stream-entry.ts';
import { StreamScripts, type Reply } from './redis-stream-scripts.ts';

export { checkRedisStreamSettings, openRedisStreamPublisher } from './redis-stream-connection.ts';
export { MAX_BODY_BYTES } from './redis-stream-entry.ts';
export { redisStreamEvent, type RedisStreamRecord } from './redis-stream-event.ts';

/** A pull stops taking entries once it holds this many bytes of bodies. */
export const MAX_PULL_BYTES = 6 * 1024 * 1024;
/** A reader reply growing past this is cut off; its entries are then taken back cut to size. */
export const MAX_READ_BYTES = 8 * 1024 * 1024;
/** Entries of other consumers idle this long are taken over (their consumer is presumed dead). */
export const CLAIM_IDLE_MS = 60_000;
/** How often a scan for such entries starts. */
const CLAIM_EVERY_MS = 10_000;
/** How long a pull waits when there is nothing (the caller loops). */
const IDLE_PULL_MS = 1_000;
const PENDING_PAGE = 200;

/**
 * Opens the trigger's consumer group (created at `$` for `start: "latest"`,
 * `0` for `"earliest"` when missing; an existing group keeps its position) as
 * consumer `options.consumer`. Entries that consumer took before and never
 * acknowledged (its previous holder died) are handed over first.
 */
export async function openRedisStreamSource(
  settings: RedisStreamSettings,
  options: { consumer: string; log?: Log },
): Promise<EventSource> {
  const target = targetOf(settings.url);
  const commands = await connect(settings.url, target, true, options.log);
  let reader: Redis;
  try {
    await checkStream(commands, settings, target);
    await commands.xgroup('CREATE', settings.stream, settings.group, settings.start === 'earliest' ? '0' : '$').catch((err: unknown) => {
      if (!/BUSYGROUP/.test(String(err))) throw failure(err, `creating group ${JSON.stringify(settings.group)}`, target);
    });
    reader = await connect(settings.url, target, true, options.log, true);
  } catch (err) {
    commands.disconnect();
    throw err instanceof SourceError ? err : failure(err, 'opening the stream', target);
  }
  return new RedisStreamSource(commands, reader, settings, options.consumer, target);
}

class RedisStreamSource implements EventSource {
  private readonly scripts: StreamScripts;
  /** Handed over, not yet acknowledged: never handed over again while this source lives. */
  private readonly held = new Set<string>();
  /** Scanning this consumer's pending list for entries nobody holds (at open, and after a read was cut off or lost). */
  private recovering = true;
  private recoverAfter = '-';
  private claimCursor = '0-0';
  private nextClaimAt = 0;
  /** COUNT of the next read: quartered when a reply was cut off for size, doubled back after small ones. */
  private readCount = 1_000;
  /** Bytes of the reader's reply so far; -1 when not watching. */
  private replyBytes = -1;
  /** True from this source's own cut of an oversized reply until the reader is back: Redis is not away, so a read waits for it. */
  private cutByUs = false;
  private closed = false;

  constructor(
    private readonly commands: Redis,
    private readonly reader: Redis,
    private readonly settings: RedisStreamSettings,
    private readonly consumer: string,
    private readonly target: Target,
  ) {
    this.scripts = new StreamScripts(commands);
    const watch = (chunk: Buffer) => {
      if (this.replyBytes < 0) return;
      this.replyBytes += chunk.length;
      if (this.replyBytes > MAX_READ_BYTES) {
        this.replyBytes = -1;
        this.cutByUs = true;
        reader.disconnect(true);
      }
    };
    reader.stream.on('data', watch);
    reader.on('connect', () => reader.stream.on('data', watch));
    reader.on('ready', () => {
      this.cutByUs = false;
    });
  }

  async pull(max: number, windowMs: number): Promise<SourceMessage[]> {
    const want = Math.max(1, Math.floor(max));
    const messages: SourceMessage[] = [];
    const idleEnd = Date.now() + IDLE_PULL_MS;
    let bytes = 0;
    let firstAt = 0;
    let readOnce = false;
    const add = (taken: SourceMessage[]) => {
      for (const m of taken) {
        if (this.held.has(m.id)) continue; // this consumer's own entry, taken back by XAUTOCLAIM
        this.held.add(m.id);
        messages.push(m);
        bytes += m.body.length;
      }
      if (messages.length > 0 && firstAt === 0) firstAt = Date.now();
    };
    for (;;) {
      if (this.closed) throw new SourceError('redis-stream: source is closed');
      if (this.recovering || this.claimCursor !== '0-0' || Date.now() >= this.nextClaimAt) {
        add(await this.takeBack(want - messages.length, MAX_PULL_BYTES - bytes));
        if (messages.length >= want || bytes >= MAX_PULL_BYTES) return messages;
        if (this.recovering) continue; // more pages of the pending list first, in order
      }
      const end = messages.length > 0 ? firstAt + windowMs : idleEnd;
      const left = end - Date.now();
      // A pull's first read never waits, so entries already there go out at once (with any taken back), even past the window.
      if (left <= 0 && (messages.length === 0 || readOnce)) return messages;
      const read = await this.readNew(want - messages.length, readOnce ? left : 0);
      readOnce = true;
      if (read === null) continue; // cut off for size: its entries come back through takeBack
      add(read);
      if (messages.length >= want || bytes >= MAX_PULL_BYTES) return messages;
      if (messages.length > 0 && Date.now() >= firstAt + windowMs) return messages;
    }
  }

  /** One run of the take script: this consumer's pending entries nobody holds, then (when due) others' idle ones. */
  private async takeBack(want: number, budget: number): Promise<SourceMessage[]> {
    const page = this.recovering ? await this.pendingNobodyHolds() : { ids: [], complete: true };
    if (page.complete && page.ids.length === 0) this.recovering = false;
    const claim = !this.recovering && (this.claimCursor !== '0-0' || Date.now() >= this.nextClaimAt);
    if (page.ids.length === 0 && !claim) return [];
    let pass: Awaited<ReturnType<StreamScripts['take']>>;
    try {
      pass = await this.scripts.take({
        stream: this.settings.stream, group: this.settings.group, consumer: this.consumer, want, budget,
        retake: page.ids, claim: claim ? { idleMs: CLAIM_IDLE_MS, cursor: this.claimCursor } : null,
      });
    } catch (err) {
      this.lost();
      throw this.readFailure(err);
    }
    if (this.recovering) {
      if (pass.retaken > 0) this.recoverAfter = page.ids[pass.retaken - 1]!;
      if (pass.retaken === page.ids.length) {
        if (page.complete) this.recovering = false;
        else if (page.lastRow) this.recoverAfter = page.lastRow;
      }
    }
    if (claim) {
      this.claimCursor = pass.cursor;
      if (pass.cursor === '0-0') this.nextClaimAt = Date.now() + CLAIM_EVERY_MS;
    }
    return pass.messages;
  }

  /** A page of this consumer's pending ids that no one holds (ids only: cheap); `complete` when the scan ends with it. */
  private async pendingNobodyHolds(): Promise<{ ids: string[]; complete: boolean; lastRow?: string }> {
    for (let pages = 0; pages < 10; pages++) {
      const start = this.recoverAfter === '-' ? '-' : `(${this.recoverAfter}`;
      const rows = (await this.commands
        .xpending(this.settings.stream, this.settings.group, start, '+', PENDING_PAGE, this.consumer)
        .catch((err: unknown) => {
          throw this.readFailure(err);
        })) as [string, string, number, number][];
      const ids = rows.map((row) => row[0]).filter((id) => !this.held.has(id));
      const complete = rows.length < PENDING_PAGE;
      if (ids.length > 0 || complete) return { ids, complete, lastRow: rows.at(-1)?.[0] };
      this.recoverAfter = rows.at(-1)![0];
    }
    return { ids: [], complete: false };
  }

  /** New entries (`>`), waiting up to `ms` (at most 5 s; not at all when ≤ 0) for the first; null when the reply was cut off for size. */
  private async readNew(want: number, ms: number): Promise<SourceMessage[] | null> {
    if (this.reader.status !== 'ready') {
      await new Promise<void>((resolve) => {
        const ready = () => {
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(() => {
          this.reader.off('ready', ready);
          resolve();
        }, this.cutByUs ? CONNECT_TIMEOUT_MS : Math.min(Math.max(ms, 100), CONNECT_TIMEOUT_MS));
        this.reader.once('ready', ready);
      });
      if ((this.reader.status as string) !== 'ready') throw new SourceError(`redis-stream: cannot reach ${this.target.label} (reconnecting)`);
    }
    const count = Math.min(want, this.readCount);
    const block = ms > 0 ? ['BLOCK', Math.min(Math.ceil(ms), MAX_BLOCK_MS)] : [];
    this.replyBytes = 0;
    let reply: Reply;
    try {
      reply = await this.reader.callBuffer('XREADGROUP', 'GROUP', this.settings.group, this.consumer, 'COUNT', count,
        ...block, 'STREAMS', this.settings.stream, '>') as Reply;
    } catch (err) {
      const cutOff = this.replyBytes < 0;
      this.replyBytes = -1;
      this.lost();
      if (!cutOff) throw this.readFailure(err);
      this.readCount = Math.max(1, Math.floor(count / 4));
      return null;
    }
    const size = this.replyBytes;
    this.replyBytes = -1;
    if (size < MAX_READ_BYTES / 4) this.readCount = Math.min(this.readCount * 2, 1_000);
    if (reply === null) return [];
    const entries = ((reply as Reply[][])[0]?.[1] ?? []) as [Buffer, Buffer[]][];
    return entries.map(([id, fields]) => toMessage(id.toString('latin1'), fields, 1, false, this.settings.stream));
  }

  /** A read failed or was cut off: entries may sit in this consumer's pending list that nobody holds. */
  private lost(): void {
    this.recovering = true;
    this.recoverAfter = '-';
  }

  private readFailure(err: unknown): SourceError {
    if (/NOGROUP/.test(String(err))) {
      return new SourceError(`redis-stream: stream ${JSON.stringify(this.settings.stream)} or its group ${JSON.stringify(this.settings.group)} no longer exists on ${this.target.label}`);
    }
    return failure(err, 'reading the stream', this.target);
  }

  async ack(messages: readonly SourceMessage[]): Promise<void> {
    for (const ids of chunks(messages)) {
      await this.commands.xack(this.settings.stream, this.settings.group, ...ids).catch((err: unknown) => {
        throw failure(err, 'XACK', this.target);
      });
      for (const id of ids) this.held.delete(id);
    }
  }

  async touch(messages: readonly SourceMessage[]): Promise<void> {
    for (const ids of chunks(messages)) {
      await this.commands.call('XCLAIM', this.settings.stream, this.settings.group, this.consumer, '0', ...ids, 'JUSTID').catch((err: unknown) => {
        throw failure(err, 'XCLAIM', this.target);
      });
    }
  }

  /**
   * Copies each entry whole on the server (every field, up to 3,900, plus
   * `hearth-reason` and `hearth-source-id`); an entry trimmed away meanwhile
   * is written from what this source held (`body` and the attributes).
   */
  async deadLetter(messages: readonly SourceMessage[], reason: string): Promise<boolean> {
    const dlq = this.settings.deadLetter;
    if (!dlq) return false;
    const why = clipBytes(Buffer.from(reason), MAX_VALUE_BYTES).toString('utf8');
    const byId = new Map(messages.map((m) => [m.id, m]));
    try {
      for (const ids of chunks(messages)) {
        for (const id of await this.scripts.deadLetter(this.settings.stream, dlq, why, ids)) {
          const m = byId.get(id)!;
          const fields = Object.entries(m.attributes).flat();
          await this.commands.call('XADD', dlq, '*', 'body', m.body, ...fields, 'hearth-reason', why, 'hearth-source-id', m.id);
        }
      }
    } catch (err) {
      throw failure(err, `writing to dead-letter stream ${JSON.stringify(dlq)}`, this.target);
    }
    return true;
  }

  async lag(): Promise<number | null> {
    const groups = (await this.commands.xinfo('GROUPS', this.settings.stream).catch((err: unknown) => {
      throw failure(err, 'XINFO GROUPS', this.target);
    })) as unknown[][];
    for (const group of groups) {
      const fields = new Map<unknown, unknown>();
      for (let i = 0; i + 1 < group.length; i += 2) fields.set(group[i], group[i + 1]);
      if (fields.get('name') === this.settings.group) {
        const lag = fields.get('lag');
        return typeof lag === 'number' ? lag : null;
      }
    }
    return null;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.reader.disconnect();
    await quit(this.commands);
  }
}

function chunks(messages: readonly SourceMessage[]): string[][] {
  const ids = [...new Set(messages.map((m) => m.id))];
  const out: string[][] = [];
  for (let i = 0; i < ids.length; i += 1_000) out.push(ids.slice(i, i + 1_000));
  return out;
}
