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
    // Several turns, each with appends into every conversation and receipts for what came before.
    for (let turn = 0; turn < 20; turn++) {
      const writesThisTurn = pairs.flatMap(({ id }) => [
        log
          .append({ conversationId: id, event: messageEvent({ sender: "x", clientMessageId: uid("c"), text: `t${turn}` }) })
          .then(({ event }) => sequences.set(id, [...(sequences.get(id) ?? []), event.sequence])),
        log.append({ conversationId: id, event: messageEvent({ sender: "x", clientMessageId: uid("c"), text: `u${turn}` }) }),
      ]);
      if (turn % 2 === 0) await Promise.all(writesThisTurn);
    }
    await Promise.all([...Array(10)].map(() => new Promise((resolve) => setImmediate(resolve))));
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
