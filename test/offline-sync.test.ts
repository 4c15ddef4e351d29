// Acceptance d: a device offline for 1,000 messages across 10 conversations gets them all in
// order on reconnect, then the caught-up marker, then live messages, on the same stream.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { DeviceStream } from "../clients/node/device-stream.ts";
import { bearer } from "../clients/node/transport.ts";
import type { ConnectResponse } from "../gen/parley/v1/session_pb.js";
import { range, sequencesIn, textMessage } from "./helpers/chat.ts";
import { eventually, eventuallyAsync, newPhone, startTestParley, type TestParley } from "./helpers/parley.ts";

let t: TestParley;
before(async () => {
  t = await startTestParley();
});
after(() => t.stop());

async function setUp(conversations: number) {
  const alice = await t.signIn(newPhone());
  const bob = await t.signIn(newPhone());
  const auth = { headers: bearer(alice.accessToken) };
  const ids: string[] = [];
  for (let i = 0; i < conversations; i++) {
    const { conversation } = await t.clients.conversations.createGroup(
      { name: `room ${i}`, memberUserIds: [bob.userId], clientRequestId: `room-${i}` },
      auth,
    );
    ids.push(conversation?.conversationId ?? "");
  }
  return { alice, bob, auth, ids };
}

async function sendMany(ids: string[], perConversation: number, auth: { headers: Record<string, string> }) {
  await Promise.all(
    ids.map(async (id) => {
      for (let i = 0; i < perConversation; i++) await t.clients.messaging.sendMessage(textMessage(id, `${i}`), auth);
    }),
  );
}

for (const resumeWith of ["its own cursors", "the cursors the server stored from its acks"]) {
  test(`a device offline for 1,000 messages in 10 conversations resumes with ${resumeWith}`, async () => {
    const { bob, auth, ids } = await setUp(10);
    const first = new DeviceStream(t.clients.session, { accessToken: bob.accessToken });
    await first.caughtUp;
    await eventually("bob acked the creation events", () => ids.every((id) => first.cursors.get(id) === 1n));
    // The stored cursors come from acks: wait until the server has recorded them.
    const bobAuth = { headers: bearer(bob.accessToken) };
    await eventuallyAsync("acks recorded", async () => (await t.clients.messaging.sync({}, bobAuth)).events.length === 0);
    first.abort();
    await first.ended;

    await sendMany(ids, 100, auth);

    const order: ConnectResponse["frame"]["case"][] = [];
    const cursors = resumeWith === "its own cursors" ? first.cursorList() : [];
    const again = new DeviceStream(
      t.clients.session,
      { accessToken: bob.accessToken, cursors },
      { onFrame: (frame) => order.push(frame.frame.case) },
    );
    for (const [id, seq] of first.cursors) if (!again.cursors.has(id)) again.cursors.set(id, seq);
    const replayed = await again.caughtUp;
    assert.equal(replayed, 1000);
    for (const id of ids) assert.deepEqual(sequencesIn(again.events, id), range(2n, 101n), "in order, none missing");

    const live = await t.clients.messaging.sendMessage(textMessage(ids[0] ?? "", "live"), auth);
    await eventually("live message", () => again.cursors.get(ids[0] ?? "") === live.sequence);
    const caughtUpAt = order.indexOf("caughtUp");
    assert.equal(order.slice(0, caughtUpAt).filter((c) => c === "event").length, 1000, "all missed events before the marker");
    assert.equal(order.slice(caughtUpAt + 1).filter((c) => c === "event").length, 1, "then live");
    assert.equal(again.duplicates, 0);
    again.close();
  });
}

test("events sent while a device replays are delivered after the marker, in order, without gaps", async () => {
  const { bob, auth, ids } = await setUp(3);
  await sendMany(ids, 200, auth);
  const stream = new DeviceStream(t.clients.session, { accessToken: bob.accessToken, window: 16 });
  const sending = sendMany(ids, 50, auth);
  await stream.caughtUp;
  await sending;
  for (const id of ids) await eventually("everything", () => stream.cursors.get(id) === 251n);
  for (const id of ids) assert.deepEqual(sequencesIn(stream.events, id), range(1n, 251n));
  stream.close();
});
