// Contract suite of the RateLimiter port (services/shared/rate-limit.ts). `wait` advances a fake
// clock or lets real time pass; with real time, cases leave wide margins (slow refill rules, waits
// never shorter than needed), and the exact-arithmetic cases need a controlled clock.
import assert from "node:assert/strict";
import { describe } from "node:test";
import type { RateLimiter, RateRule } from "../../services/shared/rate-limit.ts";
import { type Cleanup, type ContractOptions, contractCases } from "./harness.ts";

export interface RateLimitAdapters extends Cleanup {
  limiter: RateLimiter;
  /** Lets `ms` pass for the limiter's clock. */
  wait(ms: number): Promise<void>;
}

export interface RateLimiterContractOptions extends ContractOptions {
  /** Cases asserting exact refill arithmetic, which need a clock the test controls. */
  exactClock: "controlled" | { skip: string };
}

/** One token per 1000 s: nothing refills noticeably during a case. */
const slow = (capacity: number): RateRule => ({ capacity, refillPerSecond: 0.001 });

export function rateLimiterContract(name: string, make: () => Promise<RateLimitAdapters>, options: RateLimiterContractOptions) {
  describe(`RateLimiter contract: ${name}`, () => {
    const c = contractCases(make, options);

    c.test("a new key allows up to its capacity, then refuses with a retry-after", async ({ limiter }) => {
      for (let i = 0; i < 5; i++) assert.deepEqual(await limiter.take("k", 1, slow(5)), { allowed: true, retryAfterMs: 0 });
      const refused = await limiter.take("k", 1, slow(5));
      assert.equal(refused.allowed, false);
      // One token at 0.001 per second is 1,000,000 ms away (a little less as real time passes).
      assert.ok(refused.retryAfterMs > 990_000 && refused.retryAfterMs <= 1_000_000, `retryAfterMs ${refused.retryAfterMs}`);
    });

    c.test("a take costs that many tokens; cost 0 only looks", async ({ limiter }) => {
      const rule = slow(10);
      assert.equal((await limiter.take("k", 4, rule)).allowed, true);
      assert.equal((await limiter.take("k", 4, rule)).allowed, true);
      assert.equal((await limiter.take("k", 4, rule)).allowed, false, "2 tokens left");
      assert.equal((await limiter.take("k", 2, rule)).allowed, true);
      assert.equal((await limiter.take("k", 1, rule)).allowed, false);
      assert.equal((await limiter.take("k", 0, rule)).allowed, true);
    });

    c.test("a refused take takes nothing", async ({ limiter, wait }) => {
      const rule: RateRule = { capacity: 3, refillPerSecond: 1 };
      assert.equal((await limiter.take("k", 3, rule)).allowed, true);
      for (let i = 0; i < 10; i++) assert.equal((await limiter.take("k", 1, rule)).allowed, false);
      await wait(1_000);
      // Had the refusals taken tokens, the bucket would still be in debt.
      assert.equal((await limiter.take("k", 1, rule)).allowed, true);
      assert.equal((await limiter.take("k", 1, rule)).allowed, false);
    });

    c.test("waiting the retry-after is enough", async ({ limiter, wait }) => {
      const rule: RateRule = { capacity: 2, refillPerSecond: 5 };
      assert.equal((await limiter.take("k", 2, rule)).allowed, true);
      const refused = await limiter.take("k", 1, rule);
      assert.equal(refused.allowed, false);
      assert.ok(refused.retryAfterMs > 0 && refused.retryAfterMs <= 200, `retryAfterMs ${refused.retryAfterMs}`);
      await wait(refused.retryAfterMs);
      assert.equal((await limiter.take("k", 1, rule)).allowed, true);
    });

    c.test("keys have their own buckets and rules", async ({ limiter }) => {
      assert.equal((await limiter.take("a", 1, slow(1))).allowed, true);
      assert.equal((await limiter.take("a", 1, slow(1))).allowed, false);
      assert.equal((await limiter.take("b", 1, slow(1))).allowed, true, "another key is untouched");
      for (let i = 0; i < 3; i++) assert.equal((await limiter.take("c", 1, slow(3))).allowed, true, "c has capacity 3");
      assert.equal((await limiter.take("c", 1, slow(3))).allowed, false);
    });

    c.test("concurrent takes never allow more than the bucket holds", async ({ limiter }) => {
      const decisions = await Promise.all(Array.from({ length: 50 }, () => limiter.take("k", 1, slow(10))));
      assert.equal(decisions.filter((d) => d.allowed).length, 10);
    });

    c.test("a negative or too large cost, or a rule that is not positive, is refused with a RangeError", async ({ limiter }) => {
      await assert.rejects(limiter.take("k", -1, slow(5)), RangeError);
      await assert.rejects(limiter.take("k", 6, slow(5)), RangeError);
      await assert.rejects(limiter.take("k", Number.NaN, slow(5)), RangeError);
      await assert.rejects(limiter.take("k", 1, { capacity: 0, refillPerSecond: 1 }), RangeError);
      await assert.rejects(limiter.take("k", 1, { capacity: 5, refillPerSecond: 0 }), RangeError);
      await assert.rejects(limiter.take("k", 1, { capacity: Number.POSITIVE_INFINITY, refillPerSecond: 1 }), RangeError);
    });

    c.test("a smaller rule caps what the bucket holds", async ({ limiter }) => {
      assert.equal((await limiter.take("k", 1, slow(10))).allowed, true);
      // Nine tokens left, but the rule now holds at most two.
      assert.equal((await limiter.take("k", 2, slow(2))).allowed, true);
      assert.equal((await limiter.take("k", 1, slow(2))).allowed, false);
    });

    const exact = [
      {
        title: "refill stops at capacity",
        body: async ({ limiter, wait }: RateLimitAdapters) => {
          const rule: RateRule = { capacity: 3, refillPerSecond: 1 };
          assert.equal((await limiter.take("k", 3, rule)).allowed, true);
          await wait(60_000);
          assert.equal((await limiter.take("k", 3, rule)).allowed, true, "a full bucket after a long idle");
          assert.deepEqual(await limiter.take("k", 1, rule), { allowed: false, retryAfterMs: 1_000 }, "but no more than full");
        },
      },
      {
        title: "fractions of a token add up, and retry-after counts down",
        body: async ({ limiter, wait }: RateLimitAdapters) => {
          const rule: RateRule = { capacity: 1, refillPerSecond: 4 };
          assert.equal((await limiter.take("k", 1, rule)).allowed, true);
          await wait(100);
          assert.deepEqual(await limiter.take("k", 1, rule), { allowed: false, retryAfterMs: 150 });
          await wait(100);
          assert.deepEqual(await limiter.take("k", 1, rule), { allowed: false, retryAfterMs: 50 });
          await wait(50);
          assert.deepEqual(await limiter.take("k", 1, rule), { allowed: true, retryAfterMs: 0 });
        },
      },
    ];
    for (const { title, body } of exact) {
      if (options.exactClock === "controlled") c.test(title, body);
      else c.skip(title, options.exactClock.skip);
    }

    c.end();
  });
}
