// Contract suites of the messaging ports (services/messaging/ports.ts): ConversationStore,
// EventLog and ReceiptStore. Each suite takes a named factory of fresh adapters, so every adapter of
// a port (SQLite today; Cassandra later) runs the same cases.
import assert from "node:assert/strict";
import { describe } from "node:test";
import { equals } from "@bufbuild/protobuf";
import { type ConversationEvent, ConversationEventSchema } from "../../gen/parley/v1/events_pb.js";
import type {
  ConversationKindName,
  ConversationRecord,
  ConversationStore,
  EventLog,
  GroupRetention,
  InviteLinkStore,
  JoinRequestStore,
  ReceiptStore,
  Role,
} from "../../services/messaging/ports.ts";
import {
  type Cleanup,
  type ContractOptions,
  contractCases,
  createdEvent,
  isNotFound,
  memberRemovedEvent,
  membersAddedEvent,
  messageEvent,
  range,
  shuffled,
  textOf,
  uid,
} from "./harness.ts";

/** The adapter set the messaging suites run against. */
export interface MessagingAdapters extends Cleanup {
  conversations: ConversationStore;
  log: EventLog;
  receipts: ReceiptStore;
  links: InviteLinkStore;
  joinRequests: JoinRequestStore;
  retention: GroupRetention;
  /**
   * Makes these users exist wherever the adapter checks references (SQLite's foreign keys from
   * members to users); a no-op for stores that do not.
   */
  seedUsers(userIds: string[]): Promise<void>;
}

export const noLimit = BigInt(Number.MAX_SAFE_INTEGER);
const t0 = 1_700_000_000_000;

/** Creates a conversation the way conversations.ts does, with fresh users unless given. */
export async function newConversation(
  a: Pick<MessagingAdapters, "conversations" | "seedUsers">,
  input: {
    kind?: ConversationKindName;
    members?: { userId: string; role: Role }[];
    uniqueKey?: { direct: string } | { creation: string };
    createdAt?: number;
    name?: string;
  } = {},
) {
  const members = input.members ?? [
    { userId: uid("owner"), role: "owner" },
    { userId: uid("member"), role: "member" },
  ];
  await a.seedUsers(members.map((m) => m.userId));
  const conversationId = uid("conversation");
  const createdAt = input.createdAt ?? t0;
  const firstEvent = createdEvent(
    conversationId,
    (members[0] as { userId: string }).userId,
    members.map((m) => m.userId),
    createdAt,
  );
  const conversation: ConversationRecord = {
    conversationId,
    kind: input.kind ?? "group",
    name: input.name ?? "a group",
    description: "",
    pictureRef: "",
    createdAt,
    lastSequence: 1n,
    deletedAt: null,
  };
  const result = await a.conversations.create({
    conversation,
    uniqueKey: input.uniqueKey ?? { creation: uid("creation") },
    members,
    firstEvent,
  });
  return {
    ...result,
    conversationId,
    firstEvent,
    members,
    owner: (members[0] as { userId: string }).userId,
    input: conversation,
  };
}

const sequences = (events: ConversationEvent[]) => events.map((e) => e.sequence);

export function conversationStoreContract(
  name: string,
  makeAdapters: () => Promise<MessagingAdapters>,
  options: ContractOptions = {},
) {
  describe(`ConversationStore contract: ${name}`, () => {
    const c = contractCases(makeAdapters, options);

    c.test("create stores the conversation, its members and the creation event at sequence 1", async (a) => {
      const created = await newConversation(a, { name: "Trip" });
      assert.equal(created.created, true);
      assert.deepEqual(created.conversation, created.input);
      assert.deepEqual(await a.conversations.get(created.conversationId), created.input);
      const members = await a.conversations.members(created.conversationId);
      assert.deepEqual(
        [...members].sort((x, y) => (x.userId < y.userId ? -1 : 1)),
        created.members
          .map((m) => ({
            conversationId: created.conversationId,
            userId: m.userId,
            role: m.role,
            joinedAtSeq: 1n,
            leftAtSeq: null,
            visibleFromSeq: 1n,
            banned: false,
            deliveredThrough: 0n,
            readThrough: 0n,
          }))
          .sort((x, y) => (x.userId < y.userId ? -1 : 1)),
      );
      const events = await a.log.readAfter(created.conversationId, 0n, noLimit, 10);
      assert.equal(events.length, 1);
      assert.ok(equals(ConversationEventSchema, events[0] as ConversationEvent, created.firstEvent));
    });

    c.test("create is idempotent by direct key: the original is returned and nothing is written", async (a) => {
      const [x, y] = [uid("user"), uid("user")];
      const key = { direct: `${x}:${y}` };
      const members = [
        { userId: x, role: "member" as const },
        { userId: y, role: "member" as const },
      ];
      const first = await newConversation(a, { kind: "direct", uniqueKey: key, members, name: "" });
      const second = await newConversation(a, { kind: "direct", uniqueKey: key, members, name: "other", createdAt: t0 + 5 });
      assert.equal(second.created, false);
      assert.deepEqual(second.conversation, first.input);
      assert.equal(await a.conversations.get(second.conversationId), undefined);
      assert.deepEqual(await a.conversations.members(second.conversationId), []);
      assert.equal((await a.conversations.get(first.conversationId))?.lastSequence, 1n);
      assert.deepEqual(await a.log.readAfter(second.conversationId, 0n, noLimit, 10), []);
      assert.equal((await a.log.readAfter(first.conversationId, 0n, noLimit, 10)).length, 1);
    });

    c.test("create is idempotent by creation key: the original is returned and nothing is written", async (a) => {
      const key = { creation: uid("creator:request") };
      const first = await newConversation(a, { uniqueKey: key, name: "first" });
      const strangers = [
        { userId: uid("stranger"), role: "owner" as const },
        { userId: uid("stranger"), role: "member" as const },
      ];
      const second = await newConversation(a, { uniqueKey: key, name: "second", members: strangers });
      assert.equal(second.created, false);
      assert.deepEqual(second.conversation, first.input);
      assert.equal(await a.conversations.get(second.conversationId), undefined);
      for (const s of strangers) {
        assert.equal(await a.conversations.membership(first.conversationId, s.userId), undefined);
        assert.deepEqual(await a.conversations.membershipsOf(s.userId), []);
      }
    });

    c.test("concurrent creates with one unique key create exactly one conversation", async (a) => {
      const key = { creation: uid("creator:request") };
      const members = [
        { userId: uid("owner"), role: "owner" as const },
        { userId: uid("member"), role: "member" as const },
      ];
      const results = await Promise.all(Array.from({ length: 20 }, () => newConversation(a, { uniqueKey: key, members })));
      const winners = results.filter((r) => r.created);
      assert.equal(winners.length, 1);
      const winnerId = winners[0]?.conversationId;
      for (const r of results) assert.equal(r.conversation.conversationId, winnerId);
      for (const r of results) if (!r.created) assert.equal(await a.conversations.get(r.conversationId), undefined);
      const listed = await a.conversations.listForUser(members[0]?.userId as string, 100);
      assert.deepEqual(
        listed.map((l) => l.conversationId),
        [winnerId],
      );
    });

    c.test("direct keys and creation keys are separate: equal strings do not collide", async (a) => {
      const key = `${uid("user")}:${uid("user")}`;
      const direct = await newConversation(a, { kind: "direct", uniqueKey: { direct: key } });
      const group = await newConversation(a, { kind: "group", uniqueKey: { creation: key } });
      assert.equal(direct.created, true);
      assert.equal(group.created, true);
      assert.notEqual(direct.conversation.conversationId, group.conversation.conversationId);
      assert.equal(group.conversation.kind, "group");
    });

    c.test("a create that cannot store every member stores nothing", async (a) => {
      // One member is never seeded: an adapter that checks references must refuse the whole create;
      // one that does not must store all of it.
      const known = uid("known");
      const ghost = uid("ghost");
      await a.seedUsers([known]);
      const conversationId = uid("conversation");
      const key = { creation: uid("creator:request") };
      const conversation: ConversationRecord = {
        conversationId,
        kind: "group",
        name: "g",
        description: "",
        pictureRef: "",
        createdAt: t0,
        lastSequence: 1n,
        deletedAt: null,
      };
      const outcome = await a.conversations
        .create({
          conversation,
          uniqueKey: key,
          members: [
            { userId: known, role: "owner" },
            { userId: ghost, role: "member" },
          ],
          firstEvent: createdEvent(conversationId, known, [known, ghost]),
        })
        .then(
          () => "stored",
          () => "refused",
        );
      if (outcome === "refused") {
        assert.equal(await a.conversations.get(conversationId), undefined);
        assert.deepEqual(await a.conversations.members(conversationId), []);
        assert.deepEqual(await a.conversations.membershipsOf(known), []);
        assert.deepEqual(await a.log.readAfter(conversationId, 0n, noLimit, 10), []);
        // The key stays free: a retry with valid members creates the conversation.
        await a.seedUsers([ghost]);
        const retry = await newConversation(a, { uniqueKey: key });
        assert.equal(retry.created, true);
      } else {
        assert.deepEqual(await a.conversations.get(conversationId), conversation);
        assert.equal((await a.conversations.members(conversationId)).length, 2);
        assert.equal((await a.log.readAfter(conversationId, 0n, noLimit, 10)).length, 1);
      }
    });

    c.test("get returns undefined for an unknown conversation", async (a) => {
      assert.equal(await a.conversations.get(uid("missing")), undefined);
      assert.deepEqual(await a.conversations.members(uid("missing")), []);
      assert.equal(await a.conversations.membership(uid("missing"), uid("user")), undefined);
    });

    c.test("membership and membershipsOf return the user's records across conversations", async (a) => {
      const me = uid("me");
      const one = await newConversation(a, {
        members: [
          { userId: me, role: "owner" },
          { userId: uid("peer"), role: "member" },
        ],
      });
      const two = await newConversation(a, {
        members: [
          { userId: uid("peer"), role: "owner" },
          { userId: me, role: "member" },
        ],
      });
      await newConversation(a); // someone else's
      assert.equal((await a.conversations.membership(one.conversationId, me))?.role, "owner");
      assert.equal((await a.conversations.membership(two.conversationId, me))?.role, "member");
      const mine = await a.conversations.membershipsOf(me);
      assert.deepEqual(mine.map((m) => m.conversationId).sort(), [one.conversationId, two.conversationId].sort());
      assert.ok(mine.every((m) => m.userId === me && m.joinedAtSeq === 1n && m.leftAtSeq === null));
      assert.deepEqual(await a.conversations.membershipsOf(uid("nobody")), []);
    });

    c.test("listForUser lists only the user's conversations, most recently active first", async (a) => {
      const me = uid("me");
      const mk = (createdAt: number) =>
        newConversation(a, {
          createdAt,
          members: [
            { userId: me, role: "owner" },
            { userId: uid("peer"), role: "member" },
          ],
        });
      const old = await mk(t0 + 1_000);
      const newest = await mk(t0 + 3_000);
      const middle = await mk(t0 + 2_000);
      await newConversation(a, { createdAt: t0 + 9_000 }); // not mine
      const listed = await a.conversations.listForUser(me, 10);
      assert.deepEqual(
        listed.map((l) => l.conversationId),
        [newest.conversationId, middle.conversationId, old.conversationId],
      );
      assert.deepEqual(
        listed.map(({ activity: _activity, ...record }) => record),
        [newest.input, middle.input, old.input],
      );
      assert.ok(listed[0] && listed[1] && listed[0].activity > listed[1].activity);
    });

    c.test("listForUser pages by cursor without skipping or repeating, ties included", async (a) => {
      const me = uid("me");
      const ids: string[] = [];
      // Seven conversations over three distinct activity times: ties must page consistently.
      for (const createdAt of [t0 + 1, t0 + 2, t0 + 2, t0 + 2, t0 + 3, t0 + 3, t0 + 1]) {
        const created = await newConversation(a, {
          createdAt,
          members: [
            { userId: me, role: "owner" },
            { userId: uid("peer"), role: "member" },
          ],
        });
        ids.push(created.conversationId);
      }
      const all = await a.conversations.listForUser(me, 100);
      assert.deepEqual([...all.map((r) => r.conversationId)].sort(), [...ids].sort());
      for (let i = 1; i < all.length; i++) {
        const prev = all[i - 1] as { activity: number };
        assert.ok(prev.activity >= (all[i] as { activity: number }).activity, "activity descends");
      }
      for (const pageSize of [1, 2, 3]) {
        const paged: string[] = [];
        let cursor: { activity: number; conversationId: string } | undefined;
        for (let guard = 0; guard < 20; guard++) {
          const page = await a.conversations.listForUser(me, pageSize, cursor);
          assert.ok(page.length <= pageSize);
          paged.push(...page.map((r) => r.conversationId));
          const last = page.at(-1);
          if (page.length < pageSize || !last) break;
          cursor = { activity: last.activity, conversationId: last.conversationId };
        }
        assert.deepEqual(
          paged,
          all.map((r) => r.conversationId),
          `page size ${pageSize}`,
        );
      }
    });

    c.test("listForUser moves a conversation to the front when an event is appended", async (a) => {
      const me = uid("me");
      const peer = uid("peer");
      const members = [
        { userId: me, role: "owner" as const },
        { userId: peer, role: "member" as const },
      ];
      const quiet = await newConversation(a, { createdAt: t0 + 1_000, members: [...members] });
      const busy = await newConversation(a, { createdAt: t0 + 2_000, members: [...members] });
      assert.deepEqual(
        (await a.conversations.listForUser(me, 10)).map((r) => r.conversationId),
        [busy.conversationId, quiet.conversationId],
      );
      await a.log.append({
        conversationId: quiet.conversationId,
        event: messageEvent({ sender: me, clientMessageId: "m1", text: "hi", sentAtMs: t0 + 5_000 }),
        clientMessageId: "m1",
      });
      const listed = await a.conversations.listForUser(me, 10);
      assert.deepEqual(
        listed.map((r) => r.conversationId),
        [quiet.conversationId, busy.conversationId],
      );
      assert.equal(listed[0]?.lastSequence, 2n);
    });

    c.end();
  });
}

export function eventLogContract(name: string, makeAdapters: () => Promise<MessagingAdapters>, options: ContractOptions = {}) {
  describe(`EventLog contract: ${name}`, () => {
    const c = contractCases(makeAdapters, options);

    const send = (a: MessagingAdapters, conversationId: string, sender: string, clientMessageId: string, text = "hello") =>
      a.log.append({ conversationId, event: messageEvent({ sender, clientMessageId, text }), clientMessageId });

    c.test("append assigns the next sequence and stores the event as given", async (a) => {
      const conv = await newConversation(a);
      const draft = messageEvent({ sender: conv.owner, clientMessageId: "m1", text: "first" });
      const { event, duplicate } = await a.log.append({
        conversationId: conv.conversationId,
        event: draft,
        clientMessageId: "m1",
      });
      assert.equal(duplicate, false);
      assert.equal(event.sequence, 2n);
      assert.equal(event.conversationId, conv.conversationId);
      assert.ok(equals(ConversationEventSchema, event, { ...draft, conversationId: conv.conversationId, sequence: 2n }));
      const stored = await a.log.readAfter(conv.conversationId, 1n, noLimit, 10);
      assert.equal(stored.length, 1);
      assert.ok(equals(ConversationEventSchema, stored[0] as ConversationEvent, event));
      assert.equal((await a.conversations.get(conv.conversationId))?.lastSequence, 2n);
    });

    c.test("200 concurrent appends get sequences 2..201 exactly: no holes, no duplicates", async (a) => {
      const conv = await newConversation(a);
      const results = await Promise.all(
        Array.from({ length: 200 }, (_, i) =>
          i % 2 === 0
            ? send(a, conv.conversationId, conv.owner, `m${i}`, `text ${i}`)
            : a.log.append({
                conversationId: conv.conversationId,
                event: messageEvent({ sender: conv.owner, clientMessageId: "", text: `text ${i}` }),
              }),
        ),
      );
      assert.ok(results.every((r) => !r.duplicate));
      const assigned = results.map((r) => r.event.sequence).sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
      assert.deepEqual(assigned, range(2n, 201n));
      const stored = await a.log.readAfter(conv.conversationId, 0n, noLimit, 1000);
      assert.deepEqual(sequences(stored), range(1n, 201n));
      const bySequence = new Map(results.map((r) => [r.event.sequence, r.event]));
      for (const e of stored.slice(1))
        assert.ok(equals(ConversationEventSchema, e, bySequence.get(e.sequence) as ConversationEvent));
      assert.equal((await a.conversations.get(conv.conversationId))?.lastSequence, 201n);
    });

    c.test("concurrent appends to several conversations keep each conversation contiguous", async (a) => {
      const convs = await Promise.all([newConversation(a), newConversation(a), newConversation(a)]);
      const jobs = shuffled(convs.flatMap((conv) => Array.from({ length: 40 }, (_, i) => ({ conv, i }))));
      await Promise.all(jobs.map(({ conv, i }) => send(a, conv.conversationId, conv.owner, `m${i}`)));
      for (const conv of convs) {
        const stored = await a.log.readAfter(conv.conversationId, 0n, noLimit, 1000);
        assert.deepEqual(sequences(stored), range(1n, 41n));
        assert.ok(stored.every((e) => e.conversationId === conv.conversationId));
        assert.equal((await a.conversations.get(conv.conversationId))?.lastSequence, 41n);
      }
    });

    c.test("append with a stored clientMessageId returns the original event, duplicate=true, and stores nothing", async (a) => {
      const conv = await newConversation(a);
      const original = await send(a, conv.conversationId, conv.owner, "m1", "original");
      const retry = await send(a, conv.conversationId, conv.owner, "m1", "a retry with other content");
      assert.equal(retry.duplicate, true);
      assert.ok(equals(ConversationEventSchema, retry.event, original.event));
      assert.equal(textOf(retry.event), "original");
      assert.equal((await a.conversations.get(conv.conversationId))?.lastSequence, 2n);
      assert.deepEqual(sequences(await a.log.readAfter(conv.conversationId, 0n, noLimit, 10)), [1n, 2n]);
      const next = await send(a, conv.conversationId, conv.owner, "m2");
      assert.equal(next.event.sequence, 3n, "a duplicate allocates no sequence");
    });

    c.test("concurrent appends with one clientMessageId store exactly one event", async (a) => {
      const conv = await newConversation(a);
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) => send(a, conv.conversationId, conv.owner, "m1", `try ${i}`)),
      );
      const fresh = results.filter((r) => !r.duplicate);
      assert.equal(fresh.length, 1);
      for (const r of results)
        assert.ok(equals(ConversationEventSchema, r.event, (fresh[0] as { event: ConversationEvent }).event));
      assert.deepEqual(sequences(await a.log.readAfter(conv.conversationId, 0n, noLimit, 100)), [1n, 2n]);
    });

    c.test("concurrent appends with repeated clientMessageIds: one event per id, contiguous", async (a) => {
      const conv = await newConversation(a);
      const ids = shuffled([...Array.from({ length: 60 }, (_, i) => `m${i}`), ...Array.from({ length: 60 }, (_, i) => `m${i}`)]);
      const results = await Promise.all(ids.map((id) => send(a, conv.conversationId, conv.owner, id)));
      assert.equal(results.filter((r) => !r.duplicate).length, 60);
      const firstById = new Map<string, bigint>();
      for (const [i, r] of results.entries()) {
        const id = ids[i] as string;
        const seen = firstById.get(id);
        if (seen === undefined) firstById.set(id, r.event.sequence);
        else assert.equal(r.event.sequence, seen, `both appends of ${id} answer with one event`);
      }
      assert.deepEqual(sequences(await a.log.readAfter(conv.conversationId, 0n, noLimit, 1000)), range(1n, 61n));
    });

    c.test("the idempotency key is (conversation, sender, clientMessageId)", async (a) => {
      const conv = await newConversation(a);
      const other = await newConversation(a);
      const [alice, bob] = [conv.members[0]?.userId as string, conv.members[1]?.userId as string];
      const first = await send(a, conv.conversationId, alice, "same-id");
      const otherSender = await send(a, conv.conversationId, bob, "same-id");
      const otherConversation = await send(a, other.conversationId, other.owner, "same-id");
      assert.equal(first.duplicate, false);
      assert.equal(otherSender.duplicate, false);
      assert.equal(otherSender.event.sequence, 3n);
      assert.equal(otherConversation.duplicate, false);
      assert.equal(otherConversation.event.sequence, 2n);
    });

    c.test("appends without a clientMessageId are never deduplicated", async (a) => {
      const conv = await newConversation(a);
      const draft = messageEvent({ sender: conv.owner, clientMessageId: "", text: "x" });
      const one = await a.log.append({ conversationId: conv.conversationId, event: draft });
      const two = await a.log.append({ conversationId: conv.conversationId, event: draft });
      assert.deepEqual([one.duplicate, two.duplicate], [false, false]);
      assert.deepEqual([one.event.sequence, two.event.sequence], [2n, 3n]);
    });

    c.test("append to an unknown conversation throws NOT_FOUND and creates nothing", async (a) => {
      const missing = uid("missing");
      const sender = uid("user");
      await a.seedUsers([sender]);
      await assert.rejects(send(a, missing, sender, "m1"), isNotFound);
      await assert.rejects(
        a.log.append({
          conversationId: missing,
          event: membersAddedEvent(sender, [sender]),
          membership: { add: [{ userId: sender, role: "member" }] },
        }),
        isNotFound,
      );
      assert.equal(await a.conversations.get(missing), undefined);
      assert.deepEqual(await a.log.readAfter(missing, 0n, noLimit, 10), []);
      assert.deepEqual(await a.conversations.membershipsOf(sender), []);
    });

    c.test("a membership add is applied with the event that records it", async (a) => {
      const conv = await newConversation(a);
      const [carol, dave] = [uid("carol"), uid("dave")];
      await a.seedUsers([carol, dave]);
      await send(a, conv.conversationId, conv.owner, "m1");
      const { event } = await a.log.append({
        conversationId: conv.conversationId,
        event: membersAddedEvent(conv.owner, [carol, dave]),
        membership: {
          add: [
            { userId: carol, role: "member" },
            { userId: dave, role: "member" },
          ],
        },
      });
      assert.equal(event.sequence, 3n);
      for (const userId of [carol, dave]) {
        const m = await a.conversations.membership(conv.conversationId, userId);
        assert.deepEqual(m && { joinedAtSeq: m.joinedAtSeq, leftAtSeq: m.leftAtSeq, role: m.role }, {
          joinedAtSeq: 3n,
          leftAtSeq: null,
          role: "member",
        });
      }
      assert.equal((await a.conversations.members(conv.conversationId)).length, 4);
    });

    c.test("a removal records the removing event; a re-add starts a new membership", async (a) => {
      const conv = await newConversation(a);
      const bob = conv.members[1]?.userId as string;
      const removed = await a.log.append({
        conversationId: conv.conversationId,
        event: memberRemovedEvent(conv.owner, bob),
        membership: { remove: bob },
      });
      assert.equal(removed.event.sequence, 2n);
      const gone = await a.conversations.membership(conv.conversationId, bob);
      assert.equal(gone?.leftAtSeq, 2n);
      assert.equal(gone?.joinedAtSeq, 1n);
      assert.ok(
        (await a.conversations.members(conv.conversationId)).some((m) => m.userId === bob && m.leftAtSeq === 2n),
        "former members stay listed",
      );
      assert.deepEqual(
        (await a.conversations.membershipsOf(bob)).map((m) => [m.conversationId, m.leftAtSeq]),
        [[conv.conversationId, 2n]],
      );
      await send(a, conv.conversationId, conv.owner, "m1");
      const readded = await a.log.append({
        conversationId: conv.conversationId,
        event: membersAddedEvent(conv.owner, [bob]),
        membership: { add: [{ userId: bob, role: "member" }] },
      });
      assert.equal(readded.event.sequence, 4n);
      const back = await a.conversations.membership(conv.conversationId, bob);
      assert.equal(back?.joinedAtSeq, 4n);
      assert.equal(back?.leftAtSeq, null);
    });

    c.test("concurrent membership changes each carry their own event's sequence", async (a) => {
      const conv = await newConversation(a);
      const newcomers = Array.from({ length: 30 }, () => uid("newcomer"));
      await a.seedUsers(newcomers);
      const jobs = shuffled([
        ...newcomers.map((userId) => ({ userId })),
        ...Array.from({ length: 30 }, (_, i) => ({ message: `m${i}` })),
      ]);
      const results = await Promise.all(
        jobs.map((job) =>
          "userId" in job
            ? a.log.append({
                conversationId: conv.conversationId,
                event: membersAddedEvent(conv.owner, [job.userId]),
                membership: { add: [{ userId: job.userId, role: "member" }] },
              })
            : send(a, conv.conversationId, conv.owner, job.message),
        ),
      );
      assert.deepEqual(
        results.map((r) => r.event.sequence).sort((x, y) => (x < y ? -1 : 1)),
        range(2n, 61n),
      );
      const stored = await a.log.readAfter(conv.conversationId, 0n, noLimit, 1000);
      for (const userId of newcomers) {
        const m = await a.conversations.membership(conv.conversationId, userId);
        assert.ok(m, `${userId} is a member`);
        const event = stored.find((e) => e.sequence === m.joinedAtSeq);
        assert.ok(
          event?.body.case === "membersAdded" && event.body.value.userIds.includes(userId),
          "joinedAtSeq points at the event that added the member",
        );
      }
    });

    c.test("an append whose membership change fails stores neither the event nor the change", async (a) => {
      // The user is never seeded: an adapter that checks references must refuse the whole append; one
      // that does not must store both. Either way the event and its membership change go together.
      const conv = await newConversation(a);
      const ghost = uid("ghost");
      const outcome = await a.log
        .append({
          conversationId: conv.conversationId,
          event: membersAddedEvent(conv.owner, [ghost]),
          membership: { add: [{ userId: ghost, role: "member" }] },
        })
        .then(
          () => "stored",
          () => "refused",
        );
      const stored = await a.log.readAfter(conv.conversationId, 0n, noLimit, 10);
      const member = await a.conversations.membership(conv.conversationId, ghost);
      const last = (await a.conversations.get(conv.conversationId))?.lastSequence;
      if (outcome === "refused") {
        assert.deepEqual(sequences(stored), [1n], "no event");
        assert.equal(member, undefined, "no membership");
        assert.equal(last, 1n, "no sequence allocated");
        assert.equal((await send(a, conv.conversationId, conv.owner, "m1")).event.sequence, 2n, "no hole");
      } else {
        assert.deepEqual(sequences(stored), [1n, 2n]);
        assert.equal(member?.joinedAtSeq, 2n);
        assert.equal(last, 2n);
      }
    });

    c.test("a duplicate append applies no membership change", async (a) => {
      const conv = await newConversation(a);
      const carol = uid("carol");
      await a.seedUsers([carol]);
      await send(a, conv.conversationId, conv.owner, "m1");
      const again = await a.log.append({
        conversationId: conv.conversationId,
        event: messageEvent({ sender: conv.owner, clientMessageId: "m1", text: "again" }),
        clientMessageId: "m1",
        membership: { add: [{ userId: carol, role: "member" }] },
      });
      assert.equal(again.duplicate, true);
      assert.equal(await a.conversations.membership(conv.conversationId, carol), undefined);
    });

    c.test("readAfter returns (after, upTo] ascending, at most limit", async (a) => {
      const conv = await newConversation(a);
      const noise = await newConversation(a);
      for (let i = 0; i < 9; i++) {
        await send(a, conv.conversationId, conv.owner, `m${i}`, `text ${i}`);
        await send(a, noise.conversationId, noise.owner, `m${i}`);
      }
      const id = conv.conversationId;
      assert.deepEqual(sequences(await a.log.readAfter(id, 0n, noLimit, 100)), range(1n, 10n));
      assert.deepEqual(sequences(await a.log.readAfter(id, 3n, 7n, 100)), [4n, 5n, 6n, 7n]);
      assert.deepEqual(sequences(await a.log.readAfter(id, 3n, 7n, 2)), [4n, 5n]);
      assert.deepEqual(sequences(await a.log.readAfter(id, 8n, 1000n, 100)), [9n, 10n]);
      assert.deepEqual(await a.log.readAfter(id, 10n, noLimit, 100), []);
      assert.deepEqual(await a.log.readAfter(id, 5n, 5n, 100), []);
      assert.deepEqual(await a.log.readAfter(id, 6n, 4n, 100), []);
      assert.deepEqual(await a.log.readAfter(uid("missing"), 0n, noLimit, 100), []);
      const page = await a.log.readAfter(id, 1n, noLimit, 100);
      assert.ok(page.every((e) => e.conversationId === id));
      assert.deepEqual(
        page.map(textOf),
        Array.from({ length: 9 }, (_, i) => `text ${i}`),
      );
    });

    c.test("readBefore returns the newest limit events before the bound, ascending", async (a) => {
      const conv = await newConversation(a);
      const noise = await newConversation(a);
      for (let i = 0; i < 9; i++) {
        await send(a, conv.conversationId, conv.owner, `m${i}`);
        await send(a, noise.conversationId, noise.owner, `m${i}`);
      }
      const id = conv.conversationId;
      assert.deepEqual(sequences(await a.log.readBefore(id, 11n, 3)), [8n, 9n, 10n]);
      assert.deepEqual(sequences(await a.log.readBefore(id, noLimit + 1n, 3)), [8n, 9n, 10n]);
      assert.deepEqual(sequences(await a.log.readBefore(id, 5n, 100)), [1n, 2n, 3n, 4n]);
      assert.deepEqual(sequences(await a.log.readBefore(id, 5n, 2)), [3n, 4n]);
      assert.deepEqual(sequences(await a.log.readBefore(id, 2n, 100)), [1n]);
      assert.deepEqual(await a.log.readBefore(id, 1n, 100), []);
      assert.deepEqual(await a.log.readBefore(uid("missing"), 100n, 100), []);
      assert.ok((await a.log.readBefore(id, 100n, 100)).every((e) => e.conversationId === id));
    });

    c.end();
  });
}

export function receiptStoreContract(
  name: string,
  makeAdapters: () => Promise<MessagingAdapters>,
  options: ContractOptions = {},
) {
  describe(`ReceiptStore contract: ${name}`, () => {
    const c = contractCases(makeAdapters, options);

    /** A conversation with 10 events (sequences 1..10). */
    const busyConversation = async (a: MessagingAdapters) => {
      const conv = await newConversation(a);
      for (let i = 0; i < 9; i++) {
        await a.log.append({
          conversationId: conv.conversationId,
          event: messageEvent({ sender: conv.owner, clientMessageId: `m${i}`, text: "x" }),
          clientMessageId: `m${i}`,
        });
      }
      return { ...conv, alice: conv.members[0]?.userId as string, bob: conv.members[1]?.userId as string };
    };

    const marks = (m: { deliveredThrough: bigint; readThrough: bigint } | undefined) =>
      m && { deliveredThrough: m.deliveredThrough, readThrough: m.readThrough };

    c.test("advanceDelivered raises the delivered watermark and reports the change", async (a) => {
      const conv = await busyConversation(a);
      const result = await a.receipts.advanceDelivered(conv.conversationId, conv.bob, "bob-phone", 5n);
      assert.deepEqual(result, { changed: true, deliveredThrough: 5n, readThrough: 0n });
      assert.deepEqual(marks(await a.conversations.membership(conv.conversationId, conv.bob)), {
        deliveredThrough: 5n,
        readThrough: 0n,
      });
    });

    c.test("advanceDelivered never lowers the watermark", async (a) => {
      const conv = await busyConversation(a);
      await a.receipts.advanceDelivered(conv.conversationId, conv.bob, "bob-phone", 7n);
      assert.deepEqual(await a.receipts.advanceDelivered(conv.conversationId, conv.bob, "bob-phone", 3n), {
        changed: false,
        deliveredThrough: 7n,
        readThrough: 0n,
      });
      assert.deepEqual(await a.receipts.advanceDelivered(conv.conversationId, conv.bob, "bob-phone", 7n), {
        changed: false,
        deliveredThrough: 7n,
        readThrough: 0n,
      });
      assert.equal((await a.conversations.membership(conv.conversationId, conv.bob))?.deliveredThrough, 7n);
    });

    c.test("advance with the watermarks the caller read answers as without them", async (a) => {
      const conv = await busyConversation(a);
      await a.receipts.advanceDelivered(conv.conversationId, conv.bob, "bob-phone", 4n);
      const seen = { deliveredThrough: 4n, readThrough: 0n };
      assert.deepEqual(await a.receipts.advanceDelivered(conv.conversationId, conv.bob, "bob-phone", 2n, seen), {
        changed: false,
        deliveredThrough: 4n,
        readThrough: 0n,
      });
      assert.deepEqual(await a.receipts.advanceDelivered(conv.conversationId, conv.bob, "bob-phone", 6n, seen), {
        changed: true,
        deliveredThrough: 6n,
        readThrough: 0n,
      });
      assert.deepEqual(
        await a.receipts.advanceRead(conv.conversationId, conv.bob, 5n, { deliveredThrough: 6n, readThrough: 0n }),
        {
          changed: true,
          deliveredThrough: 6n,
          readThrough: 5n,
        },
      );
      assert.deepEqual(marks(await a.conversations.membership(conv.conversationId, conv.bob)), {
        deliveredThrough: 6n,
        readThrough: 5n,
      });
      assert.equal((await a.receipts.deviceCursors("bob-phone")).get(conv.conversationId), 6n);
    });

    c.test("advanceRead raises read and delivered with it", async (a) => {
      const conv = await busyConversation(a);
      await a.receipts.advanceDelivered(conv.conversationId, conv.bob, "bob-phone", 3n);
      assert.deepEqual(await a.receipts.advanceRead(conv.conversationId, conv.bob, 6n), {
        changed: true,
        deliveredThrough: 6n,
        readThrough: 6n,
      });
      assert.deepEqual(marks(await a.conversations.membership(conv.conversationId, conv.bob)), {
        deliveredThrough: 6n,
        readThrough: 6n,
      });
    });

    c.test("advanceRead below delivered raises only read; neither watermark goes back", async (a) => {
      const conv = await busyConversation(a);
      await a.receipts.advanceDelivered(conv.conversationId, conv.bob, "bob-phone", 8n);
      assert.deepEqual(await a.receipts.advanceRead(conv.conversationId, conv.bob, 4n), {
        changed: true,
        deliveredThrough: 8n,
        readThrough: 4n,
      });
      assert.deepEqual(await a.receipts.advanceRead(conv.conversationId, conv.bob, 2n), {
        changed: false,
        deliveredThrough: 8n,
        readThrough: 4n,
      });
      assert.deepEqual(await a.receipts.advanceDelivered(conv.conversationId, conv.bob, "bob-phone", 1n), {
        changed: false,
        deliveredThrough: 8n,
        readThrough: 4n,
      });
    });

    c.test("watermarks are per member", async (a) => {
      const conv = await busyConversation(a);
      await a.receipts.advanceRead(conv.conversationId, conv.bob, 9n);
      assert.deepEqual(marks(await a.conversations.membership(conv.conversationId, conv.alice)), {
        deliveredThrough: 0n,
        readThrough: 0n,
      });
      assert.deepEqual(await a.receipts.advanceDelivered(conv.conversationId, conv.alice, "alice-phone", 2n), {
        changed: true,
        deliveredThrough: 2n,
        readThrough: 0n,
      });
    });

    c.test("device cursors are per device and conversation and never go back", async (a) => {
      const conv = await busyConversation(a);
      const other = await newConversation(a, {
        members: [
          { userId: conv.bob, role: "member" },
          { userId: uid("peer"), role: "owner" },
        ],
      });
      const [phone, laptop] = [uid("phone"), uid("laptop")];
      await a.receipts.advanceDelivered(conv.conversationId, conv.bob, phone, 6n);
      await a.receipts.advanceDelivered(conv.conversationId, conv.bob, phone, 4n);
      await a.receipts.advanceDelivered(other.conversationId, conv.bob, phone, 1n);
      // The laptop's cursor moves even though the member's watermark (6, from the phone) does not.
      const laptopAck = await a.receipts.advanceDelivered(conv.conversationId, conv.bob, laptop, 3n);
      assert.deepEqual(laptopAck, { changed: false, deliveredThrough: 6n, readThrough: 0n });
      assert.deepEqual(
        await a.receipts.deviceCursors(phone),
        new Map([
          [conv.conversationId, 6n],
          [other.conversationId, 1n],
        ]),
      );
      assert.deepEqual(await a.receipts.deviceCursors(laptop), new Map([[conv.conversationId, 3n]]));
      assert.deepEqual(await a.receipts.deviceCursors(uid("unknown-device")), new Map());
    });

    c.test("advanceRead does not move any device cursor", async (a) => {
      const conv = await busyConversation(a);
      const phone = uid("phone");
      await a.receipts.advanceDelivered(conv.conversationId, conv.bob, phone, 2n);
      await a.receipts.advanceRead(conv.conversationId, conv.bob, 9n);
      assert.deepEqual(await a.receipts.deviceCursors(phone), new Map([[conv.conversationId, 2n]]));
    });

    c.test("concurrent advances end at the maximum, never lower", async (a) => {
      const conv = await busyConversation(a);
      const phone = uid("phone");
      const throughs = shuffled(range(1n, 10n).flatMap((s) => [s, s]));
      const results = await Promise.all(
        throughs.map((through, i) =>
          i % 3 === 0
            ? a.receipts.advanceRead(conv.conversationId, conv.bob, through - 1n)
            : a.receipts.advanceDelivered(conv.conversationId, conv.bob, phone, through),
        ),
      );
      assert.ok(results.some((r) => r.changed));
      const max = (values: bigint[]) => [...values].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0)).at(-1) ?? 0n;
      const reads = throughs.filter((_, i) => i % 3 === 0).map((s) => s - 1n);
      const deliveries = throughs.filter((_, i) => i % 3 !== 0);
      const final = await a.conversations.membership(conv.conversationId, conv.bob);
      assert.equal(final?.readThrough, max(reads));
      assert.equal(final?.deliveredThrough, max([...reads, ...deliveries]));
      assert.equal((await a.receipts.deviceCursors(phone)).get(conv.conversationId), max(deliveries));
    });

    c.end();
  });
}
