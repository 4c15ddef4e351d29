// Acceptance a and b on the engines: the core scenarios with the sender on one gateway and the
// recipients on the other; concurrent senders through both gateways and two messaging instances.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { DeviceStream } from "../../clients/node/device-stream.ts";
import { bearer } from "../../clients/node/transport.ts";
import { MessagingService } from "../../gen/parley/v1/messaging_pb.js";
import type { Cluster } from "../../scripts/cluster/launcher.ts";
import { range, sequencesIn, textMessage } from "../helpers/chat.ts";
import { eventually, eventuallyAsync, newPhone, type SignedIn } from "../helpers/parley.ts";
import { type ClusterClients, gatewayAt, signIn, startEngineCluster } from "./fixture.ts";

let cluster: Cluster;
let c: ClusterClients;
before(async () => {
  ({ cluster, clients: c } = await startEngineCluster());
});
after(() => cluster.stop());

/** How many message ages each hop has measured, over the processes that measure it. */
async function hopCounts(): Promise<Record<"appended" | "published" | "consumed" | "offered", number>> {
  const sum = async (processes: string[], hop: string) =>
    (await Promise.all(processes.map((p) => cluster.metric(p, "parley_event_age_seconds_count", `hop="${hop}"`)))).reduce(
      (a, b) => a + b,
      0,
    );
  const messaging = ["messaging-1", "messaging-2"];
  return {
    appended: await sum(messaging, "appended"),
    published: await sum(messaging, "published"),
    consumed: await sum(["fanout-1", "fanout-2"], "consumed"),
    offered: await sum(
      [...cluster.processes.keys()].filter((name) => name.startsWith("gateway")),
      "offered",
    ),
  };
}

const on = (gateway: number, who: SignedIn, options: { window?: number; autoAck?: boolean } = {}) =>
  new DeviceStream(gatewayAt(c, gateway), { accessToken: who.accessToken, ...options });

describe("core scenarios across gateways", () => {
  test("order, own messages on the other device, idempotent retry, receipts", async () => {
    const phone = newPhone();
    const alice = await signIn(cluster, c, phone);
    const aliceLaptop = await signIn(cluster, c, phone);
    const bob = await signIn(cluster, c, newPhone());
    const { conversation } = await c.conversations.getOrCreateDirect(
      { peerUserId: bob.userId },
      { headers: bearer(alice.accessToken) },
    );
    const id = conversation?.conversationId ?? "";
    const sender = on(0, alice);
    const laptop = on(1, aliceLaptop);
    const recipient = on(1, bob);
    await Promise.all([sender.caughtUp, laptop.caughtUp, recipient.caughtUp]);

    for (let i = 0; i < 30; i++) {
      const result = await sender.send(textMessage(id, `m${i}`, `core-${i}`));
      assert.equal(result.outcome.case, "sent");
    }
    const retry = await sender.send(textMessage(id, "m0", "core-0"));
    assert.equal(retry.outcome.case === "sent" && retry.outcome.value.duplicate, true);
    assert.equal(retry.outcome.case === "sent" && retry.outcome.value.sequence, 2n);
    for (const device of [sender, laptop, recipient])
      await eventually(
        `all 31 (at ${device.cursors.get(id)}: ${sequencesIn(device.events, id).join(",")})`,
        () => device.cursors.get(id) === 31n,
        30_000,
      );
    for (const device of [sender, laptop, recipient]) assert.deepEqual(sequencesIn(device.events, id), range(1n, 31n));

    recipient.markRead(id, 31n);
    await eventually(
      "read receipt across gateways",
      () => sender.receipts.some((r) => r.userId === bob.userId && r.readThrough === 31n),
      30_000,
    );
    for (const d of [sender, laptop, recipient]) d.close();
  });

  test("offline resume: everything missed in order, then the caught-up marker, then live", async () => {
    const alice = await signIn(cluster, c, newPhone());
    const bob = await signIn(cluster, c, newPhone());
    const { conversation } = await c.conversations.createGroup(
      { name: "resume", memberUserIds: [bob.userId], clientRequestId: "resume" },
      { headers: bearer(alice.accessToken) },
    );
    const id = conversation?.conversationId ?? "";
    const first = on(1, bob);
    await first.caughtUp;
    first.abort();
    await first.ended;
    for (let i = 0; i < 200; i++) await c.messaging.sendMessage(textMessage(id, `${i}`), { headers: bearer(alice.accessToken) });
    const order: string[] = [];
    const again = new DeviceStream(
      gatewayAt(c, 1),
      { accessToken: bob.accessToken, cursors: first.cursorList() },
      {
        onFrame: (f) => order.push(String(f.frame.case)),
      },
    );
    assert.equal(await again.caughtUp, 200);
    const live = await c.messaging.sendMessage(textMessage(id, "live"), { headers: bearer(alice.accessToken) });
    await eventually("live after marker", () => again.cursors.get(id) === live.sequence, 30_000);
    assert.deepEqual(sequencesIn(again.events, id), range(2n, live.sequence));
    assert.equal(order.slice(order.indexOf("caughtUp") + 1).filter((f) => f === "event").length, 1);
    again.close();
  });

  test("groups: members on both gateways, a later member sees from its join, a removed one nothing after", async () => {
    const [owner, bob, carol] = await Promise.all([0, 1, 2].map(() => signIn(cluster, c, newPhone())));
    if (!owner || !bob || !carol) throw new Error("sign-in failed");
    const { conversation } = await c.conversations.createGroup(
      { name: "causal", memberUserIds: [bob.userId], clientRequestId: "causal" },
      { headers: bearer(owner.accessToken) },
    );
    const id = conversation?.conversationId ?? "";
    const bobStream = on(1, bob);
    const carolStream = on(0, carol);
    await Promise.all([bobStream.caughtUp, carolStream.caughtUp]);
    const auth = { headers: bearer(owner.accessToken) };
    await c.messaging.sendMessage(textMessage(id, "before"), auth); // 2
    await c.conversations.addMembers({ conversationId: id, userIds: [carol.userId] }, auth); // 3
    await c.conversations.removeMember({ conversationId: id, userId: bob.userId }, auth); // 4
    await c.messaging.sendMessage(textMessage(id, "after"), auth); // 5
    await eventually("carol 3..5", () => carolStream.cursors.get(id) === 5n, 30_000);
    await eventually("bob 1..4", () => bobStream.cursors.get(id) === 4n, 30_000);
    await bobStream.ping();
    assert.deepEqual(sequencesIn(carolStream.events, id), range(3n, 5n));
    assert.deepEqual(sequencesIn(bobStream.events, id), range(1n, 4n));
    bobStream.close();
    carolStream.close();
  });
});

describe("concurrent writers", () => {
  test("senders through both gateways and two messaging instances: contiguous, no duplicate, no hole", async () => {
    const members = await Promise.all(Array.from({ length: 8 }, () => signIn(cluster, c, newPhone())));
    const owner = members[0] as SignedIn;
    const { conversation } = await c.conversations.createGroup(
      { name: "race", memberUserIds: members.slice(1).map((m) => m.userId), clientRequestId: "race" },
      { headers: bearer(owner.accessToken) },
    );
    const id = conversation?.conversationId ?? "";
    const streams = members.map((m, i) => on(i % 2, m));
    await Promise.all(streams.map((s) => s.caughtUp));
    const perSender = 25;
    const hopsBefore = await hopCounts();
    // A gateway relays a conversation's sends to one instance; calls straight to each instance
    // make both write into the conversation at once.
    const direct = ["messaging-1", "messaging-2"].map((name, i) => ({
      client: createClient(MessagingService, createGrpcTransport({ baseUrl: cluster.get(name).url })),
      sender: members[i] as SignedIn,
    }));
    const sequences = (
      await Promise.all([
        ...streams.map(async (stream, sender) => {
          const mine: bigint[] = [];
          for (let i = 0; i < perSender; i++) {
            const result = await stream.send(textMessage(id, `s${sender}m${i}`));
            if (result.outcome.case === "sent") mine.push(result.outcome.value.sequence);
            else assert.fail(`send failed: ${result.outcome.value?.message}`);
          }
          return mine;
        }),
        ...direct.map(async ({ client, sender }, n) => {
          const mine: bigint[] = [];
          for (let i = 0; i < perSender; i++) {
            const sent = await client.sendMessage(textMessage(id, `d${n}m${i}`), { headers: bearer(sender.accessToken) });
            mine.push(sent.sequence);
          }
          return mine;
        }),
      ])
    ).flat();
    const last = BigInt(1 + (members.length + direct.length) * perSender);
    assert.deepEqual(
      sequences.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)),
      range(2n, last),
    );
    const lagSamples = await Promise.all(
      ["fanout-1", "fanout-2"].map((f) => cluster.metric(f, "parley_fanout_lag_seconds_count")),
    );
    assert.ok(lagSamples.reduce((a, b) => a + b, 0) > 0, "fanout lag is measured");
    // Each message's age at each hop: appended and published in messaging, consumed in fanout, offered at a gateway.
    const sent = sequences.length;
    const after = await hopCounts();
    assert.equal(after.appended - hopsBefore.appended, sent, "every send's age is measured appended");
    assert.equal(after.published - hopsBefore.published, sent, "every send's age is measured published");
    await eventuallyAsync(
      "fanout measured every message consumed",
      async () => (await hopCounts()).consumed - hopsBefore.consumed === sent,
    );
    await eventuallyAsync(
      "a gateway measured every message offered",
      async () => (await hopCounts()).offered - hopsBefore.offered >= sent,
    );
    for (const instance of ["messaging-1", "messaging-2"]) {
      assert.ok((await cluster.metric(instance, "parley_sends_total")) > 0, `${instance} stored some of the sends`);
    }
    for (const s of streams) await eventually("every member has all", () => s.cursors.get(id) === last, 60_000);
    for (const s of streams) assert.deepEqual(sequencesIn(s.events, id), range(1n, last));
    for (const s of streams) s.close();
  });
});
