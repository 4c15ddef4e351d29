// Per-case fixtures of the engine adapters (Kafka, Redis) for the contract registry: each case
// gets its own namespace (Kafka topics and groups, Redis key prefix) and removes it afterwards,
// so cases never see each other's data. Used only when PARLEY_ENGINES=1.
import { randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { Kafka } from "kafkajs";
import { readDeadLetters } from "../../services/bus/adapters/kafka/dead-letters.ts";
import { kafkaLogCreator, kafkaLogLevel } from "../../services/bus/adapters/kafka/log.ts";
import { allTopicNames, brokersFromEnv, deadLetterTopicName } from "../../services/bus/adapters/kafka/naming.ts";
import { deadLetterHeaders } from "../../services/bus/adapters/kafka/subscription.ts";
import { ensureTopics } from "../../services/bus/adapters/kafka/topics.ts";
import { createKafkaBus, type KafkaBus, type KafkaBusOptions } from "../../services/bus/adapters/kafka.ts";
import type { EventBus } from "../../services/bus/ports.ts";
import { RedisRouteRegistry } from "../../services/gateway/adapters/redis-routes.ts";
import { RedisRateLimiter } from "../../services/shared/adapters/redis-rate-limit.ts";
import type { Clock } from "../../services/shared/clock.ts";
import { silentLogger } from "../../services/shared/logger.ts";
import { openRedis } from "../../services/storage/redis.ts";
import type { BusAdapters, BusFactoryOptions } from "./bus.contract.ts";
import type { RateLimitAdapters } from "./rate-limit.contract.ts";
import type { RouteAdapters } from "./routes.contract.ts";

/** A name no earlier run used either (topics of a crashed run may still exist). */
const fresh = (prefix: string) => `${prefix}-${process.pid}-${randomBytes(4).toString("hex")}`;

/** A clock the test moves by hand. */
export function manualClock(start = 1_700_000_000_000) {
  let now = start;
  const clock: Clock = { now: () => now };
  return {
    clock,
    wait: async (ms: number) => {
      now += ms;
    },
  };
}

/** Handler retries for tests: three calls, 10 ms then 20 ms apart. */
export const kafkaTestRetry = { attempts: 3, initialDelayMs: 10, multiplier: 2 };

/** A Kafka bus in a fresh namespace with its six topics (3 partitions each). */
export async function kafkaBusFixture({ logger }: BusFactoryOptions): Promise<BusAdapters> {
  const namespace = fresh("parley-test");
  const kafka = new Kafka({
    clientId: "parley-contract",
    brokers: brokersFromEnv(),
    logLevel: kafkaLogLevel,
    logCreator: kafkaLogCreator(silentLogger),
  });
  const admin = kafka.admin();
  await admin.connect();
  try {
    await ensureTopics(admin, allTopicNames(namespace), { partitions: 3, replicationFactor: 1 });
  } catch (error) {
    // An open connection would keep the test process alive.
    await admin.disconnect();
    throw error;
  }
  const options: KafkaBusOptions = { logger, namespace, retry: kafkaTestRetry };
  const buses: KafkaBus[] = [createKafkaBus(options)];
  const bus = buses[0] as KafkaBus;
  return {
    bus,
    async reopen(): Promise<EventBus> {
      const again = createKafkaBus(options);
      buses.push(again);
      return again;
    },
    async deadLetters(topic, count) {
      const letters = await readDeadLetters(kafka, deadLetterTopicName(namespace, topic), topic, count);
      return letters.map(({ key, value, headers }) => ({
        key,
        value,
        headers,
        error: headers[deadLetterHeaders.error] ?? "",
        attempts: Number(headers[deadLetterHeaders.attempts]),
      }));
    },
    async cleanup() {
      try {
        for (const b of buses) await b.close();
        const groups = (await admin.listGroups()).groups.map((g) => g.groupId).filter((g) => g.startsWith(`${namespace}.`));
        // Tidying up only: a group whose members are still leaving answers NON_EMPTY_GROUP (68);
        // the broker expires it on its own, so that is no reason to fail the case.
        if (groups.length > 0) await admin.deleteGroups(groups).catch(() => {});
        await admin.deleteTopics({ topics: allTopicNames(namespace) }).catch(() => {});
      } finally {
        await admin.disconnect();
      }
    },
  };
}

/** Deletes every key under the prefix (SCAN, so a busy Redis is not blocked). */
async function dropPrefix(redis: Awaited<ReturnType<typeof openRedis>>, prefix: string): Promise<void> {
  let cursor = "0";
  do {
    const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 1000);
    if (keys.length > 0) await redis.del(...keys);
    cursor = next;
  } while (cursor !== "0");
}

/** A Redis route registry under a fresh key prefix; expiry is Redis's, so `wait` sleeps. */
export async function redisRoutesFixture(): Promise<RouteAdapters> {
  const redis = await openRedis({ logger: silentLogger, name: "parley-contract" });
  const prefix = `${fresh("parley-test")}:`;
  return {
    routes: new RedisRouteRegistry(redis, { prefix }),
    wait: (ms) => sleep(ms),
    async cleanup() {
      await dropPrefix(redis, prefix);
      await redis.quit();
    },
  };
}

/** A Redis rate limiter under a fresh key prefix, on Redis TIME or on a manual clock. */
export async function redisRateLimitFixture(clockSource: "redis" | "manual"): Promise<RateLimitAdapters> {
  const redis = await openRedis({ logger: silentLogger, name: "parley-contract" });
  const prefix = `${fresh("parley-test")}:`;
  const manual = clockSource === "manual" ? manualClock() : undefined;
  return {
    limiter: new RedisRateLimiter(redis, { prefix, clock: manual?.clock }),
    wait: manual?.wait ?? ((ms) => sleep(ms)),
    async cleanup() {
      await dropPrefix(redis, prefix);
      await redis.quit();
    },
  };
}
