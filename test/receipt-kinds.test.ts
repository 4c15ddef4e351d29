// Who gets a member's receipt live: a delivered tick goes to the other members only (your own
// devices learn nothing from it), a read goes to everyone, your own devices included (it clears
// their unread counts).
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { DeviceStream } from "../clients/node/device-stream.ts";
import { bearer } from "../clients/node/transport.ts";
import { textMessage } from "./helpers/chat.ts";
import { directChat } from "./helpers/direct-chat.ts";
import { eventually, type SignedIn, startTestParley, type TestParley } from "./helpers/parley.ts";

let t: TestParley;
before(async () => {
  t = await startTestParley();
});
after(() => t.stop());

const open = (who: SignedIn) => new DeviceStream(t.clients.session, { accessToken: who.accessToken });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test("a delivered tick reaches the other member, not the acker's own stream; a read reaches both", async () => {
  const { alice, bob, conversationId } = await directChat(t);
  const [aliceStream, bobStream] = [open(alice), open(bob)];
  await Promise.all([aliceStream.caughtUp, bobStream.caughtUp]);
  const bobs = (stream: DeviceStream) =>
    stream.receipts.filter((r) => r.conversationId === conversationId && r.userId === bob.userId);

  const { sequence } = await t.clients.messaging.sendMessage(textMessage(conversationId, "hello"), {
    headers: bearer(alice.accessToken),
  });
  await eventually("alice sees bob's delivered tick", () => bobs(aliceStream).some((r) => r.deliveredThrough === sequence));
  // Time for the same update to reach bob's stream, were it sent there.
  await sleep(300);
  assert.deepEqual(bobs(bobStream), [], "bob's own stream got no delivered tick of his");

  bobStream.markRead(conversationId, sequence);
  await eventually("alice sees bob's read", () => bobs(aliceStream).some((r) => r.readThrough === sequence));
  await eventually("bob's own stream sees his read", () => bobs(bobStream).some((r) => r.readThrough === sequence));
  aliceStream.close();
  bobStream.close();
});
