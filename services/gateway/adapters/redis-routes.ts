// Routes in Redis, shared by every gateway and fanout worker. Redis 7.0 cannot expire one field
// of a hash, so each route is its own key with a PX lifetime, and a set per user lists the
// user's device ids (cleaned when lookup finds a route gone). All keys of one user share the
// hash tag {userId}, so each script touches one cluster slot. Losing Redis loses no message:
// gateways re-create their routes on the next heartbeat tick (refresh).
import type { Redis } from "ioredis";
import { defineScript } from "../../storage/redis.ts";
import type { Route, RouteRegistry } from "../ports.ts";

// The set lives as long as its longest-lived route: NX sets a lifetime on a new set, GT only
// ever lengthens it.
const touchSet = `
redis.call('SADD', KEYS[2], ARGV[3])
redis.call('PEXPIRE', KEYS[2], ARGV[2], 'NX')
redis.call('PEXPIRE', KEYS[2], ARGV[2], 'GT')
`;

// KEYS route, user set; ARGV route JSON, ttl ms, device id.
const registerLua = `
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
${touchSet}
return 1
`;

// KEYS route, user set; ARGV route JSON, ttl ms, device id, session id. Extends the route, or
// re-creates it when it is missing (Redis lost it); leaves a route of another (newer) session.
const refreshLua = `
local current = redis.call('GET', KEYS[1])
if current and cjson.decode(current).sessionId ~= ARGV[4] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
${touchSet}
if current then return 1 end
return 2
`;

// KEYS route, user set; ARGV session id, device id. Compare-and-delete on the session.
const unregisterLua = `
local current = redis.call('GET', KEYS[1])
if current and cjson.decode(current).sessionId ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
redis.call('SREM', KEYS[2], ARGV[2])
return 1
`;

// KEYS user set; ARGV the user's route-key prefix. One round trip per lookup: the set's device
// ids, their routes, and the ids whose route expired dropped from the set, all in one atomic step
// (so a route registered meanwhile is never dropped). The route keys are built here from the set,
// not declared: they carry the set's hash tag, so they live in its cluster slot.
const lookupLua = `
local ids = redis.call('SMEMBERS', KEYS[1])
if #ids == 0 then return {} end
local keys = {}
for i, id in ipairs(ids) do keys[i] = ARGV[1] .. id end
local values = redis.call('MGET', unpack(keys))
local found = {}
for i = 1, #ids do
  if values[i] then found[#found + 1] = values[i] else redis.call('SREM', KEYS[1], ids[i]) end
end
return found
`;

/** Refresh is sent in pipelines of this many routes (a gateway may hold many thousands). */
const pipelineChunk = 500;

export class RedisRouteRegistry implements RouteRegistry {
  readonly #client: Redis;
  readonly #prefix: string;
  readonly #register: ReturnType<typeof defineScript>;
  readonly #refresh: ReturnType<typeof defineScript>;
  readonly #unregister: ReturnType<typeof defineScript>;
  readonly #lookup: ReturnType<typeof defineScript>;

  /** `prefix` ("parley:") namespaces the keys; tests use a fresh one. */
  constructor(client: Redis, options: { prefix?: string } = {}) {
    this.#client = client;
    this.#prefix = options.prefix ?? "parley:";
    this.#register = defineScript(client, "parleyRouteRegister", registerLua);
    this.#refresh = defineScript(client, "parleyRouteRefresh", refreshLua);
    this.#unregister = defineScript(client, "parleyRouteUnregister", unregisterLua);
    this.#lookup = defineScript(client, "parleyRouteLookup", lookupLua);
  }

  #routeKey(userId: string, deviceId: string): string {
    return `${this.#prefix}route:{${userId}}:${deviceId}`;
  }

  #devicesKey(userId: string): string {
    return `${this.#prefix}routes:{${userId}}`;
  }

  async register(route: Route, ttlMs: number): Promise<void> {
    await this.#register.run(
      [this.#routeKey(route.userId, route.deviceId), this.#devicesKey(route.userId)],
      [encode(route), Math.ceil(ttlMs), route.deviceId],
    );
  }

  async unregister(route: Route): Promise<void> {
    await this.#unregister.run(
      [this.#routeKey(route.userId, route.deviceId), this.#devicesKey(route.userId)],
      [route.sessionId, route.deviceId],
    );
  }

  async refresh(routes: Route[], ttlMs: number): Promise<Route[]> {
    const recreated: Route[] = [];
    for (let i = 0; i < routes.length; i += pipelineChunk) {
      const pipeline = this.#client.pipeline();
      const chunk = routes.slice(i, i + pipelineChunk);
      for (const route of chunk) {
        this.#refresh.queue(
          pipeline,
          [this.#routeKey(route.userId, route.deviceId), this.#devicesKey(route.userId)],
          [encode(route), Math.ceil(ttlMs), route.deviceId, route.sessionId],
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
    for (const userId of users) this.#lookup.queue(pipeline, [this.#devicesKey(userId)], [this.#routeKey(userId, "")]);
    const found = throwFirstError(await pipeline.exec()) as string[][];
    return found.flatMap((values) => values.map((value) => JSON.parse(value) as Route));
  }
}

function encode(route: Route): string {
  const { deviceId, userId, gatewayId, sessionId } = route;
  return JSON.stringify({ deviceId, userId, gatewayId, sessionId });
}

/** Pipeline results as values; the first failed command fails the call. */
function throwFirstError(results: [Error | null, unknown][] | null): unknown[] {
  if (!results) throw new Error("redis pipeline was discarded");
  return results.map(([error, value]) => {
    if (error) throw error;
    return value;
  });
}
