import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { DeviceStream } from "../clients/node/device-stream.ts";
import { bearer } from "../clients/node/transport.ts";
import { eventually, newPhone, startTestParley, type TestParley } from "./helpers/parley.ts";

let t: TestParley;
before(async () => {
  t = await startTestParley();
});
after(() => t.stop());

test("two users chat over streams", async () => {
  const alice = await t.signIn(newPhone());
  const bob = await t.signIn(newPhone());
  const { conversation } = await t.clients.conversations.getOrCreateDirect(
    { peerUserId: bob.userId },
    { headers: bearer(alice.accessToken) },
  );
  assert.ok(conversation);
  const a = new DeviceStream(t.clients.session, { accessToken: alice.accessToken });
  const b = new DeviceStream(t.clients.session, { accessToken: bob.accessToken });
  await Promise.all([a.caughtUp, b.caughtUp]);
  const result = await a.send({
    conversationId: conversation.conversationId,
    clientMessageId: "m1",
    content: { kind: { case: "text", value: { body: "hi" } } },
  });
  assert.equal(result.outcome.case, "sent");
  await eventually("bob gets hi", () => b.events.some((e) => e.body.case === "message"));
  a.close();
  b.close();
});
