// What the Redis route registry leaves in Redis, beyond the RouteRegistry contract: one hash per
// user, whose expired routes leave at the next write and which expires with its longest-lived
// route, so dead devices never pile up. Runs with the engines (PARLEY_ENGINES=1).
import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import type { Redis } from "ioredis";
import { RedisRouteRegistry } from "../../services/gateway/adapters/redis-routes.ts";
import type { Route } from "../../services/gateway/ports.ts";

const withEngines = process.env.PARLEY_ENGINES === "1";
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const route = (deviceId: string, sessionId = `${deviceId}-s1`): Route => ({
  userId: "alice",
  deviceId,
  sessionId,
  gatewayId: "gw-1",
});

describe("Redis routes in Redis", { skip: !withEngines && "needs PARLEY_ENGINES=1" }, () => {
  let redis: Redis;
  const prefix = `parley-test-routes-${process.pid}-${Date.now()}:`;
  const key = `${prefix}user-routes:{alice}`;
  const registry = async () => {
    const { openRedis } = await import("../../services/storage/redis.ts");
    const { silentLogger } = await import("../../services/shared/logger.ts");
    redis ??= await openRedis({ logger: silentLogger, name: "parley-contract" });
    return new RedisRouteRegistry(redis, { prefix });
  };
  after(async () => {
    await redis?.del(key);
    await redis?.quit();
  });

  test("a user's routes are one hash; expired ones leave at the next write", async () => {
    const routes = await registry();
    await routes.register(route("a1"), 200);
    await routes.register(route("a2"), 200);
    assert.equal(await redis.hlen(key), 2);
    await sleep(400);
    await routes.register(route("a3"), 60_000);
    assert.deepEqual(await redis.hkeys(key), ["a3"]);
    await routes.refresh([route("a4")], 60_000);
    assert.deepEqual((await redis.hkeys(key)).sort(), ["a3", "a4"]);
  });

  test("the hash lives as long as its longest-lived route, and goes when that expires", async () => {
    const routes = await registry();
    await redis.del(key);
    await routes.register(route("b1"), 60_000);
    await routes.register(route("b2"), 300);
    assert.ok((await redis.pttl(key)) > 50_000, "a shorter route does not shorten the hash");
    await routes.unregister(route("b1"));
    await routes.refresh([route("b2")], 300);
    assert.ok((await redis.pttl(key)) > 50_000, "nor does a refresh");
    await redis.pexpire(key, 300);
    await routes.register(route("b3"), 400);
    await sleep(700);
    assert.equal(await redis.exists(key), 0);
    assert.deepEqual(await routes.lookup(["alice"]), []);
  });
});
