// The Cassandra event log with several writers, as several messaging processes are: each log below
// has its own sequencer (its own lanes and what its last decision left), all on one keyspace.
// Runs with the engines (PARLEY_ENGINES=1); docs/cassandra.md has the proof these cases check.
import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { isMembershipVersionConflict } from "../../services/messaging/group-errors.ts";
import type { CassandraClient } from "../../services/storage/cassandra/client.ts";
import { membersAddedEvent, messageEvent, range, shuffled, uid } from "./harness.ts";
import { newConversation, noLimit } from "./messaging.contract.ts";

const withEngines = process.env.PARLEY_ENGINES === "1";

describe("the Cassandra event log with several writers", { skip: !withEngines && "needs PARLEY_ENGINES=1" }, () => {
  let scratch: Awaited<ReturnType<typeof import("../../services/storage/cassandra/scratch-keyspace.ts").openScratchKeyspace>>;
  after(async () => await scratch?.drop());

  async function setup(writers: number) {
    scratch ??= await (await import("../../services/storage/cassandra/scratch-keyspace.ts")).openScratchKeyspace();
    const m = await import("../../services/messaging/adapters/cassandra.ts");
    const counted = countingHeadViews(scratch.client);
    const logs = Array.from({ length: writers }, () => new m.CassandraEventLog(counted.client));
    const conversations = new m.CassandraConversationStore(scratch.client);
    const conv = await newConversation({ conversations, seedUsers: async () => {} });
    const send = (writer: number, clientMessageId: string) =>
      (logs[writer] as (typeof logs)[number]).append({
        conversationId: conv.conversationId,
        event: messageEvent({ sender: conv.owner, clientMessageId, text: clientMessageId }),
        clientMessageId,
      });
    const stored = async () =>
      (await (logs[0] as (typeof logs)[number]).readAfter(conv.conversationId, 0n, noLimit, 10_000)).map((e) => e.sequence);
    /** A membership change (it bumps the version) through `writer`, expecting `expected`. */
    const add = (writer: number, expected: bigint) => {
      const userId = uid("joiner");
      return (logs[writer] as (typeof logs)[number]).append({
        conversationId: conv.conversationId,
        event: membersAddedEvent(conv.owner, [userId]),
        membership: { add: [{ userId, role: "member" }] },
        expectedMembershipVersion: expected,
      });
    };
    return { send, add, stored, views: counted.views, conversations, conv };
  }

  test("one writer's appends one after another read the head once: each decision leaves what the next needs", async () => {
    const w = await setup(1);
    for (let i = 0; i < 10; i++) assert.equal((await w.send(0, `m${i}`)).event.sequence, BigInt(i + 2));
    assert.equal(w.views(), 1);
    assert.deepEqual(await w.stored(), range(1n, 11n));
  });

  test("writers taking turns stay contiguous: a decision by another writer sends the next one back to the view", async () => {
    const w = await setup(2);
    const answered: bigint[] = [];
    for (let i = 0; i < 12; i++) answered.push((await w.send(i % 2, `m${i}`)).event.sequence);
    assert.deepEqual(answered, range(2n, 13n));
    assert.deepEqual(await w.stored(), range(1n, 13n));
    assert.equal((await w.conversations.get(w.conv.conversationId))?.lastSequence, 13n);
  });

  test("a retry through the writer that decided it, or through another, answers the stored event", async () => {
    const w = await setup(2);
    const first = await w.send(0, "m1");
    await w.send(0, "m2");
    const again = await w.send(0, "m1");
    const elsewhere = await w.send(1, "m2");
    assert.deepEqual([again.duplicate, again.event.sequence], [true, first.event.sequence]);
    assert.deepEqual([elsewhere.duplicate, elsewhere.event.sequence], [true, 3n]);
    assert.equal((await w.send(0, "m3")).event.sequence, 4n, "and the first writer, behind by a view, goes on at 4");
    assert.deepEqual(await w.stored(), range(1n, 4n));
  });

  test("an expected version that holds is decided though this writer's last decision is out of date", async () => {
    const w = await setup(2);
    await w.add(0, 0n);
    await w.add(1, 1n);
    // Writer 0 last decided version 1; the version is 2 now, as this append expects.
    assert.equal((await w.add(0, 2n)).event.sequence, 4n);
    // And one that expects a version that no longer holds is refused, from either writer.
    for (const writer of [1, 0]) {
      await assert.rejects(w.add(writer, 2n), (error) => isMembershipVersionConflict(error));
    }
    assert.equal((await w.add(1, 3n)).event.sequence, 5n);
    assert.deepEqual(await w.stored(), range(1n, 5n));
  });

  test("three writers at once with shared client ids: one event per id, contiguous", async () => {
    const w = await setup(3);
    const ids = Array.from({ length: 40 }, (_, i) => `m${i}`);
    const jobs = shuffled([0, 1, 2].flatMap((writer) => ids.map((id) => ({ writer, id }))));
    const results = await Promise.all(jobs.map(({ writer, id }) => w.send(writer, id)));
    assert.equal(results.filter((r) => !r.duplicate).length, ids.length);
    const byId = new Map<string, bigint>();
    for (const [i, r] of results.entries()) {
      const id = (jobs[i] as { id: string }).id;
      const seen = byId.get(id) ?? r.event.sequence;
      assert.equal(r.event.sequence, seen, `every append of ${id} answers with one event`);
      byId.set(id, seen);
    }
    assert.deepEqual(await w.stored(), range(1n, 41n));
    for (let i = 0; i < 5; i++) await w.send(i % 3, uid("after"));
    assert.deepEqual(await w.stored(), range(1n, 46n));
  });
});

/** The client, counting the sequencer's view reads (the head and its stage in one slice). */
function countingHeadViews(client: CassandraClient) {
  let views = 0;
  const counted = new Proxy(client, {
    get(target, property) {
      const value = Reflect.get(target, property);
      if (property !== "execute" || typeof value !== "function") return typeof value === "function" ? value.bind(target) : value;
      return (query: string, ...rest: unknown[]) => {
        if (/FROM conversation_heads WHERE conversation_id = \? AND sequence >= \?/.test(query)) views++;
        return value.call(target, query, ...rest);
      };
    },
  });
  return { client: counted, views: () => views };
}
