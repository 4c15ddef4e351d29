// Acceptance e: SIGKILL during traffic, restart on the same data directory: every send that got a
// result is still there and is delivered; clients resume without loss.
import assert from "node:assert/strict";
import { test } from "node:test";
import { DeviceStream } from "../clients/node/device-stream.ts";
import { bearer } from "../clients/node/transport.ts";
import { range, sequencesIn, textMessage } from "./helpers/chat.ts";
import { eventually, newPhone, signInOn, startTestParley, tempDataDir } from "./helpers/parley.ts";
import { spawnParley } from "./helpers/process.ts";

test("a server killed with SIGKILL mid-traffic loses no acknowledged send", async () => {
  const dataDir = tempDataDir();
  const first = await spawnParley({ dataDir });
  const t = { clients: first.clients };
  const signIn = (phone: string) => signInOn(first.clients, first.codes, phone);
  const alice = await signIn(newPhone());
  const bob = await signIn(newPhone());
  const { conversation } = await t.clients.conversations.getOrCreateDirect(
    { peerUserId: bob.userId },
    { headers: bearer(alice.accessToken) },
  );
  const id = conversation?.conversationId ?? "";
  const bobStream = new DeviceStream(first.clients.session, { accessToken: bob.accessToken });
  const aliceStream = new DeviceStream(first.clients.session, { accessToken: alice.accessToken });
  await Promise.all([bobStream.caughtUp, aliceStream.caughtUp]);

  // Alice sends as fast as results come back; the server dies somewhere in the middle.
  const acknowledged = new Map<string, bigint>();
  let inFlight: string | undefined;
  const sending = (async () => {
    for (let i = 0; ; i++) {
      const request = textMessage(id, `message ${i}`, `crash-${i}`);
      inFlight = request.clientMessageId;
      try {
        const result = await aliceStream.send(request);
        if (result.outcome.case === "sent") acknowledged.set(request.clientMessageId ?? "", result.outcome.value.sequence);
      } catch {
        return; // the stream died with the server
      }
    }
  })();
  await eventually("traffic under way", () => acknowledged.size >= 150);
  await first.kill("SIGKILL");
  await sending;
  await Promise.all([aliceStream.ended, bobStream.ended]);

  const second = await startTestParley({ dataDir });
  const auth = { headers: bearer(alice.accessToken) };
  const history = [];
  for (let before = 0n; ; ) {
    const page = await second.clients.messaging.listMessages({ conversationId: id, beforeSequence: before, pageSize: 500 }, auth);
    history.unshift(...page.events);
    if (!page.hasMore) break;
    before = page.events[0]?.sequence ?? 0n;
  }
  const stored = new Map(history.map((e) => [e.body.case === "message" ? e.body.value.clientMessageId : "", e.sequence]));
  for (const [clientMessageId, sequence] of acknowledged)
    assert.equal(stored.get(clientMessageId), sequence, `${clientMessageId} kept`);
  const last = history.at(-1)?.sequence ?? 0n;
  assert.deepEqual(
    history.map((e) => e.sequence),
    range(1n, last),
    "no holes in the log",
  );

  // The send whose result never came is retried with its key: it takes effect exactly once.
  if (inFlight) {
    const retried = await second.clients.messaging.sendMessage(textMessage(id, "retry", inFlight), auth);
    assert.ok(retried.sequence <= last + 1n);
  }
  const finalLast =
    (await second.clients.messaging.listMessages({ conversationId: id, pageSize: 1 }, auth)).events[0]?.sequence ?? 0n;

  // Bob resumes from his cursors and gets everything he missed, in order, without duplicates.
  const bobAgain = new DeviceStream(second.clients.session, { accessToken: bob.accessToken, cursors: bobStream.cursorList() });
  await bobAgain.caughtUp;
  await eventually("bob has everything", () => (bobAgain.cursors.get(id) ?? bobStream.cursors.get(id)) === finalLast);
  const received = [...sequencesIn(bobStream.events, id), ...sequencesIn(bobAgain.events, id)];
  assert.deepEqual(received, range(1n, finalLast));
  bobAgain.close();
  await second.stop();
});
