// Token buckets in process memory, for the all-in-one process and tests; the clock is injected
// so refill can be tested without waiting.
import { type Clock, systemClock } from "../clock.ts";
import { checkTake, type RateDecision, type RateLimiter, type RateRule } from "../rate-limit.ts";

interface Bucket {
  tokens: number;
  /** When `tokens` was computed. */
  at: number;
  /** When the bucket is full again, i.e. no different from an absent one. */
  fullAt: number;
}

export class MemoryRateLimiter implements RateLimiter {
  readonly #buckets = new Map<string, Bucket>();
  readonly #clock: Clock;
  readonly #sweepAbove: number;
  #nextSweep: number;

  constructor(options: { clock?: Clock; sweepAbove?: number } = {}) {
    this.#clock = options.clock ?? systemClock;
    this.#sweepAbove = options.sweepAbove ?? 100_000;
    this.#nextSweep = this.#sweepAbove;
  }

  async take(key: string, cost: number, rule: RateRule): Promise<RateDecision> {
    checkTake(cost, rule);
    const now = this.#clock.now();
    const perMs = rule.refillPerSecond / 1000;
    const bucket = this.#buckets.get(key);
    // A clock stepping back refills nothing (and does not move `at` back).
    const at = Math.max(now, bucket?.at ?? now);
    const tokens = Math.min(rule.capacity, bucket ? bucket.tokens + (at - bucket.at) * perMs : rule.capacity);
    const allowed = tokens >= cost;
    const left = allowed ? tokens - cost : tokens;
    this.#buckets.set(key, { tokens: left, at, fullAt: at + (rule.capacity - left) / perMs });
    if (this.#buckets.size > this.#nextSweep) this.#sweep(now);
    return { allowed, retryAfterMs: allowed ? 0 : Math.ceil((cost - tokens) / perMs) };
  }

  /** Forgets full buckets, so memory follows the keys that are actually limited. */
  #sweep(now: number): void {
    for (const [key, bucket] of this.#buckets) if (bucket.fullAt <= now) this.#buckets.delete(key);
    this.#nextSweep = Math.max(this.#sweepAbove, 2 * this.#buckets.size);
  }
}
