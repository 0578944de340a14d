/**
 * The two Lua scripts a redis-stream source runs on the user's server.
 *
 * The take script hands back entries that are not new: this consumer's own
 * pending entries nobody holds (a dead holder's, or a read cut off for
 * size) and entries other consumers left idle. Those may be anything, so it
 * cuts them inside Redis, the only place a stream entry can be read in part:
 * a 100 MB field or 10,000 fields never cross the network whole. It takes
 * them one at a time (XCLAIM of one id, XAUTOCLAIM COUNT 1) and stops at a
 * byte budget, so it never takes more than it hands back, and it holds at
 * most one huge entry at a time in Redis's memory.
 */
import type { Redis } from 'ioredis';
import type { SourceMessage } from '../event-source.ts';
import { MAX_ATTRIBUTES, MAX_BODY_BYTES, MAX_NAME_BYTES, MAX_VALUE_BYTES, toMessage } from './redis-stream-entry.ts';

/** Lua's `unpack` stops near 8,000 values: a dead letter keeps the first 3,900 fields of a wider entry. */
export const MAX_DEAD_LETTER_VALUES = 7_800;

export type Reply = Buffer | number | null | Reply[];
/** The scripts as commands of a connection (`defineScripts`); the `Buffer` variants keep bytes as bytes. */
type Scripts = {
  hearthStreamTakeBuffer(...args: (string | number)[]): Promise<Reply[]>;
  hearthStreamDeadLetterBuffer(...args: (string | number)[]): Promise<Reply[]>;
};

/**
 * KEYS: stream. ARGV: group, consumer, count, byte budget, the four caps,
 * claim idle ms ('' = no XAUTOCLAIM), its cursor, then pending ids of this
 * consumer to take back. Returns {ids taken back, next claim cursor, bytes
 * used, entries}; an entry is {id, deliveries, truncated 0/1, name, value,
 * ...} with its fields cut as `toMessage` would cut them. Deleted entries
 * still pending (Redis 6.2 returns them with nil fields) are acknowledged.
 */
const TAKE_LUA = `
local stream, group, consumer = KEYS[1], ARGV[1], ARGV[2]
local want, budget = tonumber(ARGV[3]), tonumber(ARGV[4])
local bodyCap, maxAttrs, nameCap, valueCap = tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[8])
local claimIdle, cursor = ARGV[9], ARGV[10]
local used, huge, out = 0, false, {}
local function cut(s, n)
  if #s <= n then return s, false end
  if #s > bodyCap then huge = true end
  -- end on a UTF-8 character boundary, backing up at most 3 bytes (binary is still cut at n)
  local at, b = n, string.byte(s, n + 1)
  while at > n - 3 and at > 0 and b >= 128 and b < 192 do at = at - 1; b = string.byte(s, at + 1) end
  if b >= 128 and b < 192 then at = n end
  return string.sub(s, 1, at), true
end
local function take(entry, deliveries)
  local fields = entry[2]
  local e, t, size, bodyAt = {entry[1], deliveries, 0}, false, 0, nil
  for i = 1, #fields, 2 do if fields[i] == 'body' then bodyAt = i break end end
  if bodyAt then
    local b, c = cut(fields[bodyAt + 1], bodyCap)
    e[4], e[5], t, size = 'body', b, c, #b
    local n = 0
    for i = 1, #fields, 2 do
      if fields[i] ~= 'body' then
        if n == maxAttrs then t = true break end
        local k, ck = cut(fields[i], nameCap)
        local v, cv = cut(fields[i + 1], valueCap)
        e[#e + 1] = k
        e[#e + 1] = v
        t, n, size = t or ck or cv, n + 1, size + #k + #v
      end
    end
  else
    for i = 1, #fields, 2 do
      local k, v = fields[i], fields[i + 1]
      local room = bodyCap - size - #k
      if #v > room then
        if room > 0 then e[#e + 1] = k; e[#e + 1] = (cut(v, room)) end
        if #v > bodyCap or #k > bodyCap then huge = true end
        t, size = true, bodyCap
        break
      end
      e[#e + 1] = k
      e[#e + 1] = v
      size = size + #k + #v
    end
  end
  if t then e[3] = 1 end
  used, want = used + size + 64, want - 1
  out[#out + 1] = e
end
local function deliveries(id)
  local p = redis.call('XPENDING', stream, group, id, id, 1)
  if p[1] then return p[1][4] end
  return 1
end
local function open() return want > 0 and used < budget end
local retaken = 0
for i = 11, #ARGV do
  if not open() then break end
  local entry = redis.call('XCLAIM', stream, group, consumer, 0, ARGV[i])[1]
  if entry and entry[2] then take(entry, deliveries(ARGV[i]))
  elseif entry then redis.call('XACK', stream, group, ARGV[i]) end
  retaken = retaken + 1
end
if claimIdle ~= '' then
  for _ = 1, 50 do
    if not open() then break end
    local r = redis.call('XAUTOCLAIM', stream, group, consumer, claimIdle, cursor, 'COUNT', 1)
    cursor = r[1]
    for _, entry in ipairs(r[2]) do
      if entry[2] then take(entry, deliveries(entry[1])) else redis.call('XACK', stream, group, entry[1]) end
    end
    if cursor == '0-0' then break end
  end
end
if huge then collectgarbage('collect') end
return {retaken, cursor, used, out}
`;

/**
 * KEYS: stream, dead-letter stream. ARGV: reason, most values kept, ids.
 * Copies each entry whole on the server, plus `hearth-reason` and
 * `hearth-source-id`; returns the ids no longer in the stream.
 */
const DEAD_LETTER_LUA = `
local missing = {}
for i = 3, #ARGV do
  local found = redis.call('XRANGE', KEYS[1], ARGV[i], ARGV[i])[1]
  if found then
    local fields, args = found[2], {KEYS[2], '*'}
    local n = math.min(#fields, tonumber(ARGV[2]))
    for j = 1, n do args[#args + 1] = fields[j] end
    if n < #fields then args[#args + 1] = 'hearth-truncated'; args[#args + 1] = 'true' end
    args[#args + 1] = 'hearth-reason'; args[#args + 1] = ARGV[1]
    args[#args + 1] = 'hearth-source-id'; args[#args + 1] = ARGV[i]
    redis.call('XADD', unpack(args))
  else missing[#missing + 1] = ARGV[i] end
end
return missing
`;

/** The scripts on one connection (EVALSHA, falling back to EVAL once per server). */
export class StreamScripts {
  private readonly redis: Redis & Scripts;

  constructor(redis: Redis) {
    redis.defineCommand('hearthStreamTake', { numberOfKeys: 1, lua: TAKE_LUA });
    redis.defineCommand('hearthStreamDeadLetter', { numberOfKeys: 2, lua: DEAD_LETTER_LUA });
    this.redis = redis as Redis & Scripts;
  }

  /**
   * Takes back `retake` (pending ids of `consumer`, in order) and, with
   * `claim`, entries idle over `claim.idleMs` from `claim.cursor`, until
   * `want` entries or `budget` bytes. `retaken`: how many of `retake` were
   * dealt with (taken, or dropped as deleted).
   */
  async take(options: {
    stream: string; group: string; consumer: string; want: number; budget: number;
    retake: readonly string[]; claim: { idleMs: number; cursor: string } | null;
  }): Promise<{ retaken: number; cursor: string; bytes: number; messages: SourceMessage[] }> {
    const { stream, group, consumer, want, budget, retake, claim } = options;
    const reply = await this.redis.hearthStreamTakeBuffer(
      stream, group, consumer, want, budget, MAX_BODY_BYTES, MAX_ATTRIBUTES, MAX_NAME_BYTES, MAX_VALUE_BYTES,
      claim ? claim.idleMs : '', claim ? claim.cursor : '0-0', ...retake,
    );
    const [retaken, cursor, bytes, entries] = reply as [number, Buffer, number, Reply[][]];
    const messages = entries.map((entry) => {
      const [id, deliveries, truncated, ...fields] = entry as [Buffer, number, number, ...Buffer[]];
      return toMessage(id.toString('latin1'), fields, deliveries, truncated === 1, stream);
    });
    return { retaken, cursor: cursor.toString('latin1'), bytes, messages };
  }

  /** Copies entries `ids` of `stream` to `deadLetter` with `reason`; resolves with the ids no longer in `stream`. */
  async deadLetter(stream: string, deadLetter: string, reason: string, ids: readonly string[]): Promise<string[]> {
    const missing = await this.redis.hearthStreamDeadLetterBuffer(stream, deadLetter, reason, MAX_DEAD_LETTER_VALUES, ...ids);
    return (missing as Buffer[]).map((id) => id.toString('latin1'));
  }
}
