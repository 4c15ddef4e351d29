// Group administration on the engines: two admins racing membership changes through two
// messaging instances (one Cassandra LWT decides each version), sends racing a removal, and causal
// membership for removed and added members with their devices on both gateways.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { type Client, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { DeviceStream } from "../../clients/node/device-stream.ts";
import { ConversationService } from "../../gen/parley/v1/conversations_pb.js";
import { MemberRole } from "../../gen/parley/v1/events_pb.js";
import type { Cluster } from "../../scripts/cluster/launcher.ts";
import { range, sequencesIn, textMessage } from "../helpers/chat.ts";
import { as, refusal } from "../helpers/groups.ts";
import { eventually, newPhone, type SignedIn } from "../helpers/parley.ts";
import { type ClusterClients, gatewayAt, signIn, startEngineCluster } from "./fixture.ts";

let cluster: Cluster;
let c: ClusterClients;
/** ConversationService of each messaging instance. */
let instances: Client<typeof ConversationService>[];
before(async () => {
  ({ cluster, clients: c } = await startEngineCluster());
  instances = ["messaging-1", "messaging-2"].map((name) =>
    createClient(ConversationService, createGrpcTransport({ baseUrl: cluster.get(name).url })),
  );
});
after(() => cluster.stop());

const users = (n: number) => Promise.all(Array.from({ length: n }, () => signIn(cluster, c, newPhone())));
const on = (gateway: number, who: SignedIn) => new DeviceStream(gatewayAt(c, gateway), { accessToken: who.accessToken });

async function group(owner: SignedIn, members: SignedIn[]) {
  const { conversation } = await c.conversations.createGroup(
    {
      name: "engines",
      memberUserIds: members.map((m) => m.userId),
      clientRequestId: `g-${Date.now()}-${Math.random()}`.replace(".", ""),
    },
    as(owner),
  );
  return conversation?.conversationId ?? "";
}

type Outcome = { ok: true; membershipVersion: bigint } | { ok: false; error: unknown };

const version = async (who: SignedIn, conversationId: string) =>
  (await c.conversations.getConversation({ conversationId }, as(who))).conversation?.membershipVersion ?? -1n;

describe("membership compare-and-set across messaging instances", () => {
  test("two admins on two instances race with one expected version: exactly one wins each round", async () => {
    const [owner, alice, bob, ...targets] = await users(3 + 16);
    if (!owner || !alice || !bob) throw new Error("sign-in failed");
    const id = await group(owner, [alice, bob]);
    for (const admin of [alice, bob]) {
      await c.conversations.changeMemberRole({ conversationId: id, userId: admin.userId, role: MemberRole.ADMIN }, as(owner));
    }
    const [one, two] = instances as [Client<typeof ConversationService>, Client<typeof ConversationService>];
    for (let round = 0; round < 8; round++) {
      const [forAlice, forBob] = [targets[2 * round] as SignedIn, targets[2 * round + 1] as SignedIn];
      const v = await version(owner, id);
      const attempt = (client: Client<typeof ConversationService>, admin: SignedIn, target: SignedIn, expected: bigint) =>
        client.addMembers({ conversationId: id, userIds: [target.userId], expectedMembershipVersion: expected }, as(admin)).then(
          (r): Outcome => ({ ok: true, membershipVersion: r.membershipVersion }),
          (error: unknown): Outcome => ({ ok: false, error }),
        );
      const outcomes: Outcome[] = await Promise.all([attempt(one, alice, forAlice, v), attempt(two, bob, forBob, v)]);
      assert.equal(outcomes.filter((o) => o.ok).length, 1, `round ${round}: exactly one wins`);
      const aliceLost = !outcomes[0]?.ok;
      const lost = outcomes[aliceLost ? 0 : 1];
      assert.ok(lost && !lost.ok);
      assert.deepEqual(await refusal(Promise.reject(lost.error)), [
        "Aborted",
        "MEMBERSHIP_VERSION_CONFLICT",
        "expected_membership_version",
      ]);
      const [client, admin, target] = aliceLost ? [one, alice, forAlice] : [two, bob, forBob];
      const fresh = await version(admin, id);
      assert.equal(fresh, v + 1n);
      const retried = await attempt(client, admin, target, fresh);
      assert.deepEqual(retried, { ok: true, membershipVersion: v + 2n });
    }
    const { conversation } = await c.conversations.getConversation({ conversationId: id }, as(owner));
    assert.equal(conversation?.members.length, 19);
    const { events } = await c.messaging.listMessages({ conversationId: id, pageSize: 100 }, as(owner));
    assert.deepEqual(
      events.map((e) => e.sequence),
      range(1n, events.at(-1)?.sequence ?? 0n),
    );
  });

  test("a member removed while sending through both gateways has no message after the removal", async () => {
    const [owner, bob, watcher] = await users(3);
    if (!owner || !bob || !watcher) throw new Error("sign-in failed");
    const id = await group(owner, [bob, watcher]);
    const streams = [on(0, bob), on(1, await signIn(cluster, c, bob.phoneNumber))];
    await Promise.all(streams.map((s) => s.caughtUp));
    // Both of bob's devices send until refused; the removal lands while they are at it.
    const outcomes: string[][] = streams.map(() => []);
    const sending = streams.map(async (stream, n) => {
      for (let i = 0; i < 2_000; i++) {
        const result = await stream.send(textMessage(id, `d${n} ${i}`));
        outcomes[n]?.push(result.outcome.case === "sent" ? "sent" : (result.outcome.value?.detail?.reason ?? "error"));
        if (result.outcome.case !== "sent") return;
      }
    });
    await eventually("bob is sending on both", () => outcomes.every((o) => o.length >= 3), 30_000);
    const removed = await (instances[1] as Client<typeof ConversationService>).removeMember(
      { conversationId: id, userId: bob.userId },
      as(owner),
    );
    await Promise.all(sending);
    for (const o of outcomes) assert.deepEqual([o[0], o.at(-1)], ["sent", "CONVERSATION_NOT_FOUND"]);
    const { events } = await c.messaging.listMessages({ conversationId: id, pageSize: 500 }, as(watcher));
    assert.deepEqual(
      events.filter((e) => e.senderUserId === bob.userId && e.sequence > removed.sequence).map((e) => e.sequence),
      [],
    );
    for (const s of streams) s.close();
  });
});

describe("causal membership across gateways", () => {
  test("a removed member's devices get nothing after the removal; added members see from their join or, when shown, before", async () => {
    const [owner, bob, hidden, shown] = await users(4);
    if (!owner || !bob || !hidden || !shown) throw new Error("sign-in failed");
    const id = await group(owner, [bob]);
    const bobLaptop = await signIn(cluster, c, bob.phoneNumber);
    const bobStreams = [on(0, bob), on(1, bobLaptop)];
    const hiddenStream = on(1, hidden);
    const shownStream = on(0, shown);
    await Promise.all([...bobStreams, hiddenStream, shownStream].map((s) => s.caughtUp));
    for (let i = 0; i < 3; i++) await c.messaging.sendMessage(textMessage(id, `old ${i}`), as(owner)); // 2..4
    const hiddenJoin = await c.conversations.addMembers({ conversationId: id, userIds: [hidden.userId] }, as(owner)); // 5
    await c.conversations.updateGroupSettings({ conversationId: id, historyVisibleToNewMembers: true }, as(owner)); // 6
    await c.conversations.addMembers({ conversationId: id, userIds: [shown.userId] }, as(owner)); // 7
    const removed = await c.conversations.removeMember({ conversationId: id, userId: bob.userId }, as(owner)); // 8
    let last = removed.sequence;
    for (let i = 0; i < 10; i++) last = (await c.messaging.sendMessage(textMessage(id, `new ${i}`), as(owner))).sequence;

    await eventually("hidden has all since the join", () => hiddenStream.cursors.get(id) === last, 30_000);
    await eventually("shown has everything", () => shownStream.cursors.get(id) === last, 30_000);
    for (const s of bobStreams) await eventually("bob has the removal", () => s.cursors.get(id) === removed.sequence, 30_000);
    for (const s of bobStreams) await s.ping();
    for (const s of bobStreams) assert.deepEqual(sequencesIn(s.events, id), range(1n, removed.sequence));
    assert.deepEqual(sequencesIn(hiddenStream.events, id), range(hiddenJoin.sequence, last));
    assert.deepEqual(sequencesIn(shownStream.events, id), range(1n, last));
    const page = await c.messaging.listMessages({ conversationId: id, beforeSequence: last + 1n }, as(bob));
    assert.deepEqual(
      page.events.map((e) => e.sequence),
      range(1n, removed.sequence),
    );
    const synced = await c.messaging.sync({ cursors: [{ conversationId: id, sequence: 0n }], listedOnly: true }, as(bob));
    assert.equal(synced.events.at(-1)?.sequence, removed.sequence);
    for (const s of [...bobStreams, hiddenStream, shownStream]) s.close();
  });

  test("deleting a group tells every member's device, then the group answers NOT_FOUND", async () => {
    const [owner, bob] = await users(2);
    if (!owner || !bob) throw new Error("sign-in failed");
    const id = await group(owner, [bob]);
    const stream = on(1, bob);
    await stream.caughtUp;
    const deleted = await c.conversations.deleteGroup({ conversationId: id }, as(owner));
    await eventually("bob's device learns of it", () => stream.cursors.get(id) === deleted.sequence, 30_000);
    assert.equal(stream.events.at(-1)?.body.case, "groupDeleted");
    assert.deepEqual(await refusal(c.messaging.listMessages({ conversationId: id }, as(bob))), [
      "NotFound",
      "CONVERSATION_NOT_FOUND",
      "conversation_id",
    ]);
    stream.close();
  });
});
