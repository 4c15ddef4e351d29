// Acceptance c: a retried send returns the original id and sequence, also after a restart, and
// nothing is stored or delivered twice.
import assert from "node:assert/strict";
import { test } from "node:test";
import { DeviceStream } from "../clients/node/device-stream.ts";
import { bearer } from "../clients/node/transport.ts";
import { range, sequencesIn, textMessage } from "./helpers/chat.ts";
import { eventually, newPhone, startTestParley, tempDataDir } from "./helpers/parley.ts";

test("retrying a send with the same client_message_id, before and after a restart, takes effect once", async () => {
  const dataDir = tempDataDir();
  let t = await startTestParley({ dataDir });
  const alice = await t.signIn(newPhone());
  const bob = await t.signIn(newPhone());
  const auth = { headers: bearer(alice.accessToken) };
  const { conversation } = await t.clients.conversations.getOrCreateDirect({ peerUserId: bob.userId }, auth);
  const id = conversation?.conversationId ?? "";
  const bobStream = new DeviceStream(t.clients.session, { accessToken: bob.accessToken });
  await bobStream.caughtUp;

  const request = textMessage(id, "only once", "retry-me-1");
  const first = await t.clients.messaging.sendMessage(request, auth);
  assert.equal(first.duplicate, false);
  const again = await t.clients.messaging.sendMessage(request, auth);
  assert.equal(again.duplicate, true);
  assert.equal(again.messageId, first.messageId);
  assert.equal(again.sequence, first.sequence);

  // The same key over the stream is the same message too.
  const aliceStream = new DeviceStream(t.clients.session, { accessToken: alice.accessToken });
  await aliceStream.caughtUp;
  const viaStream = await aliceStream.send(request);
  assert.equal(viaStream.outcome.case, "sent");
  assert.equal(viaStream.outcome.case === "sent" && viaStream.outcome.value.sequence, first.sequence);
  const next = await t.clients.messaging.sendMessage(textMessage(id, "second"), auth);
  assert.equal(next.sequence, first.sequence + 1n, "retries allocated no sequence");
  await eventually("bob has both", () => bobStream.cursors.get(id) === next.sequence);
  assert.deepEqual(sequencesIn(bobStream.events, id), range(1n, next.sequence));
  aliceStream.close();
  bobStream.close();

  await t.stop();
  t = await startTestParley({ dataDir });
  const afterRestart = await t.clients.messaging.sendMessage(request, auth);
  assert.equal(afterRestart.duplicate, true);
  assert.equal(afterRestart.messageId, first.messageId);
  assert.equal(afterRestart.sequence, first.sequence);

  const history = await t.clients.messaging.listMessages({ conversationId: id }, auth);
  assert.deepEqual(
    history.events.map((e) => e.sequence),
    range(1n, next.sequence),
    "stored once",
  );
  const bobAgain = new DeviceStream(t.clients.session, { accessToken: bob.accessToken, cursors: bobStream.cursorList() });
  assert.equal(await bobAgain.caughtUp, 0, "nothing is delivered again to a device that has it");
  bobAgain.close();
  await t.stop();
});
