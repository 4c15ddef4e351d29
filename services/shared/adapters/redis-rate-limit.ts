// Token buckets in Redis, shared by every instance: one Lua script reads, refills, takes and
// writes a bucket atomically. Time is Redis's own (TIME inside the script) unless a clock is
// injected: one clock for all instances, so a skewed application host cannot refill buckets
// early. The injected clock exists for deterministic tests.
import type { Redis } from "ioredis";
import { defineScript } from "../../storage/redis.ts";
import type { Clock } from "../clock.ts";
import { checkTake, type RateDecision, type RateLimiter, type RateRule } from "../rate-limit.ts";

// KEYS[1] bucket hash {tokens, at}; ARGV capacity, refill per second, cost, now in ms ("" = TIME).
// A bucket that has refilled is the same as none, so the key expires once it would be full.
const takeLua = `
local capacity = tonumber(ARGV[1])
local perMs = tonumber(ARGV[2]) / 1000
local cost = tonumber(ARGV[3])
local now
if ARGV[4] == '' then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
else
  now = tonumber(ARGV[4])
end
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1])
local at = tonumber(state[2])
if tokens == nil or at == nil then
  tokens = capacity
  at = now
end
if now > at then
  tokens = tokens + (now - at) * perMs
  at = now
end
if tokens > capacity then tokens = capacity end
local allowed = 0
local wait = 0
if tokens >= cost then
  tokens = tokens - cost
  allowed = 1
else
  wait = math.ceil((cost - tokens) / perMs)
end
redis.call('HSET', KEYS[1], 'tokens', string.format('%.17g', tokens), 'at', string.format('%.17g', at))
redis.call('PEXPIRE', KEYS[1], math.ceil((capacity - tokens) / perMs) + 1000)
return {allowed, wait}
`;

export interface RedisRateLimiterOptions {
  /** Key prefix ("parley:"); tests use a fresh one. */
  prefix?: string;
  /** Use this clock instead of Redis TIME (tests). */
  clock?: Clock;
}

export class RedisRateLimiter implements RateLimiter {
  readonly #take: ReturnType<typeof defineScript>;
  readonly #prefix: string;
  readonly #clock: Clock | undefined;

  constructor(client: Redis, options: RedisRateLimiterOptions = {}) {
    this.#take = defineScript(client, "parleyRateTake", takeLua);
    this.#prefix = options.prefix ?? "parley:";
    this.#clock = options.clock;
  }

  async take(key: string, cost: number, rule: RateRule): Promise<RateDecision> {
    checkTake(cost, rule);
    const now = this.#clock ? String(this.#clock.now()) : "";
    const [allowed, wait] = (await this.#take.run(
      [`${this.#prefix}rate:{${key}}`],
      [rule.capacity, rule.refillPerSecond, cost, now],
    )) as [number, number];
    return { allowed: allowed === 1, retryAfterMs: allowed === 1 ? 0 : wait };
  }
}
