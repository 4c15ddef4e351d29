// Membership changes are a compare-and-set on the group's membership version: admins racing with
// the same expected version, exactly one wins per version and the others get ABORTED /
// MEMBERSHIP_VERSION_CONFLICT, then succeed after re-reading. Every change is an event in the
// conversation's order saying who did what.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { GroupPermission, MemberRole, RemovalReason } from "../gen/parley/v1/events_pb.js";
import { as, membershipVersion, newGroup, promote, refusal, signInMany } from "./helpers/groups.ts";
import { startTestParley, type TestParley } from "./helpers/parley.ts";

let t: TestParley;
before(async () => {
  t = await startTestParley();
});
after(() => t.stop());

type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown };

const settle = <T>(p: Promise<T>): Promise<Settled<T>> =>
  p.then(
    (value) => ({ ok: true, value }),
    (error: unknown) => ({ ok: false, error }),
  );

describe("membership compare-and-set", () => {
  test("two admins racing with the same expected version: exactly one wins, the other re-reads and succeeds", async () => {
    const [owner, alice, bob, ...others] = await signInMany(t, 3 + 20);
    if (!owner || !alice || !bob) throw new Error("sign-in failed");
    const id = await newGroup(t.clients, owner, [alice, bob]);
    await promote(t.clients, owner, id, [alice, bob]);
    const c = t.clients.conversations;
    for (let round = 0; round < 10; round++) {
      const [forAlice, forBob] = [others[2 * round], others[2 * round + 1]];
      if (!forAlice || !forBob) throw new Error("not enough users");
      const version = await membershipVersion(t.clients, alice, id);
      type Added = { membershipVersion: bigint; sequence: bigint };
      const outcomes: Settled<Added>[] = await Promise.all([
        settle(c.addMembers({ conversationId: id, userIds: [forAlice.userId], expectedMembershipVersion: version }, as(alice))),
        settle(c.addMembers({ conversationId: id, userIds: [forBob.userId], expectedMembershipVersion: version }, as(bob))),
      ]);
      const wins = outcomes.filter((r): r is { ok: true; value: Added } => r.ok);
      assert.equal(wins.length, 1, `round ${round}: exactly one wins`);
      const winner = wins[0] as { value: Added };
      assert.equal(winner.value.membershipVersion, version + 1n);
      const aliceWon = outcomes[0]?.ok === true;
      const loser = outcomes[aliceWon ? 1 : 0] as { ok: false; error: unknown };
      const [loserUser, loserTarget] = aliceWon ? [bob, forBob] : [alice, forAlice];
      assert.deepEqual(await refusal(Promise.reject(loser.error)), [
        "Aborted",
        "MEMBERSHIP_VERSION_CONFLICT",
        "expected_membership_version",
      ]);
      // The retriable path: re-read the version, re-check, retry.
      const fresh = await membershipVersion(t.clients, loserUser, id);
      assert.equal(fresh, version + 1n);
      const retried = await c.addMembers(
        { conversationId: id, userIds: [loserTarget.userId], expectedMembershipVersion: fresh },
        as(loserUser),
      );
      assert.equal(retried.membershipVersion, version + 2n);
      assert.equal(retried.sequence, winner.value.sequence + 1n);
    }
    const view = await c.getConversation({ conversationId: id }, as(owner));
    assert.equal(view.conversation?.members.length, 23);
  });

  test("five admins racing a removal, an add, a promotion, a ban and a settings change: one change per version", async () => {
    const [owner, ...rest] = await signInMany(t, 11);
    const admins = rest.slice(0, 5);
    const targets = rest.slice(5);
    if (!owner || targets.length < 5) throw new Error("sign-in failed");
    const id = await newGroup(t.clients, owner, [...admins, ...targets.slice(0, 4)]);
    await promote(t.clients, owner, id, admins);
    const c = t.clients.conversations;
    const version = await membershipVersion(t.clients, owner, id);
    const [a0, a1, a2, a3, a4] = admins as [
      (typeof admins)[0],
      (typeof admins)[0],
      (typeof admins)[0],
      (typeof admins)[0],
      (typeof admins)[0],
    ];
    const [t0, t1, t2, , t4] = targets;
    const expected = { expectedMembershipVersion: version };
    const results = await Promise.all([
      settle(c.removeMember({ conversationId: id, userId: t0?.userId ?? "", ...expected }, as(a0))),
      settle(c.addMembers({ conversationId: id, userIds: [t4?.userId ?? ""], ...expected }, as(a1))),
      settle(c.changeMemberRole({ conversationId: id, userId: t1?.userId ?? "", role: MemberRole.ADMIN, ...expected }, as(a2))),
      settle(c.removeMember({ conversationId: id, userId: t2?.userId ?? "", ban: true, ...expected }, as(a3))),
      settle(c.updateGroupSettings({ conversationId: id, sendMessages: GroupPermission.ADMINS, ...expected }, as(a4))),
    ]);
    assert.equal(results.filter((r) => r.ok).length, 1, "exactly one change per version");
    for (const r of results.filter((x) => !x.ok)) {
      assert.deepEqual((await refusal(Promise.reject((r as { error: unknown }).error)))[1], "MEMBERSHIP_VERSION_CONFLICT");
    }
    assert.equal(await membershipVersion(t.clients, owner, id), version + 1n);
  });

  test("without an expected version, concurrent changes are re-planned by the server and all apply", async () => {
    const [owner, ...newcomers] = await signInMany(t, 9);
    if (!owner) throw new Error("sign-in failed");
    const id = await newGroup(t.clients, owner, []);
    const before = await membershipVersion(t.clients, owner, id);
    const results = await Promise.all(
      newcomers.map((n) => t.clients.conversations.addMembers({ conversationId: id, userIds: [n.userId] }, as(owner))),
    );
    assert.deepEqual(
      results.map((r) => r.membershipVersion).sort((x, y) => (x < y ? -1 : 1)),
      newcomers.map((_, i) => before + 1n + BigInt(i)),
    );
    assert.equal(
      (await t.clients.conversations.getConversation({ conversationId: id }, as(owner))).conversation?.members.length,
      9,
    );
  });

  test("every change is an event in the order: the actor is the sender, the targets are in the body", async () => {
    const [owner, admin, carol, dave] = await signInMany(t, 4);
    if (!owner || !admin || !carol || !dave) throw new Error("sign-in failed");
    const id = await newGroup(t.clients, owner, [admin, dave]);
    const c = t.clients.conversations;
    await c.changeMemberRole({ conversationId: id, userId: admin.userId, role: MemberRole.ADMIN }, as(owner)); // 2
    await c.addMembers({ conversationId: id, userIds: [carol.userId] }, as(admin)); // 3
    await c.removeMember({ conversationId: id, userId: dave.userId, ban: true }, as(admin)); // 4
    await c.updateGroupInfo({ conversationId: id, description: "weekly" }, as(carol)); // 5
    await c.unbanMember({ conversationId: id, userId: dave.userId }, as(admin)); // 6
    await c.removeMember({ conversationId: id, userId: carol.userId }, as(carol)); // 7
    const { events } = await t.clients.messaging.listMessages({ conversationId: id }, as(owner));
    const described = events.slice(1).map((e) => {
      const b = e.body;
      const target =
        b.case === "membersAdded"
          ? b.value.userIds.join()
          : b.case === "groupInfoChanged"
            ? b.value.description
            : (b.value as { userId: string }).userId;
      return [e.sequence, b.case, e.senderUserId, target];
    });
    assert.deepEqual(described, [
      [2n, "memberRoleChanged", owner.userId, admin.userId],
      [3n, "membersAdded", admin.userId, carol.userId],
      [4n, "memberRemoved", admin.userId, dave.userId],
      [5n, "groupInfoChanged", carol.userId, "weekly"],
      [6n, "memberUnbanned", admin.userId, dave.userId],
      [7n, "memberRemoved", carol.userId, carol.userId],
    ]);
    const versions = events.flatMap((e) =>
      "membershipVersion" in (e.body.value ?? {}) ? [(e.body.value as { membershipVersion: bigint }).membershipVersion] : [],
    );
    assert.deepEqual(versions, [1n, 2n, 3n, 4n, 5n], "each membership event names the version it made");
    const removals = events.flatMap((e) => (e.body.case === "memberRemoved" ? [e.body.value.reason] : []));
    assert.deepEqual(removals, [RemovalReason.BANNED, RemovalReason.LEFT]);
  });
});
