// The all-in-one server with its appends and receipts in the write thread, on the serving
// connection (PARLEY_SQLITE_WRITE_THREAD=false) and routed to either by load (auto, the default)
// shares one data directory: events
// the thread stored (their sequence added after the rest of their bytes) read back whole on the
// serving connection, and sequences and cursors carry on across a switch either way.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { test } from "node:test";
import { DeviceStream } from "../clients/node/device-stream.ts";
import { bearer } from "../clients/node/transport.ts";
import { range, sequencesIn, textMessage, textOf } from "./helpers/chat.ts";
import { eventually, newPhone, signInOn, tempDataDir } from "./helpers/parley.ts";
import { spawnParley } from "./helpers/process.ts";

/** Worker threads in a process, by the name Node gives them (the checkpointer's and the writer's). */
const workerThreads = (pid: number) =>
  readdirSync(`/proc/${pid}/task`).filter(
    (task) => readFileSync(`/proc/${pid}/task/${task}/comm`, "utf8").trim() === "WorkerThread",
  ).length;

test("one data directory served with the write thread, without it, and with it again", async () => {
  const dataDir = tempDataDir();
  const phones = { alice: newPhone(), bob: newPhone() };
  const sent: string[] = [];
  let conversationId = "";
  let bobCursors: ReturnType<DeviceStream["cursorList"]> = [];

  for (const [round, writeThread] of ["true", "false", "auto", "true"].entries()) {
    const t = await spawnParley({ dataDir, env: { PARLEY_SQLITE_WRITE_THREAD: writeThread } });
    try {
      assert.equal(
        workerThreads(t.child.pid as number),
        writeThread === "false" ? 1 : 2,
        "the checkpointer, and the writer if on",
      );
      const alice = await signInOn(t.clients, t.codes, phones.alice);
      const bob = await signInOn(t.clients, t.codes, phones.bob);
      const auth = { headers: bearer(alice.accessToken) };
      const { conversation } = await t.clients.conversations.getOrCreateDirect({ peerUserId: bob.userId }, auth);
      conversationId = conversation?.conversationId ?? "";
      const bobStream = new DeviceStream(t.clients.session, { accessToken: bob.accessToken, cursors: bobCursors });
      await bobStream.caughtUp;
      let last = 0n;
      for (let i = 0; i < 3; i++) {
        const text = `round ${round} (write thread ${writeThread}) message ${i}`;
        last = (await t.clients.messaging.sendMessage(textMessage(conversationId, text), auth)).sequence;
        sent.push(text);
      }
      await eventually("bob has this round's messages live", () => bobStream.cursors.get(conversationId) === last);
      const history = await t.clients.messaging.listMessages({ conversationId }, auth);
      assert.deepEqual(
        history.events.map((e) => e.sequence),
        range(1n, last),
        "one sequence, no gaps, across the rounds",
      );
      assert.deepEqual(
        history.events.filter((e) => e.body.case === "message").map(textOf),
        sent,
        "every message reads back whole, whichever way it was stored",
      );
      const live = bobStream.events.filter((e) => e.conversationId === conversationId && e.body.case === "message");
      assert.deepEqual(live.map(textOf), sent.slice(-3), "bob gets only this round's messages, each once");
      assert.deepEqual(sequencesIn(bobStream.events, conversationId).slice(-3), [last - 2n, last - 1n, last]);
      bobCursors = bobStream.cursorList();
      bobStream.close();
    } finally {
      await t.kill("SIGTERM");
    }
  }
});
