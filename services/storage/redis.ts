// Opening Redis (routes, rate limits, later presence and typing) and running Lua scripts on it.
// Nothing in Redis is the only copy of anything: callers treat a failing command as "unknown"
// and fall back (see docs/kafka-redis.md).
import { type ChainableCommander, Redis } from "ioredis";
import type { Logger } from "../shared/logger.ts";

/** PARLEY_REDIS_URL, default redis://127.0.0.1:16379 (the engines script's port). */
export function redisUrlFromEnv(env: NodeJS.ProcessEnv = process.env): string {
  return env.PARLEY_REDIS_URL ?? "redis://127.0.0.1:16379";
}

export interface RedisOptions {
  logger: Logger;
  url?: string;
  /** Shown by CLIENT LIST, to tell Parley's connections apart. */
  name?: string;
}

/** A connected client; rejects if Redis cannot be reached at start. */
export async function openRedis(options: RedisOptions): Promise<Redis> {
  const client = new Redis(options.url ?? redisUrlFromEnv(), {
    lazyConnect: true,
    connectionName: options.name ?? "parley",
    // While disconnected a command waits for two reconnect attempts, then fails: callers of
    // routes and rate limits have fallbacks and must not hang on a lost Redis.
    maxRetriesPerRequest: 2,
  });
  // ioredis emits an error per failed reconnect; one line per outage is enough.
  let reported = false;
  client.on("error", (error: Error) => {
    if (!reported) options.logger.warn("redis connection error (reconnecting)", { error: error.message });
    reported = true;
  });
  client.on("ready", () => {
    if (reported) options.logger.info("redis connection restored");
    reported = false;
  });
  await client.connect();
  return client;
}

type Call = (...args: (string | number)[]) => unknown;

/**
 * A Lua script run by its SHA (ioredis loads it again after a Redis restart, in pipelines too).
 * Keys are declared, so scripts stay valid on a cluster when their keys share a hash tag.
 */
export function defineScript(client: Redis, name: string, lua: string) {
  // numberOfKeys left out: each call passes its key count first, so it may vary.
  client.defineCommand(name, { lua });
  const argv = (keys: string[], args: (string | number)[]) => [keys.length, ...keys, ...args];
  return {
    run: (keys: string[], args: (string | number)[] = []): Promise<unknown> =>
      (client as unknown as Record<string, Call>)[name]?.(...argv(keys, args)) as Promise<unknown>,
    queue: (pipeline: ChainableCommander, keys: string[], args: (string | number)[] = []): void => {
      (pipeline as unknown as Record<string, Call>)[name]?.(...argv(keys, args));
    },
  };
}
