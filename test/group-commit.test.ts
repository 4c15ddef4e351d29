// Group commit on the embedded store: writes queued together commit together, settle only once
// durable, and one failing write fails alone.
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { test } from "node:test";
import {
  type CommitPriority,
  type CommitQueue,
  createGroupCommit,
  type GroupCommit,
  holdingBoth,
} from "../services/storage/group-commit.ts";
import { openDatabase } from "../services/storage/sqlite.ts";
import { tempDataDir } from "./helpers/parley.ts";

function scratch() {
  const dataDir = tempDataDir();
  const db = openDatabase({ dataDir });
  db.exec("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL)");
  // A second connection sees only what has been committed.
  const reader = new DatabaseSync(`${dataDir}/parley.db`);
  const committed = () => (reader.prepare("SELECT id FROM notes ORDER BY id").all() as { id: number }[]).map((r) => r.id);
  return { db, committed };
}

/** Inserts a note per write through `commit`, recording the order the writes ran in. */
function recordedWrites(db: DatabaseSync, commit: GroupCommit) {
  const order: string[] = [];
  const write = (id: number, priority: CommitPriority) =>
    commit(() => {
      order.push(`${priority}-${id}`);
      db.prepare("INSERT INTO notes (id, body) VALUES (?, 'x')").run(id);
    }, priority);
  return { write, order };
}

test("writes queued in one turn share one transaction and settle after it commits", async () => {
  const { db, committed } = scratch();
  const commit = createGroupCommit(db);
  const inTransaction: boolean[] = [];
  const writes = [1, 2, 3].map((id) =>
    commit(() => {
      inTransaction.push(db.isTransaction);
      db.prepare("INSERT INTO notes (id, body) VALUES (?, 'x')").run(id);
      return id * 10;
    }).then((result) => ({ result, visible: committed() })),
  );
  assert.deepEqual(committed(), [], "nothing is written before the turn ends");
  const settled = await Promise.all(writes);
  assert.deepEqual(
    settled.map((s) => s.result),
    [10, 20, 30],
  );
  for (const s of settled) assert.deepEqual(s.visible, [1, 2, 3], "each write is durable when its promise settles");
  assert.deepEqual(inTransaction, [true, true, true]);
});

test("a write that fails is rolled back alone; the others in its batch commit", async () => {
  const { db, committed } = scratch();
  const commit = createGroupCommit(db);
  const results = await Promise.allSettled([
    commit(() => db.prepare("INSERT INTO notes (id, body) VALUES (1, 'a')").run()),
    commit(() => {
      db.prepare("INSERT INTO notes (id, body) VALUES (2, 'b')").run();
      throw new Error("refused after writing");
    }),
    commit(() => db.prepare("INSERT INTO notes (id, body) VALUES (3, 'c')").run()),
  ]);
  assert.deepEqual(
    results.map((r) => r.status),
    ["fulfilled", "rejected", "fulfilled"],
  );
  assert.equal((results[1] as PromiseRejectedResult).reason.message, "refused after writing");
  assert.deepEqual(committed(), [1, 3]);
  // And the store goes on batching afterwards.
  await commit(() => db.prepare("INSERT INTO notes (id, body) VALUES (4, 'd')").run());
  assert.deepEqual(committed(), [1, 3, 4]);
});

test("bulk writes commit in bounded slices, and a send queued meanwhile goes before the rest", async () => {
  const { db, committed } = scratch();
  const { write, order } = recordedWrites(db, createGroupCommit(db, { maxBatch: 4 }));
  const bulk = Array.from({ length: 10 }, (_, i) => write(i + 1, "bulk"));
  // The first slice commits in the next turn; a send that arrives after it goes ahead of the rest.
  await bulk[0];
  assert.deepEqual(committed(), [1, 2, 3, 4], "one slice of at most maxBatch writes per turn");
  const send = write(100, "now");
  await Promise.all([...bulk, send]);
  assert.deepEqual(order, [
    "bulk-1",
    "bulk-2",
    "bulk-3",
    "bulk-4",
    "now-100",
    "bulk-5",
    "bulk-6",
    "bulk-7",
    "bulk-8",
    "bulk-9",
    "bulk-10",
  ]);
});

test("a flood of sends does not hold bulk writes back: each turn commits some of them", async () => {
  const { db } = scratch();
  const { write, order } = recordedWrites(db, createGroupCommit(db, { maxBatch: 8 }));
  const bulk = [write(1, "bulk"), write(2, "bulk")];
  // Three turns in a row, each bringing more sends than a batch holds.
  const sends: Promise<void>[] = [];
  await new Promise<void>((floodDone) => {
    let turn = 0;
    const flood = () => {
      for (let i = 0; i < 20; i++) sends.push(write(100 + 1000 * turn + i, "now"));
      if (++turn < 3) setImmediate(flood);
      else floodDone();
    };
    flood();
  });
  await Promise.all([...bulk, ...sends]);
  assert.ok(
    order.indexOf("bulk-1") < order.indexOf("now-2100"),
    "a bulk write went out before the last turn's sends, not after the flood",
  );
});

test("held, writes wait in the queue with the event loop free; released, they commit together", async () => {
  const { db, committed } = scratch();
  const commit = createGroupCommit(db);
  const release = commit.hold();
  let settled = 0;
  const writes = [1, 2, 3].map((id) =>
    commit(() => db.prepare("INSERT INTO notes (id, body) VALUES (?, 'x')").run(id), id === 2 ? "bulk" : "now").then(() => {
      settled++;
    }),
  );
  // Several turns of the event loop (timers run: nothing blocks while writes are held).
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.deepEqual(committed(), [], "nothing commits while held");
  assert.equal(settled, 0);
  release();
  release(); // a second release of the same hold changes nothing
  await Promise.all(writes);
  assert.deepEqual(committed(), [1, 2, 3]);
  const again = commit.hold();
  const more = commit(() => db.prepare("INSERT INTO notes (id, body) VALUES (4, 'x')").run());
  const stillHeld = commit.hold();
  again();
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.deepEqual(committed(), [1, 2, 3], "one hold left is still a hold");
  stillHeld();
  await more;
  assert.deepEqual(committed(), [1, 2, 3, 4]);
});

test("two commit queues held as one: the hold waits for both, and the release frees both", async () => {
  const events: string[] = [];
  const queue = (name: string, heldAfterMs: number): CommitQueue => ({
    hold: () =>
      new Promise((resolve) =>
        setTimeout(() => {
          events.push(`${name} held`);
          resolve(() => events.push(`${name} released`));
        }, heldAfterMs),
      ),
    configure: (sql) => events.push(`${name} ${sql}`),
  });
  const both = holdingBoth(queue("serving", 0), queue("thread", 20));
  both.configure("PRAGMA x");
  const release = await both.hold();
  assert.deepEqual(
    events,
    ["thread PRAGMA x", "serving held", "thread held"],
    "the serving connection's pragmas are the caller's",
  );
  release();
  assert.deepEqual(events.slice(3), ["serving released", "thread released"]);
});
