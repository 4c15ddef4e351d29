// Acceptance a, b and h: every member device gets every event once, in one order; concurrent
// senders get contiguous sequences; receipts are per-member watermarks.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { DeviceStream } from "../clients/node/device-stream.ts";
import { bearer } from "../clients/node/transport.ts";
import { range, sequencesIn, textMessage, textOf } from "./helpers/chat.ts";
import { eventually, newPhone, type SignedIn, startTestParley, type TestParley } from "./helpers/parley.ts";

let t: TestParley;
before(async () => {
  t = await startTestParley();
});
after(() => t.stop());

const open = (who: SignedIn, options: { window?: number } = {}) =>
  new DeviceStream(t.clients.session, { accessToken: who.accessToken, ...options });

describe("delivery", () => {
  test("two users with three devices see every message once, in one order, including their own", async () => {
    const phoneA = newPhone();
    const alicePhone = await t.signIn(phoneA, "alice phone");
    const aliceLaptop = await t.signIn(phoneA, "alice laptop");
    const bob = await t.signIn(newPhone(), "bob phone");
    assert.equal(alicePhone.userId, aliceLaptop.userId);
    const { conversation } = await t.clients.conversations.getOrCreateDirect(
      { peerUserId: bob.userId },
      { headers: bearer(alicePhone.accessToken) },
    );
    const id = conversation?.conversationId ?? "";
    const devices = [open(alicePhone), open(aliceLaptop), open(bob)];
    await Promise.all(devices.map((d) => d.caughtUp));

    const perSender = 40;
    const [fromAlice, fromBob] = await Promise.all(
      [devices[0], devices[2]].map(async (device, who) => {
        const results = [];
        for (let i = 0; i < perSender; i++) results.push(await device?.send(textMessage(id, `${who}:${i}`)));
        return results;
      }),
    );
    const total = BigInt(1 + 2 * perSender);
    for (const device of devices) await eventually("all messages on every device", () => device.cursors.get(id) === total);

    const expected = range(1n, total);
    for (const device of devices) {
      assert.deepEqual(sequencesIn(device.events, id), expected, "same order, no gap, no duplicate after dedupe");
    }
    const texts = devices.map((d) => d.events.filter((e) => e.conversationId === id).map(textOf));
    assert.deepEqual(texts[0], texts[1]);
    assert.deepEqual(texts[0], texts[2]);
    // The laptop sees what the phone sent, with the phone's sequence numbers.
    const sentByPhone = (fromAlice ?? []).map((r) => (r?.outcome.case === "sent" ? r.outcome.value.sequence : -1n));
    const onLaptop = devices[1]?.events
      .filter((e) => e.body.case === "message" && e.senderDeviceId === alicePhone.deviceId)
      .map((e) => e.sequence);
    assert.deepEqual(onLaptop, sentByPhone);
    assert.equal(fromBob?.length, perSender);
    for (const d of devices) d.close();
  });

  test("20 concurrent senders in a group of 50: sequences 1..N and every member gets all N in order", async () => {
    const members = await Promise.all(Array.from({ length: 50 }, () => t.signIn(newPhone())));
    const owner = members[0] as SignedIn;
    const { conversation } = await t.clients.conversations.createGroup(
      { name: "fifty", memberUserIds: members.slice(1).map((m) => m.userId), clientRequestId: "g50" },
      { headers: bearer(owner.accessToken) },
    );
    const id = conversation?.conversationId ?? "";
    assert.equal(conversation?.members.length, 50);
    const streams = members.map((m) => open(m));
    await Promise.all(streams.map((s) => s.caughtUp));

    const perSender = 10;
    const sequences = (
      await Promise.all(
        streams.slice(0, 20).map(async (stream, sender) => {
          const mine = [];
          for (let i = 0; i < perSender; i++) {
            const result = await stream.send(textMessage(id, `s${sender}m${i}`));
            assert.equal(result.outcome.case, "sent");
            if (result.outcome.case === "sent") mine.push(result.outcome.value.sequence);
          }
          return mine;
        }),
      )
    ).flat();
    const last = BigInt(1 + 20 * perSender);
    assert.deepEqual(
      sequences.sort((a, b) => (a < b ? -1 : 1)),
      range(2n, last),
      "messages took 2..N after the creation event, with no gap and no duplicate",
    );
    for (const stream of streams) await eventually("every member has everything", () => stream.cursors.get(id) === last);
    for (const stream of streams) assert.deepEqual(sequencesIn(stream.events, id), range(1n, last));
    for (const s of streams) s.close();
  });
});

describe("receipts", () => {
  test("the sender sees delivered and then read for the recipient's acked and read sequences", async () => {
    const alice = await t.signIn(newPhone());
    const bob = await t.signIn(newPhone());
    const { conversation } = await t.clients.conversations.getOrCreateDirect(
      { peerUserId: bob.userId },
      { headers: bearer(alice.accessToken) },
    );
    const id = conversation?.conversationId ?? "";
    const a = open(alice);
    const b = new DeviceStream(t.clients.session, { accessToken: bob.accessToken, autoAck: false });
    await Promise.all([a.caughtUp, b.caughtUp]);
    const sent = await a.send(textMessage(id, "did you get this?"));
    const sequence = sent.outcome.case === "sent" ? sent.outcome.value.sequence : 0n;
    await eventually("bob receives it", () => b.cursors.get(id) === sequence);
    const bobsReceipt = () => a.receipts.filter((r) => r.conversationId === id && r.userId === bob.userId).at(-1);
    assert.ok((bobsReceipt()?.deliveredThrough ?? 0n) < sequence, "not delivered before bob acks");

    b.ack();
    await eventually("delivered receipt", () => (bobsReceipt()?.deliveredThrough ?? 0n) >= sequence);
    assert.ok((bobsReceipt()?.readThrough ?? 0n) < sequence, "delivered is not read");
    b.markRead(id, sequence);
    await eventually("read receipt", () => (bobsReceipt()?.readThrough ?? 0n) >= sequence);
    a.close();
    b.close();
  });

  test("in a group each member has their own watermarks", async () => {
    const [owner, m1, m2] = await Promise.all([0, 1, 2].map(() => t.signIn(newPhone())));
    if (!owner || !m1 || !m2) throw new Error("sign-in failed");
    const { conversation } = await t.clients.conversations.createGroup(
      { name: "trio", memberUserIds: [m1.userId, m2.userId], clientRequestId: "trio" },
      { headers: bearer(owner.accessToken) },
    );
    const id = conversation?.conversationId ?? "";
    const streams = [open(owner), open(m1), open(m2)];
    await Promise.all(streams.map((s) => s.caughtUp));
    for (let i = 0; i < 3; i++) await streams[0]?.send(textMessage(id, `m${i}`)); // sequences 2, 3, 4
    for (const s of streams) await eventually("all delivered", () => s.cursors.get(id) === 4n);
    streams[1]?.markRead(id, 2n);
    streams[2]?.markRead(id, 4n);
    const latest = (userId: string) => streams[0]?.receipts.filter((r) => r.conversationId === id && r.userId === userId).at(-1);
    await eventually(
      "both members' receipts",
      () => latest(m1.userId)?.readThrough === 2n && latest(m2.userId)?.readThrough === 4n,
    );
    assert.equal(latest(m1.userId)?.deliveredThrough, 4n);

    const view = await t.clients.conversations.getConversation({ conversationId: id }, { headers: bearer(owner.accessToken) });
    const byUser = new Map(view.conversation?.members.map((m) => [m.userId, m]));
    assert.equal(byUser.get(m1.userId)?.readThrough, 2n);
    assert.equal(byUser.get(m2.userId)?.readThrough, 4n);
    assert.equal(byUser.get(m1.userId)?.deliveredThrough, 4n);
    for (const s of streams) s.close();
  });
});
