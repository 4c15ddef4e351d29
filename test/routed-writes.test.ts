// The all-in-one server's hot writes commit on the serving connection or on the write thread, as
// the route says. The two connections never have writes in flight at once, so the route may
// change between any two writes and every conversation still gets one contiguous order.
import assert from "node:assert/strict";
import { test } from "node:test";
import { SqliteUserStore } from "../services/identity/adapters/sqlite.ts";
import { routedWrites } from "../services/messaging/adapters/sqlite/routed-writes.ts";
import { inlineWrites, type MessagingWrites, threadWrites } from "../services/messaging/adapters/sqlite/writes.ts";
import { SqliteConversationStore, SqliteEventLog } from "../services/messaging/adapters/sqlite.ts";
import { createLogger } from "../services/shared/logger.ts";
import { closeDatabase, databasePath, openDatabase } from "../services/storage/sqlite.ts";
import { messageEvent, uid } from "./contract/harness.ts";
import { embeddedDirect } from "./helpers/embedded-group.ts";
import { tempDataDir } from "./helpers/parley.ts";

test("writes routed back and forth between the serving connection and the thread keep one order, never both in flight", async () => {
  const dataDir = tempDataDir();
  const db = openDatabase({ dataDir });
  const thread = threadWrites({ path: databasePath(dataDir), sync: "normal", logger: createLogger({ level: "error" }) });
  try {
    const served = inlineWrites(db);
    /** Writes the serving connection has been handed and not yet committed. */
    let servingInFlight = 0;
    const counted = <T>(write: Promise<T>) => {
      servingInFlight++;
      return write.finally(() => servingInFlight--);
    };
    const inline: MessagingWrites = {
      append: (input) => counted(served.append(input)),
      advanceDelivered: (...args) => counted(served.advanceDelivered(...args)),
      advanceRead: (...args) => counted(served.advanceRead(...args)),
    };
    // The route changes at every write; each write also checks what is in flight as it is routed.
    let reads = 0;
    const overlaps: string[] = [];
    const routes: ("inline" | "thread")[] = [];
    const route = {
      get offload() {
        if (servingInFlight > 0 && thread.pending > 0) overlaps.push(`${servingInFlight} inline, ${thread.pending} thread`);
        return reads++ % 3 === 0;
      },
      stop() {},
    };
    const writes = routedWrites(inline, thread, route, (to) => routes.push(to));
    const log = new SqliteEventLog(db, writes);
    const users = new SqliteUserStore(db);
    const conversations = new SqliteConversationStore(db);
    const pairs = await Promise.all(
      [0, 1, 2].map(() => embeddedDirect({ users, conversations }, [uid("a"), uid("b")]).then((id) => ({ id }))),
    );
    const sequences = new Map<string, bigint[]>();
    const all: Promise<unknown>[] = [];
    // Several turns, each with appends into every conversation; every other turn waits for its own.
    for (let turn = 0; turn < 20; turn++) {
      const writesThisTurn = pairs.flatMap(({ id }) => [
        log
          .append({ conversationId: id, event: messageEvent({ sender: "x", clientMessageId: uid("c"), text: `t${turn}` }) })
          .then(({ event }) => sequences.set(id, [...(sequences.get(id) ?? []), event.sequence])),
        log.append({ conversationId: id, event: messageEvent({ sender: "x", clientMessageId: uid("c"), text: `u${turn}` }) }),
      ]);
      all.push(...writesThisTurn);
      if (turn % 2 === 0) await Promise.all(writesThisTurn);
    }
    await Promise.all(all);
    await thread.close();
    assert.deepEqual(overlaps, [], "never writes in flight on both connections");
    assert.ok(routes.includes("inline") && routes.includes("thread"), `both routes were taken: ${new Set(routes).size}`);
    for (const { id } of pairs) {
      const stored = (
        db.prepare("SELECT sequence FROM events WHERE conversation_id = ? ORDER BY sequence").all(id) as {
          sequence: number;
        }[]
      ).map((row) => BigInt(row.sequence));
      assert.equal(stored.length, 41, "the creation event and 40 messages");
      assert.deepEqual(
        stored,
        stored.map((_, i) => BigInt(i + 1)),
        "one contiguous order",
      );
      const mine = sequences.get(id) ?? [];
      assert.deepEqual(
        mine,
        [...mine].sort((a, b) => (a < b ? -1 : 1)),
        "appends made in order got rising sequences",
      );
    }
  } finally {
    closeDatabase(db);
  }
});

test("under writes that never stop, the route still changes side, both ways, and order holds", async () => {
  const dataDir = tempDataDir();
  const db = openDatabase({ dataDir });
  const thread = threadWrites({ path: databasePath(dataDir), sync: "normal", logger: createLogger({ level: "error" }) });
  try {
    let offload = false;
    const sides: string[] = [];
    const writes = routedWrites(
      inlineWrites(db),
      thread,
      {
        get offload() {
          return offload;
        },
        stop() {},
      },
      (to) => sides.push(to),
    );
    const log = new SqliteEventLog(db, writes);
    const users = new SqliteUserStore(db);
    const id = await embeddedDirect({ users, conversations: new SqliteConversationStore(db) }, [uid("a"), uid("b")]);
    const all: Promise<unknown>[] = [];
    // Every turn adds writes before the previous ones are committed: neither side is ever empty
    // when a write arrives.
    for (let turn = 0; turn < 60; turn++) {
      if (turn === 20) offload = true;
      if (turn === 40) offload = false;
      for (let i = 0; i < 3; i++) {
        all.push(
          log.append({
            conversationId: id,
            event: messageEvent({ sender: "x", clientMessageId: uid("c"), text: `${turn}.${i}` }),
          }),
        );
      }
      await new Promise((resolve) => setImmediate(resolve));
    }
    await Promise.all(all);
    await thread.close();
    const firstThread = sides.indexOf("thread");
    const backInline = sides.indexOf("inline", firstThread);
    assert.ok(firstThread >= 60 && firstThread < 120, `writes went to the thread soon after the switch (write ${firstThread})`);
    assert.ok(backInline >= 120 && backInline < 180, `and came back soon after the switch back (write ${backInline})`);
    const stored = (
      db.prepare("SELECT sequence FROM events WHERE conversation_id = ? ORDER BY sequence").all(id) as {
        sequence: number;
      }[]
    ).map((row) => row.sequence);
    assert.deepEqual(
      stored,
      stored.map((_, i) => i + 1),
    );
    const texts = (db.prepare("SELECT sequence FROM events WHERE conversation_id = ? ORDER BY sequence").all(id) as unknown[])
      .length;
    assert.equal(texts, 181, "the creation event and every write");
  } finally {
    closeDatabase(db);
  }
});
