// The rate limiter port: token buckets per key (a user's sends, a phone number's codes...), so
// limits are part of the contract and a refusal says when to retry.

export interface RateRule {
  /** Most tokens a bucket holds (the burst); a new key starts full. */
  capacity: number;
  /** Tokens added per second, up to capacity. */
  refillPerSecond: number;
}

export interface RateDecision {
  allowed: boolean;
  /** When refused, milliseconds until `cost` tokens will be there (0 when allowed). */
  retryAfterMs: number;
}

export interface RateLimiter {
  /**
   * Takes `cost` tokens from the key's bucket if it holds them. A refused take takes nothing, so
   * a client that keeps retrying is not pushed further back. Buckets are independent per key;
   * the rule is given per call (a changed rule applies from the next take). Rejects with a
   * RangeError when cost is negative or above capacity, or the rule is not positive and finite.
   */
  take(key: string, cost: number, rule: RateRule): Promise<RateDecision>;
}

/** Shared argument checks of every adapter. */
export function checkTake(cost: number, rule: RateRule): void {
  const positive = (n: number) => Number.isFinite(n) && n > 0;
  if (!positive(rule.capacity) || !positive(rule.refillPerSecond))
    throw new RangeError("rate rule needs a positive, finite capacity and refillPerSecond");
  if (!Number.isFinite(cost) || cost < 0 || cost > rule.capacity)
    throw new RangeError(`cost ${cost} must be between 0 and the capacity ${rule.capacity}`);
}
