// Contract suite of the LinkTokenStore port (services/identity/ports.ts): device link tokens are
// stored by hash and spent exactly once, also under a race.
import assert from "node:assert/strict";
import { describe } from "node:test";
import type { LinkTokenRecord, LinkTokenStore } from "../../services/identity/ports.ts";
import { type Cleanup, type ContractOptions, contractCases, uid } from "./harness.ts";

export interface LinkTokenAdapters extends Cleanup {
  linkTokens: LinkTokenStore;
  /** The token's user must exist where the store checks references. */
  seedUsers(userIds: string[]): Promise<void>;
}

const record = (userId: string, overrides: Partial<LinkTokenRecord> = {}): LinkTokenRecord => ({
  tokenHash: uid("hash"),
  userId,
  createdByDeviceId: uid("device"),
  history: "from_link",
  createdAt: 1_700_000_000_000,
  expiresAt: 1_700_000_120_000,
  ...overrides,
});

export function linkTokenContract(name: string, make: () => Promise<LinkTokenAdapters>, options?: ContractOptions) {
  describe(`LinkTokenStore contract: ${name}`, () => {
    const c = contractCases(make, options);

    c.test("a stored token is spent once and read back whole", async (a) => {
      const alice = uid("alice");
      await a.seedUsers([alice]);
      const token = record(alice);
      await a.linkTokens.put(token);
      assert.deepEqual(await a.linkTokens.spend(token.tokenHash, token.createdAt + 10), { record: token, alreadySpent: false });
      assert.deepEqual(await a.linkTokens.spend(token.tokenHash, token.createdAt + 20), { record: token, alreadySpent: true });
    });

    c.test("an unknown token is undefined", async (a) => {
      assert.equal(await a.linkTokens.spend(uid("never-issued"), 1_700_000_000_000), undefined);
    });

    c.test("of concurrent spends exactly one wins", async (a) => {
      const alice = uid("alice");
      await a.seedUsers([alice]);
      const token = record(alice, { history: "full" });
      await a.linkTokens.put(token);
      const results = await Promise.all(
        Array.from({ length: 8 }, (_, i) => a.linkTokens.spend(token.tokenHash, token.createdAt + i)),
      );
      assert.equal(results.filter((r) => r?.alreadySpent === false).length, 1);
      assert.ok(results.every((r) => r?.record.history === "full"));
    });

    c.test("tokens are independent", async (a) => {
      const alice = uid("alice");
      await a.seedUsers([alice]);
      const first = record(alice);
      const second = record(alice);
      await a.linkTokens.put(first);
      await a.linkTokens.put(second);
      await a.linkTokens.spend(first.tokenHash, first.createdAt + 1);
      assert.equal((await a.linkTokens.spend(second.tokenHash, second.createdAt + 1))?.alreadySpent, false);
    });

    c.end();
  });
}
