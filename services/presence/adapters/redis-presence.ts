// Device streams and last seen in Redis, shared by every gateway. Per user (hash tag {userId},
// one cluster slot): a hash of device id -> "sessionId|expiresAt" and a meta hash with the
// version and last seen. Redis 7.0 cannot expire one hash field, so each field carries its own
// expiry and scripts compare it with the caller's clock. One sorted set, presence:expiring, holds
// each user at the latest expiry of their streams, so a sweep finds users whose gateway died
// without closing their streams. Losing Redis loses only last-seen times: gateways re-assert
// their streams on the next tick.
import type { Redis } from "ioredis";
import { defineScript } from "../../storage/redis.ts";
import type { PresenceStore, StreamKey, Transition, UserPresence } from "../ports.ts";

/** Last seen outlives the streams by this much (then the user shows as never seen). */
const metaTtlMs = 30 * 24 * 60 * 60_000;

// Shared Lua: walks the user's streams, deleting expired ones (except the device being written),
// and tells whether any other stream is live; `last` is the latest expiry among deleted ones.
const scan = `
local live = false
local last = 0
local fields = redis.call('HGETALL', KEYS[1])
for i = 1, #fields, 2 do
  local device = fields[i]
  local expires = tonumber(string.match(fields[i + 1], '|(%d+)$'))
  if expires > now then
    if device ~= skip then live = true end
  elseif device ~= skip then
    redis.call('HDEL', KEYS[1], device)
    if expires > last then last = expires end
  end
end
`;

const bump = `
local version = redis.call('HINCRBY', KEYS[2], 'ver', 1)
redis.call('PEXPIRE', KEYS[2], ARGV[#ARGV])
`;

// KEYS streams, meta; ARGV device, session, expiresAt, now, metaTtl. Returns {changed, version, seen}.
const connectLua = `
local now = tonumber(ARGV[4])
local skip = ARGV[1]
${scan}
local current = redis.call('HGET', KEYS[1], ARGV[1])
if current and tonumber(string.match(current, '|(%d+)$')) > now then live = true end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2] .. '|' .. ARGV[3])
-- The hash outlives its streams by ten minutes, so a sweep still finds streams that expired.
local keep = tonumber(ARGV[3]) + 600000
redis.call('PEXPIREAT', KEYS[1], keep, 'NX')
redis.call('PEXPIREAT', KEYS[1], keep, 'GT')
if live then return {0} end
${bump}
return {1, version, redis.call('HGET', KEYS[2], 'seen') or '0'}
`;

// KEYS streams, meta; ARGV device, session, now, metaTtl.
const disconnectLua = `
local current = redis.call('HGET', KEYS[1], ARGV[1])
if not current or string.match(current, '^(.*)|') ~= ARGV[2] then return {0} end
redis.call('HDEL', KEYS[1], ARGV[1])
local now = tonumber(ARGV[3])
local skip = ARGV[1]
${scan}
if live then return {0} end
redis.call('HSET', KEYS[2], 'seen', ARGV[3])
${bump}
return {1, version, ARGV[3]}
`;

// KEYS streams, meta; ARGV device, session, expiresAt, now, metaTtl. Leaves a newer session.
const refreshLua = `
local current = redis.call('HGET', KEYS[1], ARGV[1])
if current and string.match(current, '^(.*)|') ~= ARGV[2] then return {0} end
${connectLua.slice(connectLua.indexOf("local now"))}
`;

// KEYS streams, meta; ARGV now, metaTtl. Returns {1, version, seen} when the user went offline,
// {2, latest live expiry} while streams remain, {0} when nothing is held.
const expireLua = `
local now = tonumber(ARGV[1])
local skip = ''
${scan}
if live then
  local latest = 0
  local fields = redis.call('HVALS', KEYS[1])
  for i = 1, #fields do
    local expires = tonumber(string.match(fields[i], '|(%d+)$'))
    if expires > latest then latest = expires end
  end
  return {2, latest}
end
if last == 0 then return {0} end
redis.call('HSET', KEYS[2], 'seen', last)
${bump}
return {1, version, last}
`;

// KEYS expiring; ARGV user, now. Drops the user only if no connect moved its expiry past now.
const dropLua = `
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if score and tonumber(score) <= tonumber(ARGV[2]) then redis.call('ZREM', KEYS[1], ARGV[1]) end
return 1
`;

/** Users swept per round trip. */
const sweepBatch = 500;

type Reply = (string | number)[];

export class RedisPresenceStore implements PresenceStore {
  readonly #client: Redis;
  readonly #prefix: string;
  readonly #connect: ReturnType<typeof defineScript>;
  readonly #disconnect: ReturnType<typeof defineScript>;
  readonly #refresh: ReturnType<typeof defineScript>;
  readonly #expire: ReturnType<typeof defineScript>;
  readonly #drop: ReturnType<typeof defineScript>;

  /** `prefix` ("parley:") namespaces the keys; tests use a fresh one. */
  constructor(client: Redis, options: { prefix?: string } = {}) {
    this.#client = client;
    this.#prefix = options.prefix ?? "parley:";
    this.#connect = defineScript(client, "parleyPresenceConnect", connectLua);
    this.#disconnect = defineScript(client, "parleyPresenceDisconnect", disconnectLua);
    this.#refresh = defineScript(client, "parleyPresenceRefresh", refreshLua);
    this.#expire = defineScript(client, "parleyPresenceExpire", expireLua);
    this.#drop = defineScript(client, "parleyPresenceDrop", dropLua);
  }

  #keys(userId: string): string[] {
    return [`${this.#prefix}presence:{${userId}}`, `${this.#prefix}presence:{${userId}}:meta`];
  }

  get #expiring(): string {
    return `${this.#prefix}presence:expiring`;
  }

  async connect(stream: StreamKey, ttlMs: number, now: number) {
    const expiresAt = now + Math.ceil(ttlMs);
    const reply = (await this.#connect.run(this.#keys(stream.userId), [
      stream.deviceId,
      stream.sessionId,
      expiresAt,
      now,
      metaTtlMs,
    ])) as Reply;
    await this.#client.zadd(this.#expiring, "GT", expiresAt, stream.userId);
    return transition(stream.userId, true, reply);
  }

  async disconnect(stream: StreamKey, now: number) {
    const reply = (await this.#disconnect.run(this.#keys(stream.userId), [
      stream.deviceId,
      stream.sessionId,
      now,
      metaTtlMs,
    ])) as Reply;
    return transition(stream.userId, false, reply);
  }

  async refresh(streams: StreamKey[], ttlMs: number, now: number) {
    const transitions: Transition[] = [];
    const expiresAt = now + Math.ceil(ttlMs);
    for (let i = 0; i < streams.length; i += sweepBatch) {
      const chunk = streams.slice(i, i + sweepBatch);
      const pipeline = this.#client.pipeline();
      for (const s of chunk) {
        this.#refresh.queue(pipeline, this.#keys(s.userId), [s.deviceId, s.sessionId, expiresAt, now, metaTtlMs]);
        pipeline.zadd(this.#expiring, "GT", expiresAt, s.userId);
      }
      const results = values(await pipeline.exec());
      for (const [j, s] of chunk.entries()) {
        const t = transition(s.userId, true, results[2 * j] as Reply);
        if (t) transitions.push(t);
      }
    }
    return transitions;
  }

  async expire(now: number) {
    const due = await this.#client.zrangebyscore(this.#expiring, "-inf", now, "LIMIT", 0, sweepBatch);
    if (due.length === 0) return [];
    const sweep = this.#client.pipeline();
    for (const userId of due) this.#expire.queue(sweep, this.#keys(userId), [now, metaTtlMs]);
    const replies = values(await sweep.exec()) as Reply[];
    const transitions: Transition[] = [];
    const settle = this.#client.pipeline();
    for (const [i, userId] of due.entries()) {
      const reply = replies[i] as Reply;
      if (Number(reply[0]) === 2) settle.zadd(this.#expiring, "GT", Number(reply[1]), userId);
      else this.#drop.queue(settle, [this.#expiring], [userId, now]);
      const t = transition(userId, false, reply);
      if (t) transitions.push(t);
    }
    values(await settle.exec());
    return transitions;
  }

  async get(userIds: string[], now: number) {
    const users = [...new Set(userIds)];
    const found = new Map<string, UserPresence>();
    if (users.length === 0) return found;
    const pipeline = this.#client.pipeline();
    for (const userId of users) {
      const [streams, meta] = this.#keys(userId) as [string, string];
      pipeline.hvals(streams);
      pipeline.hmget(meta, "ver", "seen");
    }
    const results = values(await pipeline.exec());
    for (const [i, userId] of users.entries()) {
      const streams = results[2 * i] as string[];
      const [version, seen] = results[2 * i + 1] as (string | null)[];
      found.set(userId, {
        online: streams.some((value) => Number(value.slice(value.lastIndexOf("|") + 1)) > now),
        lastSeenAt: seen ? Number(seen) : null,
        version: version ? Number(version) : 0,
      });
    }
    return found;
  }
}

function transition(userId: string, online: boolean, reply: Reply): Transition | undefined {
  if (Number(reply[0]) !== 1) return undefined;
  const seen = Number(reply[2]);
  return { userId, online, version: Number(reply[1]), lastSeenAt: seen > 0 ? seen : null };
}

/** Pipeline results as values; the first failed command fails the call. */
function values(results: [Error | null, unknown][] | null): unknown[] {
  if (!results) throw new Error("redis pipeline was discarded");
  return results.map(([error, value]) => {
    if (error) throw error;
    return value;
  });
}
