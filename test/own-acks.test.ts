// A device's acks of its own user's events are recorded late (heldAckDelayFactor lingers): they
// make no receipt while a later ack of someone else's event can cover them, they are recorded
// once the wait is over, and at once when the stream closes.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { DeviceStream } from "../clients/node/device-stream.ts";
import { heldAckDelayFactor } from "../services/gateway/device-session.ts";
import { sentSequence } from "./helpers/chat.ts";
import { deliveredOf, directChat } from "./helpers/direct-chat.ts";
import { eventually, eventuallyAsync, type SignedIn, startTestParley, type TestParley } from "./helpers/parley.ts";

const lingerMs = 10;
// With this linger the own-message wait is 3 s: long enough to tell apart, short enough to wait out.
const ownDelayMs = lingerMs * heldAckDelayFactor;
let t: TestParley;
before(async () => {
  t = await startTestParley({ env: { PARLEY_DELIVERED_LINGER_MS: String(lingerMs) } });
});
after(() => t.stop());

const open = (who: SignedIn) => new DeviceStream(t.clients.session, { accessToken: who.accessToken });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test("an ack of your own message waits, then is recorded; someone else's message is recorded at once", async () => {
  assert.ok(ownDelayMs >= 1_000, "the test needs a wait it can tell apart from the linger");
  const { alice, bob, conversationId } = await directChat(t);
  const [aliceStream, bobStream] = [open(alice), open(bob)];
  await Promise.all([aliceStream.caughtUp, bobStream.caughtUp]);

  const own = await sentSequence(aliceStream, conversationId, "mine");
  await eventually("alice's device has its own message", () => aliceStream.cursors.get(conversationId) === own);
  const ackedAt = Date.now();
  await sleep(ownDelayMs / 2);
  assert.ok((await deliveredOf(t.clients, bob, conversationId, alice.userId)) < own, "not recorded within half the wait");
  await eventuallyAsync(
    "recorded after the wait",
    async () => (await deliveredOf(t.clients, bob, conversationId, alice.userId)) === own,
  );
  assert.ok(Date.now() - ackedAt >= ownDelayMs / 2);

  const theirs = await sentSequence(bobStream, conversationId, "yours");
  await eventually("alice's device has bob's message", () => aliceStream.cursors.get(conversationId) === theirs);
  const receivedAt = Date.now();
  await eventuallyAsync("recorded", async () => (await deliveredOf(t.clients, bob, conversationId, alice.userId)) === theirs);
  assert.ok(Date.now() - receivedAt < ownDelayMs / 2, "someone else's message is not held for the own-message wait");
  aliceStream.close();
  bobStream.close();
});

test("the next ack of someone else's message covers your own: no receipt is made for it", async () => {
  const { alice, bob, conversationId } = await directChat(t);
  const [aliceStream, bobStream] = [open(alice), open(bob)];
  await Promise.all([aliceStream.caughtUp, bobStream.caughtUp]);

  const own = await sentSequence(aliceStream, conversationId, "question");
  await eventually("alice's device has its own message", () => aliceStream.cursors.get(conversationId) === own);
  // Past the ordinary linger, so only the own-message wait can hold the ack back.
  await sleep(lingerMs * 50);
  const reply = await sentSequence(bobStream, conversationId, "answer");
  await eventually("bob sees alice's delivered tick for the reply", () =>
    bobStream.receipts.some(
      (r) => r.conversationId === conversationId && r.userId === alice.userId && r.deliveredThrough === reply,
    ),
  );
  // Past the own-message wait: the covered position must not come in late either.
  await sleep(ownDelayMs + 500);
  const ticks = bobStream.receipts.filter((r) => r.conversationId === conversationId && r.userId === alice.userId);
  assert.deepEqual(
    ticks.filter((r) => r.deliveredThrough === own),
    [],
    "alice's receipt of her own message was never sent",
  );
  assert.equal(await deliveredOf(t.clients, bob, conversationId, alice.userId), reply);
  aliceStream.close();
  bobStream.close();
});

test("acks of your own messages are recorded at once when the stream closes", async () => {
  const { alice, bob, conversationId } = await directChat(t);
  const aliceStream = open(alice);
  await aliceStream.caughtUp;
  const own = await sentSequence(aliceStream, conversationId, "bye");
  await eventually("alice's device has its own message", () => aliceStream.cursors.get(conversationId) === own);
  await sleep(100);
  aliceStream.close();
  const closedAt = Date.now();
  await eventuallyAsync(
    "recorded at the close",
    async () => (await deliveredOf(t.clients, bob, conversationId, alice.userId)) === own,
  );
  assert.ok(Date.now() - closedAt < ownDelayMs / 2, "recorded at the close, not after the wait");
});

test("a device that replaces its stream is not sent again what the old stream had acked", async () => {
  const { alice, conversationId } = await directChat(t);
  const first = open(alice);
  await first.caughtUp;
  const own = await sentSequence(first, conversationId, "then my train went into a tunnel");
  await eventually("alice's device has its own message", () => first.cursors.get(conversationId) === own);
  await sleep(100);
  // The old stream is still open: the new one replaces it, and the old one's held ack is written
  // as it closes. The new stream's replay reads the stored cursors only after that write.
  const second = open(alice);
  assert.equal(await second.caughtUp, 0, "nothing replayed: the old stream's ack counts");
  assert.deepEqual(second.events, []);
  first.close();
  second.close();
});
