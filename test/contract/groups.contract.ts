// Contract suites of the group-administration parts of the messaging ports: the membership version
// compare-and-set and group state of ConversationStore and EventLog, InviteLinkStore,
// JoinRequestStore and GroupRetention. Every messaging adapter set runs them (registry.ts).
import assert from "node:assert/strict";
import { describe } from "node:test";
import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import { type ConversationEvent, ConversationEventSchema } from "../../gen/parley/v1/events_pb.js";
import {
  defaultGroupSettings,
  type GroupChange,
  type InviteLinkRecord,
  type MembershipChange,
} from "../../services/messaging/ports.ts";
import { reasonOf } from "../../services/shared/errors.ts";
import { type ContractOptions, contractCases, messageEvent, range, shuffled, uid } from "./harness.ts";
import { type MessagingAdapters, newConversation, noLimit } from "./messaging.contract.ts";

const isConflict = (error: unknown) =>
  error instanceof ConnectError && error.code === Code.Aborted && reasonOf(error) === "MEMBERSHIP_VERSION_CONFLICT";

/** An administrative event (its body does not matter to the stores). */
const adminEvent = (sender: string, sentAtMs = 1_700_000_000_000): ConversationEvent =>
  create(ConversationEventSchema, {
    eventId: uid("event"),
    senderUserId: sender,
    sentAt: timestampFromMs(sentAtMs),
    body: { case: "groupDeleted", value: {} },
  });

const change = (
  a: MessagingAdapters,
  conversationId: string,
  sender: string,
  input: { membership?: MembershipChange; group?: GroupChange; expected?: bigint; sentAtMs?: number },
) =>
  a.log.append({
    conversationId,
    event: adminEvent(sender, input.sentAtMs),
    membership: input.membership,
    group: input.group,
    expectedMembershipVersion: input.expected,
  });

const send = (a: MessagingAdapters, conversationId: string, sender: string, clientMessageId: string, expected?: bigint) =>
  a.log.append({
    conversationId,
    event: messageEvent({ sender, clientMessageId, text: "hi" }),
    clientMessageId,
    expectedMembershipVersion: expected,
  });

export function groupStateContract(name: string, makeAdapters: () => Promise<MessagingAdapters>, options: ContractOptions = {}) {
  describe(`Group state (ConversationStore, EventLog) contract: ${name}`, () => {
    const c = contractCases(makeAdapters, options);

    c.test("a new conversation is at membership version 0 with the default settings, in roster and seat", async (a) => {
      const conv = await newConversation(a);
      const roster = await a.conversations.roster(conv.conversationId);
      assert.equal(roster?.membershipVersion, 0n);
      assert.deepEqual(roster?.settings, defaultGroupSettings);
      assert.equal(roster?.deletedAt, null);
      assert.deepEqual(roster?.members.map((m) => m.userId).sort(), conv.members.map((m) => m.userId).sort());
      const seat = await a.conversations.seat(conv.conversationId, conv.owner);
      assert.equal(seat?.member.role, "owner");
      assert.deepEqual(seat?.group, { membershipVersion: 0n, settings: defaultGroupSettings, deletedAt: null });
      assert.equal(await a.conversations.seat(conv.conversationId, uid("stranger")), undefined);
      assert.equal(await a.conversations.roster(uid("missing")), undefined);
    });

    c.test("seats reads several members at once, as seat reads each, and leaves out strangers", async (a) => {
      const conv = await newConversation(a);
      const [left, joined] = [uid("left"), uid("joined")];
      await a.seedUsers([left, joined]);
      await change(a, conv.conversationId, conv.owner, { membership: { add: [{ userId: left, role: "member" }] } });
      await change(a, conv.conversationId, conv.owner, { membership: { add: [{ userId: joined, role: "admin" }] } });
      await change(a, conv.conversationId, conv.owner, { membership: { remove: left } });
      await send(a, conv.conversationId, conv.owner, "m1");
      const users = [...conv.members.map((m) => m.userId), left, joined];
      const seats = await a.conversations.seats(conv.conversationId, [...users, uid("stranger"), joined]);
      assert.deepEqual([...seats.keys()].sort(), [...users].sort());
      const lastSequence = (await a.conversations.get(conv.conversationId))?.lastSequence;
      for (const userId of users) {
        const one = await a.conversations.seat(conv.conversationId, userId);
        assert.deepEqual(seats.get(userId)?.member, one?.member, userId);
        assert.deepEqual(seats.get(userId)?.group, one?.group, userId);
        // seats() always carries the last sequence; seat() only where it comes at no cost.
        assert.equal(seats.get(userId)?.lastSequence, lastSequence, userId);
        if (one?.lastSequence !== undefined) assert.equal(one.lastSequence, lastSequence, userId);
      }
      assert.equal(seats.get(left)?.member.leftAtSeq !== null, true);
      assert.equal(seats.get(joined)?.group.membershipVersion, 3n);
      assert.equal((await a.conversations.seats(conv.conversationId, [])).size, 0);
      assert.equal((await a.conversations.seats(uid("missing"), [conv.owner])).size, 0);
      // One member at a time (every ack of a 1:1 message) answers exactly as seat does.
      for (const userId of [conv.owner, left]) {
        const alone = await a.conversations.seats(conv.conversationId, [userId]);
        assert.deepEqual([...alone.keys()], [userId]);
        const one = await a.conversations.seat(conv.conversationId, userId);
        assert.deepEqual(alone.get(userId), { ...one, lastSequence }, userId);
      }
      assert.equal((await a.conversations.seats(conv.conversationId, [uid("stranger")])).size, 0);
    });

    c.test("seats given a lower bound of the last sequence carry one between it and the real one", async (a) => {
      const conv = await newConversation(a);
      for (const id of ["m1", "m2", "m3"]) await send(a, conv.conversationId, conv.owner, id);
      const users = conv.members.map((m) => m.userId);
      const seats = await a.conversations.seats(conv.conversationId, users, { lastSequenceAtLeast: 2n });
      assert.deepEqual([...seats.keys()].sort(), [...users].sort());
      for (const userId of users) {
        const lastSequence = seats.get(userId)?.lastSequence ?? -1n;
        assert.ok(lastSequence >= 2n && lastSequence <= 4n, `${userId}: ${lastSequence}`);
        assert.deepEqual(seats.get(userId)?.member, (await a.conversations.seat(conv.conversationId, userId))?.member);
      }
      assert.equal((await a.conversations.seats(uid("missing"), [conv.owner], { lastSequenceAtLeast: 2n })).size, 0);
    });

    c.test("currentMemberIds lists exactly the members not removed, a re-added one included", async (a) => {
      const conv = await newConversation(a);
      const [left, back, stranger] = [uid("left"), uid("back"), uid("stranger")];
      await a.seedUsers([left, back, stranger]);
      await change(a, conv.conversationId, conv.owner, {
        membership: {
          add: [
            { userId: left, role: "member" },
            { userId: back, role: "member" },
          ],
        },
      });
      await change(a, conv.conversationId, conv.owner, { membership: { remove: left } });
      await change(a, conv.conversationId, conv.owner, { membership: { remove: back } });
      await change(a, conv.conversationId, conv.owner, { membership: { add: [{ userId: back, role: "member" }] } });
      const current = (await a.conversations.members(conv.conversationId))
        .filter((m) => m.leftAtSeq === null)
        .map((m) => m.userId);
      assert.deepEqual((await a.conversations.currentMemberIds(conv.conversationId)).sort(), current.sort());
      assert.deepEqual(current.sort(), [...conv.members.map((m) => m.userId), back].sort());
      assert.deepEqual(await a.conversations.currentMemberIds(uid("missing")), []);
    });

    c.test("a seat that carries the last sequence carries the conversation's current one", async (a) => {
      const conv = await newConversation(a);
      await send(a, conv.conversationId, conv.owner, "m1");
      await send(a, conv.conversationId, conv.owner, "m2");
      const seat = await a.conversations.seat(conv.conversationId, conv.owner);
      const current = (await a.conversations.get(conv.conversationId))?.lastSequence;
      assert.ok(current !== undefined && current >= 3n);
      if (seat?.lastSequence !== undefined) assert.equal(seat.lastSequence, current);
    });

    c.test("membership and settings changes bump the version by one; messages and info changes do not", async (a) => {
      const conv = await newConversation(a);
      const carol = uid("carol");
      await a.seedUsers([carol]);
      const version = async () => (await a.conversations.roster(conv.conversationId))?.membershipVersion;
      await send(a, conv.conversationId, conv.owner, "m1", 0n);
      assert.equal(await version(), 0n);
      await change(a, conv.conversationId, conv.owner, {
        membership: { add: [{ userId: carol, role: "member" }] },
        expected: 0n,
      });
      assert.equal(await version(), 1n);
      const info = { name: "renamed", description: "about", pictureRef: "media:1" };
      await change(a, conv.conversationId, conv.owner, { group: { info }, expected: 1n });
      assert.equal(await version(), 1n);
      assert.deepEqual(await a.conversations.get(conv.conversationId).then((r) => r && [r.name, r.description, r.pictureRef]), [
        "renamed",
        "about",
        "media:1",
      ]);
      const settings = { ...defaultGroupSettings, sendMessages: "admins" as const, historyVisibleToNewMembers: true };
      await change(a, conv.conversationId, conv.owner, { group: { settings }, expected: 1n });
      assert.equal(await version(), 2n);
      assert.deepEqual((await a.conversations.seat(conv.conversationId, carol))?.group.settings, settings);
      assert.equal((await a.conversations.get(conv.conversationId))?.lastSequence, 5n);
    });

    c.test("a stale expectedMembershipVersion stores nothing and throws MEMBERSHIP_VERSION_CONFLICT", async (a) => {
      const conv = await newConversation(a);
      const bob = conv.members[1]?.userId as string;
      await change(a, conv.conversationId, conv.owner, { membership: { roles: [{ userId: bob, role: "admin" }] }, expected: 0n });
      await assert.rejects(change(a, conv.conversationId, conv.owner, { membership: { remove: bob }, expected: 0n }), isConflict);
      await assert.rejects(send(a, conv.conversationId, bob, "stale", 0n), isConflict);
      const events = await a.log.readAfter(conv.conversationId, 0n, noLimit, 10);
      assert.deepEqual(
        events.map((e) => e.sequence),
        [1n, 2n],
      );
      const seat = await a.conversations.seat(conv.conversationId, bob);
      assert.deepEqual([seat?.member.role, seat?.member.leftAtSeq, seat?.group.membershipVersion], ["admin", null, 1n]);
      assert.equal((await send(a, conv.conversationId, bob, "fresh", 1n)).event.sequence, 3n, "no hole");
    });

    c.test("a retried send is answered as a duplicate before its version is checked", async (a) => {
      const conv = await newConversation(a);
      const first = await send(a, conv.conversationId, conv.owner, "m1", 0n);
      const bob = conv.members[1]?.userId as string;
      await change(a, conv.conversationId, conv.owner, { membership: { roles: [{ userId: bob, role: "admin" }] }, expected: 0n });
      const again = await send(a, conv.conversationId, conv.owner, "m1", 0n);
      assert.deepEqual([again.duplicate, again.event.sequence], [true, first.event.sequence]);
    });

    c.test("concurrent changes expecting one version: exactly one is decided, the rest conflict", async (a) => {
      const conv = await newConversation(a);
      const newcomers = Array.from({ length: 12 }, () => uid("newcomer"));
      await a.seedUsers(newcomers);
      const outcomes = await Promise.all(
        newcomers.map((userId) =>
          change(a, conv.conversationId, conv.owner, { membership: { add: [{ userId, role: "member" }] }, expected: 0n }).then(
            (r) => r.event.sequence,
            (error) => (isConflict(error) ? "conflict" : Promise.reject(error)),
          ),
        ),
      );
      assert.deepEqual(
        outcomes.filter((o) => o !== "conflict"),
        [2n],
      );
      const roster = await a.conversations.roster(conv.conversationId);
      assert.equal(roster?.membershipVersion, 1n);
      assert.equal(roster?.members.length, 3);
      assert.equal((await a.conversations.get(conv.conversationId))?.lastSequence, 2n);
    });

    c.test("sends and changes racing: each is decided only at the version it expects, the log stays contiguous", async (a) => {
      const conv = await newConversation(a);
      const users = Array.from({ length: 10 }, () => uid("user"));
      await a.seedUsers(users);
      // Each job retries on conflict with the version it reads, as the services do.
      const retrying = async (attempt: (version: bigint) => Promise<{ event: ConversationEvent }>) => {
        for (;;) {
          const version = (await a.conversations.roster(conv.conversationId))?.membershipVersion ?? 0n;
          try {
            return { version, event: (await attempt(version)).event };
          } catch (error) {
            if (!isConflict(error)) throw error;
          }
        }
      };
      const jobs = shuffled([
        ...users.map(
          (userId) => () =>
            retrying((v) =>
              change(a, conv.conversationId, conv.owner, { membership: { add: [{ userId, role: "member" }] }, expected: v }),
            ),
        ),
        ...Array.from({ length: 20 }, (_, i) => () => retrying((v) => send(a, conv.conversationId, conv.owner, `m${i}`, v))),
      ]);
      const results = await Promise.all(jobs.map((job) => job()));
      assert.deepEqual(
        results.map((r) => r.event.sequence).sort((x, y) => (x < y ? -1 : 1)),
        range(2n, 31n),
      );
      const roster = await a.conversations.roster(conv.conversationId);
      assert.equal(roster?.membershipVersion, 10n);
      // In log order, each event was decided at the version its job read: the adds count up from 0.
      const byOrder = [...results].sort((x, y) => (x.event.sequence < y.event.sequence ? -1 : 1));
      let expected = 0n;
      for (const r of byOrder) {
        assert.equal(r.version, expected, `event ${r.event.sequence} decided at the version it read`);
        if (r.event.body.case !== "message") expected++;
      }
    });

    c.test("removal with ban and a new owner, roles, bans and unbans are applied with their events", async (a) => {
      const conv = await newConversation(a);
      const [bob, carol] = [conv.members[1]?.userId as string, uid("carol")];
      await a.seedUsers([carol]);
      const at = async (userId: string) => (await a.conversations.seat(conv.conversationId, userId))?.member;
      await change(a, conv.conversationId, conv.owner, { membership: { add: [{ userId: carol, role: "member" }] } });
      await change(a, conv.conversationId, conv.owner, { membership: { roles: [{ userId: carol, role: "admin" }] } });
      assert.equal((await at(carol))?.role, "admin");
      const left = await change(a, conv.conversationId, conv.owner, { membership: { remove: conv.owner, newOwner: carol } });
      assert.deepEqual([(await at(carol))?.role, (await at(conv.owner))?.leftAtSeq], ["owner", left.event.sequence]);
      const removed = await change(a, conv.conversationId, carol, { membership: { remove: bob, ban: true } });
      assert.deepEqual(
        [(await at(bob))?.leftAtSeq, (await at(bob))?.banned, (await at(conv.owner))?.banned],
        [removed.event.sequence, true, false],
      );
      await change(a, conv.conversationId, carol, { membership: { ban: conv.owner } });
      assert.equal((await at(conv.owner))?.banned, true);
      await change(a, conv.conversationId, carol, { membership: { unban: bob } });
      assert.equal((await at(bob))?.banned, false);
      const roster = await a.conversations.roster(conv.conversationId);
      assert.equal(roster?.membershipVersion, 6n);
      assert.deepEqual(
        roster?.members.filter((m) => m.leftAtSeq === null).map((m) => [m.userId, m.role]),
        [[carol, "owner"]],
      );
    });

    c.test("a roster read holds every change up to the version it reports (and at most the one being applied)", async (a) => {
      const conv = await newConversation(a);
      const newcomers = Array.from({ length: 12 }, () => uid("newcomer"));
      await a.seedUsers(newcomers);
      let done = false;
      const seen: { version: bigint; ids: Set<string> }[] = [];
      const reader = (async () => {
        while (!done) {
          const roster = await a.conversations.roster(conv.conversationId);
          if (roster) seen.push({ version: roster.membershipVersion, ids: new Set(roster.members.map((m) => m.userId)) });
          // Let the event loop turn: an embedded store answers reads at once but commits writes
          // at the end of a turn (group commit), which a loop of reads alone would never reach.
          await new Promise((resolve) => setImmediate(resolve));
        }
      })();
      // Version v + 1 adds newcomers[v]. An append expecting the reported version fails while a
      // later change is still being applied, so that change may show early, but nothing beyond it.
      for (const [v, userId] of newcomers.entries()) {
        await change(a, conv.conversationId, conv.owner, {
          membership: { add: [{ userId, role: "member" }] },
          expected: BigInt(v),
        });
      }
      done = true;
      await reader;
      assert.ok(seen.length > 0);
      for (const { version, ids } of seen) {
        newcomers.forEach((userId, v) => {
          if (BigInt(v) < version) assert.ok(ids.has(userId), `version ${version} holds the add of version ${v + 1}`);
          if (BigInt(v) > version) assert.ok(!ids.has(userId), `version ${version} holds nothing of version ${v + 1}`);
        });
      }
    });

    c.test("members added while history is visible may read from sequence 1; others from their join", async (a) => {
      const conv = await newConversation(a);
      const [hidden, shown] = [uid("hidden"), uid("shown")];
      await a.seedUsers([hidden, shown]);
      await send(a, conv.conversationId, conv.owner, "m1");
      const h = await change(a, conv.conversationId, conv.owner, { membership: { add: [{ userId: hidden, role: "member" }] } });
      const s = await change(a, conv.conversationId, conv.owner, {
        membership: { add: [{ userId: shown, role: "member" }], historyVisible: true },
      });
      const hiddenSeat = await a.conversations.seat(conv.conversationId, hidden);
      const shownSeat = await a.conversations.seat(conv.conversationId, shown);
      assert.deepEqual([hiddenSeat?.member.joinedAtSeq, hiddenSeat?.member.visibleFromSeq], [h.event.sequence, h.event.sequence]);
      assert.deepEqual([shownSeat?.member.joinedAtSeq, shownSeat?.member.visibleFromSeq], [s.event.sequence, 1n]);
    });

    c.test("a deleted group is marked in get, roster and seat, and leaves listForUser", async (a) => {
      const conv = await newConversation(a);
      const other = await newConversation(a, {
        members: [
          { userId: conv.owner, role: "member" },
          { userId: uid("owner"), role: "owner" },
        ],
      });
      const deletedAtMs = 1_700_000_100_000;
      await change(a, conv.conversationId, conv.owner, { group: { deleted: true }, expected: 0n, sentAtMs: deletedAtMs });
      assert.equal((await a.conversations.get(conv.conversationId))?.deletedAt, deletedAtMs);
      assert.equal((await a.conversations.roster(conv.conversationId))?.deletedAt, deletedAtMs);
      assert.deepEqual(await a.conversations.seat(conv.conversationId, conv.owner).then((s) => s?.group), {
        membershipVersion: 1n,
        settings: defaultGroupSettings,
        deletedAt: deletedAtMs,
      });
      assert.deepEqual(
        (await a.conversations.listForUser(conv.owner, 10)).map((l) => l.conversationId),
        [other.conversationId],
      );
    });

    c.end();
  });
}

const link = (conversationId: string, input: Partial<InviteLinkRecord> = {}): InviteLinkRecord => ({
  code: uid("code"),
  conversationId,
  createdBy: uid("creator"),
  createdAt: 1_700_000_000_000,
  expiresAt: null,
  maxUses: 0,
  uses: 0,
  revokedAt: null,
  ...input,
});

export function inviteLinkStoreContract(
  name: string,
  makeAdapters: () => Promise<MessagingAdapters>,
  options: ContractOptions = {},
) {
  describe(`InviteLinkStore contract: ${name}`, () => {
    const c = contractCases(makeAdapters, options);
    const now = 1_700_000_500_000;

    c.test("create, find and list (newest first, only the group's own)", async (a) => {
      const conv = await newConversation(a);
      const noise = await newConversation(a);
      const older = link(conv.conversationId, { createdAt: 1 });
      const newer = link(conv.conversationId, { createdAt: 2, expiresAt: now + 1, maxUses: 3 });
      for (const l of [older, newer, link(noise.conversationId)]) await a.links.create(l);
      assert.deepEqual(await a.links.find(newer.code), newer);
      assert.equal(await a.links.find(uid("code")), undefined);
      assert.deepEqual(await a.links.list(conv.conversationId), [newer, older]);
    });

    c.test("concurrent claims never take more than maxUses; release gives one back, never below zero", async (a) => {
      const conv = await newConversation(a);
      const limited = link(conv.conversationId, { maxUses: 5 });
      await a.links.create(limited);
      const outcomes = await Promise.all(Array.from({ length: 20 }, () => a.links.claim(limited.code, now)));
      assert.equal(outcomes.filter((o) => o === "claimed").length, 5);
      assert.ok(outcomes.every((o) => o === "claimed" || o === "exhausted"));
      assert.equal((await a.links.find(limited.code))?.uses, 5);
      await a.links.release(limited.code);
      assert.equal(await a.links.claim(limited.code, now), "claimed");
      const unlimited = link(conv.conversationId);
      await a.links.create(unlimited);
      await a.links.release(unlimited.code);
      assert.equal((await a.links.find(unlimited.code))?.uses, 0);
      assert.deepEqual(await Promise.all([1, 2, 3].map(() => a.links.claim(unlimited.code, now))), [
        "claimed",
        "claimed",
        "claimed",
      ]);
    });

    c.test("expired, revoked and unknown links cannot be claimed; revoke keeps the first time", async (a) => {
      const conv = await newConversation(a);
      const expiring = link(conv.conversationId, { expiresAt: now });
      const revoked = link(conv.conversationId);
      for (const l of [expiring, revoked]) await a.links.create(l);
      assert.equal(await a.links.claim(expiring.code, now - 1), "claimed");
      assert.equal(await a.links.claim(expiring.code, now), "expired");
      assert.equal((await a.links.revoke(revoked.code, now))?.revokedAt, now);
      assert.equal((await a.links.revoke(revoked.code, now + 5))?.revokedAt, now);
      assert.equal(await a.links.claim(revoked.code, now), "revoked");
      assert.equal(await a.links.claim(uid("code"), now), "missing");
      assert.equal(await a.links.revoke(uid("code"), now), undefined);
      assert.equal((await a.links.find(revoked.code))?.uses, 0);
    });

    c.end();
  });
}

export function joinRequestStoreContract(
  name: string,
  makeAdapters: () => Promise<MessagingAdapters>,
  options: ContractOptions = {},
) {
  describe(`JoinRequestStore contract: ${name}`, () => {
    const c = contractCases(makeAdapters, options);

    c.test("one pending request per user: concurrent puts create one, the rest get it", async (a) => {
      const conv = await newConversation(a);
      const userId = uid("joiner");
      const results = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          a.joinRequests.put({ conversationId: conv.conversationId, userId, code: `code-${i}`, requestedAt: 100 + i }),
        ),
      );
      assert.equal(results.filter((r) => r.created).length, 1);
      const winner = results.find((r) => r.created)?.request;
      for (const r of results) assert.deepEqual(r.request, winner);
      assert.deepEqual(await a.joinRequests.find(conv.conversationId, userId), winner);
    });

    c.test("list is oldest first and per group; remove says whether there was one", async (a) => {
      const conv = await newConversation(a);
      const noise = await newConversation(a);
      const [early, late] = [uid("early"), uid("late")];
      await a.joinRequests.put({ conversationId: conv.conversationId, userId: late, code: "c", requestedAt: 20 });
      await a.joinRequests.put({ conversationId: conv.conversationId, userId: early, code: "c", requestedAt: 10 });
      await a.joinRequests.put({ conversationId: noise.conversationId, userId: early, code: "c", requestedAt: 5 });
      assert.deepEqual(
        (await a.joinRequests.list(conv.conversationId)).map((r) => r.userId),
        [early, late],
      );
      assert.equal(await a.joinRequests.remove(conv.conversationId, early), true);
      assert.equal(await a.joinRequests.remove(conv.conversationId, early), false);
      assert.equal(await a.joinRequests.find(conv.conversationId, early), undefined);
      assert.equal((await a.joinRequests.list(noise.conversationId)).length, 1);
    });

    c.end();
  });
}

export function groupRetentionContract(
  name: string,
  makeAdapters: () => Promise<MessagingAdapters>,
  options: ContractOptions = {},
) {
  describe(`GroupRetention contract: ${name}`, () => {
    const c = contractCases(makeAdapters, options);

    c.test("deletedBefore lists groups deleted before the cutoff; purge removes everything, twice safely", async (a) => {
      const kept = await newConversation(a);
      const gone = await newConversation(a, {
        members: [
          { userId: kept.owner, role: "owner" },
          { userId: uid("member"), role: "member" },
        ],
      });
      const deletedAt = 1_700_000_100_000;
      for (let i = 0; i < 3; i++) await send(a, gone.conversationId, kept.owner, `m${i}`);
      const l = link(gone.conversationId);
      await a.links.create(l);
      await a.joinRequests.put({ conversationId: gone.conversationId, userId: uid("joiner"), code: l.code, requestedAt: 1 });
      await change(a, gone.conversationId, kept.owner, { group: { deleted: true }, sentAtMs: deletedAt });
      assert.ok(!(await a.retention.deletedBefore(deletedAt, 100)).includes(gone.conversationId), "not before its deletion");
      assert.ok((await a.retention.deletedBefore(deletedAt + 1, 100)).includes(gone.conversationId));
      await a.retention.purge(gone.conversationId);
      await a.retention.purge(gone.conversationId);
      assert.ok(!(await a.retention.deletedBefore(deletedAt + 1, 100)).includes(gone.conversationId));
      assert.equal(await a.conversations.get(gone.conversationId), undefined);
      assert.equal(await a.conversations.roster(gone.conversationId), undefined);
      assert.deepEqual(await a.log.readAfter(gone.conversationId, 0n, noLimit, 10), []);
      assert.deepEqual(await a.links.list(gone.conversationId), []);
      assert.equal(await a.links.find(l.code), undefined);
      assert.deepEqual(await a.joinRequests.list(gone.conversationId), []);
      assert.deepEqual(
        (await a.conversations.membershipsOf(kept.owner)).map((m) => m.conversationId),
        [kept.conversationId],
      );
      assert.equal((await a.log.readAfter(kept.conversationId, 0n, noLimit, 10)).length, 1, "other groups are untouched");
    });

    c.end();
  });
}
