// A busy device's delivered writes coalesce (PARLEY_DELIVERED_LINGER_MS): the first ack after a
// quiet spell is recorded at once, the rest together after the linger, and a stream that closes
// meanwhile still has its acks recorded.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { DeviceStream } from "../clients/node/device-stream.ts";
import { bearer } from "../clients/node/transport.ts";
import { textMessage } from "./helpers/chat.ts";
import { deliveredOf, directChat } from "./helpers/direct-chat.ts";
import { eventually, eventuallyAsync, type SignedIn, startTestParley, type TestParley } from "./helpers/parley.ts";

const lingerMs = 3_000;
let t: TestParley;
before(async () => {
  t = await startTestParley({ env: { PARLEY_DELIVERED_LINGER_MS: String(lingerMs) } });
});
after(() => t.stop());

const open = (who: SignedIn) => new DeviceStream(t.clients.session, { accessToken: who.accessToken });

test("a burst of acks is recorded as the first one, then all of the rest together after the linger", async () => {
  const { alice, bob, conversationId } = await directChat(t);
  const [aliceStream, bobStream] = [open(alice), open(bob)];
  await Promise.all([aliceStream.caughtUp, bobStream.caughtUp]);
  const sent: bigint[] = [];
  for (let i = 0; i < 20; i++) {
    const result = await aliceStream.send(textMessage(conversationId, `burst ${i}`));
    if (result.outcome.case === "sent") sent.push(result.outcome.value.sequence);
  }
  const last = sent[sent.length - 1] ?? 0n;
  const started = Date.now();
  await eventually("bob has the burst", () => bobStream.cursors.get(conversationId) === last);
  await eventually("the last delivered tick", () =>
    aliceStream.receipts.some(
      (r) => r.conversationId === conversationId && r.userId === bob.userId && r.deliveredThrough === last,
    ),
  );
  const ticks = aliceStream.receipts.filter((r) => r.conversationId === conversationId && r.userId === bob.userId);
  assert.ok(ticks.length < sent.length / 2, `${ticks.length} delivered updates for ${sent.length} messages`);
  assert.ok(Date.now() - started >= lingerMs / 2, "the rest waited for the linger");
  assert.equal(await deliveredOf(t.clients, alice, conversationId, bob.userId), last);
  aliceStream.close();
  bobStream.close();
});

test("acks still lingering when the stream closes are recorded at the close", async () => {
  const { alice, bob, conversationId } = await directChat(t);
  const bobStream = open(bob);
  await bobStream.caughtUp;
  const headers = bearer(alice.accessToken);
  let last = 0n;
  for (let i = 0; i < 5; i++) {
    last = (await t.clients.messaging.sendMessage(textMessage(conversationId, `m${i}`), { headers })).sequence;
    await eventually("bob has it", () => bobStream.cursors.get(conversationId) === last);
  }
  // Give the last ack time to reach the server, well inside the linger, then leave.
  await new Promise((r) => setTimeout(r, 100));
  bobStream.close();
  const closedAt = Date.now();
  await eventuallyAsync(
    "bob's last ack recorded",
    async () => (await deliveredOf(t.clients, alice, conversationId, bob.userId)) === last,
  );
  assert.ok(Date.now() - closedAt < lingerMs / 2, "recorded at the close, not after the linger");
});
