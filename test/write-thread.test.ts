// The SQLite write thread: calls run on the thread's own connection and settle once committed,
// a turn's calls share a transaction, one message is in flight at a time, errors keep their
// Parley code, holds stop every commit, and a thread that dies fails only the calls it had not
// answered.
import assert from "node:assert/strict";
import { test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { Code, ConnectError } from "@connectrpc/connect";
import { reasonOf } from "../services/shared/errors.ts";
import { createLogger } from "../services/shared/logger.ts";
import { closeDatabase, databasePath, openDatabase } from "../services/storage/sqlite.ts";
import { startWriteThread } from "../services/storage/write-thread.ts";
import { tempDataDir } from "./helpers/parley.ts";
import { operationsUrl, type TestOperations } from "./helpers/write-operations.ts";

function scratch() {
  const dataDir = tempDataDir();
  const db = openDatabase({ dataDir });
  db.exec("CREATE TABLE notes (id INTEGER PRIMARY KEY, body BLOB NOT NULL)");
  /** The number of calls in each message sent to the thread. */
  const batches: number[] = [];
  const thread = startWriteThread<TestOperations>({
    path: databasePath(dataDir),
    sync: "normal",
    operations: operationsUrl,
    logger: createLogger({ level: "error" }),
    onBatch: (calls) => batches.push(calls),
  });
  // The serving connection sees what the thread has committed, and nothing else.
  const committed = () => (db.prepare("SELECT id FROM notes ORDER BY id").all() as { id: number }[]).map((r) => r.id);
  const note = () => thread.call("note", [new Uint8Array([1, 2, 3])]);
  async function done() {
    await thread.close();
    closeDatabase(db);
  }
  return { db, thread, committed, note, done, batches };
}

test("a turn's calls commit together in the thread and each settles with the write visible", async () => {
  const s = scratch();
  try {
    const results = await Promise.all([1, 2, 3].map(() => s.note().then((result) => ({ ...result, visible: s.committed() }))));
    assert.deepEqual(
      results.map((r) => r.id),
      [1, 2, 3],
    );
    for (const r of results) {
      assert.equal(r.inTransaction, true, "each ran inside the thread's transaction");
      assert.deepEqual(r.visible, [1, 2, 3], "settled only after the commit that holds all three");
    }
  } finally {
    await s.done();
  }
});

test("a call that throws fails alone, with its Parley code and reason, and stores nothing", async () => {
  const s = scratch();
  try {
    const [first, parley, plain, last] = await Promise.allSettled([
      s.note(),
      s.thread.call("refuse", ["parley"]),
      s.thread.call("refuse", ["plain"]),
      s.note(),
    ]);
    assert.equal(first.status, "fulfilled");
    assert.equal(last.status, "fulfilled");
    assert.equal(parley.status, "rejected");
    const error = (parley as PromiseRejectedResult).reason;
    assert.ok(error instanceof ConnectError);
    assert.equal(error.code, Code.NotFound);
    assert.equal(reasonOf(error), "CONVERSATION_NOT_FOUND");
    assert.equal(plain.status, "rejected");
    assert.equal((plain as PromiseRejectedResult).reason.message, "the plain failure");
    assert.deepEqual(s.committed(), [1, 2], "the failed calls' notes rolled back");
  } finally {
    await s.done();
  }
});

test("while held nothing commits and the event loop stays free; on release the queued calls commit", async () => {
  const s = scratch();
  try {
    await s.note();
    const release = await s.thread.hold();
    let settled = false;
    const queued = s.note().then(() => (settled = true));
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 5);
    await sleep(100);
    clearInterval(ticker);
    assert.equal(settled, false, "the call waits while commits are held");
    assert.deepEqual(s.committed(), [1]);
    assert.ok(ticks >= 5, `timers ran while held (${ticks})`);
    release();
    await queued;
    assert.deepEqual(s.committed(), [1, 2]);
  } finally {
    await s.done();
  }
});

test("while a message is in flight, calls from later turns wait and go to the thread together in the next one", async () => {
  const s = scratch();
  const release = await s.thread.hold();
  try {
    const first = s.note();
    const later: Promise<unknown>[] = [];
    for (let turn = 0; turn < 3; turn++) {
      await new Promise((resolve) => setImmediate(resolve));
      later.push(s.note());
    }
    await sleep(20);
    assert.deepEqual(s.batches, [1], "only the first call left while it was unanswered");
    release();
    await Promise.all([first, ...later]);
    assert.deepEqual(s.batches, [1, 3], "the three calls of later turns went in one message once it was answered");
    assert.deepEqual(s.committed(), [1, 2, 3, 4]);
  } finally {
    // Released here too if an assertion failed, or close would wait on the held calls for ever.
    release();
    await s.done();
  }
});

test("a thread that dies fails the calls it had not answered; the next call runs on a new thread", async () => {
  const s = scratch();
  try {
    await s.note();
    const [exit, alongside] = await Promise.allSettled([s.thread.call("exit", []), s.note()]);
    assert.equal(exit.status, "rejected");
    assert.match((exit as PromiseRejectedResult).reason.message, /write thread exited/);
    assert.equal(alongside.status, "rejected", "the call in the same transaction was not answered either");
    const after = await s.note();
    assert.equal(after.inTransaction, true);
    assert.deepEqual(s.committed(), [1, after.id], "what the dead thread had not committed is not there");
  } finally {
    await s.done();
  }
});

test("a call whose arguments cannot cross to the thread fails alone; the process and the thread go on", async () => {
  const s = scratch();
  try {
    const unclonable = s.thread.call("note", [(() => new Uint8Array()) as unknown as Uint8Array]);
    await assert.rejects(unclonable, /could not be sent to its thread/);
    assert.equal((await s.note()).id, 1);
  } finally {
    await s.done();
  }
});

test("close waits for the calls made before it, then refuses new ones", async () => {
  const s = scratch();
  const before = [s.note(), s.note()];
  const closed = s.thread.close();
  await assert.rejects(s.note(), /closed/);
  await closed;
  assert.deepEqual(
    (await Promise.all(before)).map((r) => r.id),
    [1, 2],
  );
  assert.deepEqual(s.committed(), [1, 2]);
  closeDatabase(s.db);
});
