// The embedded store's WAL is checkpointed by a background thread, not by the serving connection's commits.
import assert from "node:assert/strict";
import { statSync } from "node:fs";
import { DatabaseSync } from "node:sqlite";
import { test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { createLogger } from "../services/shared/logger.ts";
import type { CheckpointReport } from "../services/storage/checkpoint-worker.ts";
import { type CheckpointerOptions, startCheckpointer, type WalRestart } from "../services/storage/checkpointer.ts";
import { groupCommitFor } from "../services/storage/group-commit.ts";
import { closeDatabase, databasePath, openDatabase, type SyncMode, transaction } from "../services/storage/sqlite.ts";
import { startWriteThread } from "../services/storage/write-thread.ts";
import { tempDataDir } from "./helpers/parley.ts";
import { operationsUrl, type TestOperations } from "./helpers/write-operations.ts";

async function until<T>(what: string, probe: () => T | undefined, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The checkpointer on a 50 ms interval, quiet logs. */
const start = (
  db: DatabaseSync,
  dataDir: string,
  sync: SyncMode,
  onCheckpoint?: (report: CheckpointReport) => void,
  more: Partial<CheckpointerOptions> = {},
) =>
  startCheckpointer({
    db,
    path: databasePath(dataDir),
    sync,
    intervalMs: 50,
    logger: createLogger({ level: "error" }),
    onCheckpoint,
    ...more,
  });

const walBytes = (dataDir: string) => statSync(`${databasePath(dataDir)}-wal`, { throwIfNoEntry: false })?.size ?? 0;

/**
 * 3 KB rows through the group commit, as the server's sends and receipts are, one after another
 * with a millisecond's pause every five: about 40 MB of WAL a second, never idle long enough for
 * the thread to find it all copied. Stops after `count` rows or when `done` says so; calls
 * `sample` at every pause.
 */
async function writeSteadily(
  db: DatabaseSync,
  options: { count: number; done?: () => boolean; sample?: () => void; write?: (body: Uint8Array) => Promise<unknown> },
): Promise<void> {
  const insert = db.prepare("INSERT INTO notes (body) VALUES (?)");
  const commit = groupCommitFor(db);
  const write = options.write ?? ((body: Uint8Array) => commit(() => insert.run(body)));
  for (let i = 0; i < options.count && !options.done?.(); i++) {
    await write(Buffer.alloc(3_000, i % 256));
    if (i % 5 === 4) {
      options.sample?.();
      await sleep(1);
    }
  }
}

test("committed pages reach the database file through the background thread; commits never checkpoint", async () => {
  const dataDir = tempDataDir();
  const db = openDatabase({ dataDir });
  db.exec("CREATE TABLE notes (id INTEGER PRIMARY KEY, body BLOB NOT NULL)");
  const reports: CheckpointReport[] = [];
  const checkpointer = start(db, dataDir, "normal", (report) => reports.push(report));
  try {
    assert.equal(
      db.prepare("PRAGMA wal_autocheckpoint").get()?.wal_autocheckpoint,
      0,
      "the serving connection does not checkpoint",
    );
    const fileBefore = statSync(databasePath(dataDir)).size;
    const insert = db.prepare("INSERT INTO notes (body) VALUES (?)");
    // 1,500 commits of a 4 KB row: past SQLite's 1,000-page automatic checkpoint threshold.
    for (let i = 0; i < 1_500; i++) transaction(db, () => insert.run(Buffer.alloc(4_000, i % 256)));
    const done = await until("a complete checkpoint", () =>
      reports.find((r) => r.logged >= 1_500 && r.checkpointed === r.logged),
    );
    assert.ok(done.durationMs >= 0);
    assert.ok(statSync(databasePath(dataDir)).size > fileBefore + 1_500 * 4_000, "the rows are in the database file");
  } finally {
    await checkpointer.stop();
    closeDatabase(db);
  }
});

test("stopping the thread leaves a store that closes cleanly with an empty WAL", async () => {
  const dataDir = tempDataDir();
  const db = openDatabase({ dataDir });
  const checkpointer = start(db, dataDir, "full");
  db.exec("CREATE TABLE notes (id INTEGER PRIMARY KEY)");
  await checkpointer.stop();
  closeDatabase(db);
  assert.equal(walBytes(dataDir), 0);
});

/** Starts `write` and returns once fewer than `limit` are unsettled (close() waits for the rest). */
function inFlight(limit: number, write: (body: Uint8Array) => Promise<unknown>) {
  const pending = new Set<Promise<unknown>>();
  return async (body: Uint8Array) => {
    const call = write(body).finally(() => pending.delete(call));
    pending.add(call);
    if (pending.size >= limit) await Promise.race(pending);
  };
}

/**
 * Commits that never pause, from the serving connection's group commit or from the write thread,
 * with the checkpointer holding whichever it is given: the WAL still starts again from its
 * beginning and stays bounded, and every row survives.
 */
async function restartsUnderSteadyWrites(threaded: boolean) {
  const dataDir = tempDataDir();
  const db = openDatabase({ dataDir });
  db.exec("CREATE TABLE notes (id INTEGER PRIMARY KEY, body BLOB NOT NULL)");
  const restartFrames = 256;
  const restarts: WalRestart[] = [];
  const thread = threaded
    ? startWriteThread<TestOperations>({
        path: databasePath(dataDir),
        sync: "normal",
        operations: operationsUrl,
        logger: createLogger({ level: "error" }),
      })
    : undefined;
  const checkpointer = start(db, dataDir, "normal", undefined, {
    intervalMs: 10,
    restartFrames,
    commits: thread,
    onRestart: (restart) => restarts.push(restart),
  });
  const commits = 6_000;
  let largestWal = 0;
  try {
    await writeSteadily(db, {
      count: commits,
      sample: () => (largestWal = Math.max(largestWal, walBytes(dataDir))),
      // Eight calls in flight, so the thread mostly has the next batch waiting. Even so its round
      // trips leave gaps in which the log restarts without a hold (the same WAL sizes here with
      // the hold on the unused serving connection): that commits are held in the thread is
      // test/write-thread.test.ts's to show; this one shows the two threads together keep the
      // log bounded, every restart finishing, and every row.
      write: thread && inFlight(8, (body) => thread.call("note", [body])),
    });
  } finally {
    await thread?.close();
    await checkpointer.stop();
  }
  assert.ok(
    restarts.some((r) => r.finished),
    "commits were held while the thread finished a restart",
  );
  const frame = 4_096 + 24;
  // Without restarts it reaches about 40 MB; the bound leaves room for a slow machine's threads.
  const bound = 16 * restartFrames * frame;
  assert.ok(largestWal <= bound, `the WAL stayed bounded (largest ${largestWal} bytes, bound ${bound})`);
  closeDatabase(db);
  const reopened = openDatabase({ dataDir });
  try {
    const { count } = reopened.prepare("SELECT count(*) AS count FROM notes").get() as { count: number };
    assert.equal(count, commits, "every committed row survived the restarts");
  } finally {
    closeDatabase(reopened);
  }
}

test("under writes that never pause, the WAL still starts again from its beginning and stays bounded", () =>
  restartsUnderSteadyWrites(false));

test("the same with the commits in the write thread (the all-in-one default)", () => restartsUnderSteadyWrites(true));

test("a reader pinning an old snapshot gets fewer and fewer holds; once it lets go the WAL restarts again", async () => {
  const dataDir = tempDataDir();
  const db = openDatabase({ dataDir });
  db.exec("CREATE TABLE notes (id INTEGER PRIMARY KEY, body BLOB NOT NULL)");
  const restarts: WalRestart[] = [];
  const checkpointer = start(db, dataDir, "normal", undefined, {
    intervalMs: 10,
    restartFrames: 64,
    onRestart: (restart) => restarts.push(restart),
  });
  // Another connection in a read transaction, as a backup tool reading the live file would be.
  const reader = new DatabaseSync(databasePath(dataDir));
  const writeFor = (ms: number, done: () => boolean = () => false) => {
    const end = Date.now() + ms;
    return writeSteadily(db, { count: Number.POSITIVE_INFINITY, done: () => Date.now() >= end || done() });
  };
  try {
    reader.exec("BEGIN");
    reader.prepare("SELECT count(*) FROM notes").get();
    await writeFor(1_500);
    const pinned = restarts.length;
    assert.ok(pinned > 0, "the thread asked for a restart");
    assert.ok(
      restarts.every((r) => !r.complete),
      "no restart could copy the WAL to its end under the reader",
    );
    // Every interval (10 ms) would be about 150 holds; backing off, a handful.
    assert.ok(pinned <= 15, `${pinned} holds in 1.5 s under a pinned reader`);
    reader.exec("COMMIT");
    await writeFor(5_000, () => restarts.slice(pinned).some((r) => r.complete));
    assert.ok(
      restarts.slice(pinned).some((r) => r.complete),
      "with the reader gone a restart copied the WAL to its end",
    );
  } finally {
    reader.close();
    await checkpointer.stop();
    closeDatabase(db);
  }
});
