// Routes in Redis, shared by every gateway and fanout worker: one hash per user, a field per
// device, so a lookup is one plain HGETALL per user (no script: fanout looks up every recipient
// of every event, and a script call costs Redis about ten times a HGETALL). Redis 7.0
// cannot expire one field of a hash, so each value carries its expiry time (the writer's clock)
// and readers skip expired ones; the writes drop them, and the hash itself expires with its
// longest-lived route. All of a user's routes sit under the hash tag {userId}, one cluster slot.
// Losing Redis loses no message: gateways re-create their routes on the next heartbeat tick
// (refresh).
import type { Redis } from "ioredis";
import { defineScript } from "../../storage/redis.ts";
import type { Route, RouteRegistry } from "../ports.ts";

// A field's value: {"gatewayId":…,"sessionId":…,"expiresAt":ms}. The user and device are the key
// and the field. `live(value, now)` in Lua and `expiresAt > now` in lookup read the same rule.
const helpers = `
local function live(value, now)
  return value and cjson.decode(value).expiresAt > now
end
-- Drops the hash's expired fields, then makes the hash live as long as its longest-lived route:
-- NX sets a lifetime on a new hash, GT only ever lengthens it.
local function tidy(key, now, ttl)
  local all = redis.call('HGETALL', key)
  for i = 1, #all, 2 do
    if not live(all[i + 1], now) then redis.call('HDEL', key, all[i]) end
  end
  redis.call('PEXPIRE', key, ttl, 'NX')
  redis.call('PEXPIRE', key, ttl, 'GT')
end
`;

// KEYS user hash; ARGV device id, value, ttl ms, now ms.
const registerLua = `${helpers}
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
tidy(KEYS[1], tonumber(ARGV[4]), ARGV[3])
return 1
`;

// KEYS user hash; ARGV device id, value, ttl ms, now ms, session id. Extends the route, or
// re-creates it when it is missing or expired (Redis lost it, or a refresh came late); leaves a
// live route of another (newer) session.
const refreshLua = `${helpers}
local now = tonumber(ARGV[4])
local current = redis.call('HGET', KEYS[1], ARGV[1])
local alive = live(current, now)
if alive and cjson.decode(current).sessionId ~= ARGV[5] then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
tidy(KEYS[1], now, ARGV[3])
if alive then return 1 end
return 2
`;

// KEYS user hash; ARGV device id, session id. Compare-and-delete on the session.
const unregisterLua = `
local current = redis.call('HGET', KEYS[1], ARGV[1])
if current and cjson.decode(current).sessionId ~= ARGV[2] then return 0 end
redis.call('HDEL', KEYS[1], ARGV[1])
return 1
`;

/** Refresh is sent in pipelines of this many routes (a gateway may hold many thousands). */
const pipelineChunk = 500;

interface StoredRoute {
  gatewayId: string;
  sessionId: string;
  expiresAt: number;
}

export class RedisRouteRegistry implements RouteRegistry {
  readonly #client: Redis;
  readonly #prefix: string;
  readonly #register: ReturnType<typeof defineScript>;
  readonly #refresh: ReturnType<typeof defineScript>;
  readonly #unregister: ReturnType<typeof defineScript>;

  /** `prefix` ("parley:") namespaces the keys; tests use a fresh one. */
  constructor(client: Redis, options: { prefix?: string } = {}) {
    this.#client = client;
    this.#prefix = options.prefix ?? "parley:";
    this.#register = defineScript(client, "parleyUserRouteRegister", registerLua);
    this.#refresh = defineScript(client, "parleyUserRouteRefresh", refreshLua);
    this.#unregister = defineScript(client, "parleyUserRouteUnregister", unregisterLua);
  }

  #userKey(userId: string): string {
    return `${this.#prefix}user-routes:{${userId}}`;
  }

  async register(route: Route, ttlMs: number): Promise<void> {
    const now = Date.now();
    await this.#register.run([this.#userKey(route.userId)], [route.deviceId, encode(route, now + ttlMs), Math.ceil(ttlMs), now]);
  }

  async unregister(route: Route): Promise<void> {
    await this.#unregister.run([this.#userKey(route.userId)], [route.deviceId, route.sessionId]);
  }

  async refresh(routes: Route[], ttlMs: number): Promise<Route[]> {
    const recreated: Route[] = [];
    for (let i = 0; i < routes.length; i += pipelineChunk) {
      const now = Date.now();
      const pipeline = this.#client.pipeline();
      const chunk = routes.slice(i, i + pipelineChunk);
      for (const route of chunk) {
        this.#refresh.queue(
          pipeline,
          [this.#userKey(route.userId)],
          [route.deviceId, encode(route, now + ttlMs), Math.ceil(ttlMs), now, route.sessionId],
        );
      }
      const results = await pipeline.exec();
      throwFirstError(results);
      // 2 means the route was missing (Redis lost it) and has been re-created.
      for (const [j, result] of (results ?? []).entries()) if (result[1] === 2) recreated.push(chunk[j] as Route);
    }
    return recreated;
  }

  async lookup(userIds: string[]): Promise<Route[]> {
    const users = [...new Set(userIds)];
    if (users.length === 0) return [];
    const pipeline = this.#client.pipeline();
    for (const userId of users) pipeline.hgetall(this.#userKey(userId));
    const found = throwFirstError(await pipeline.exec()) as Record<string, string>[];
    const now = Date.now();
    const routes: Route[] = [];
    for (const [i, devices] of found.entries()) {
      const userId = users[i] as string;
      for (const deviceId in devices) {
        const stored = JSON.parse(devices[deviceId] as string) as StoredRoute;
        if (stored.expiresAt > now) routes.push({ deviceId, userId, gatewayId: stored.gatewayId, sessionId: stored.sessionId });
      }
    }
    return routes;
  }
}

function encode(route: Route, expiresAt: number): string {
  const stored: StoredRoute = { gatewayId: route.gatewayId, sessionId: route.sessionId, expiresAt };
  return JSON.stringify(stored);
}

/** Pipeline results as values; the first failed command fails the call. */
function throwFirstError(results: [Error | null, unknown][] | null): unknown[] {
  if (!results) throw new Error("redis pipeline was discarded");
  return results.map(([error, value]) => {
    if (error) throw error;
    return value;
  });
}
