// Group commit for the embedded store: writes queued in the same turn of the event loop share one
// transaction. A turn's sends and receipts (every member of a group acking the same message) cost
// one BEGIN/COMMIT and one WAL append instead of one per write. Each caller's promise settles after
// the commit that made its write durable, so nothing is acknowledged early.
import type { DatabaseSync } from "node:sqlite";
import { transaction } from "./sqlite.ts";

interface Queued {
  work: () => unknown;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

export type GroupCommit = <T>(work: () => T) => Promise<T>;

const shared = new WeakMap<DatabaseSync, GroupCommit>();

/** The database's one group commit, shared by its stores: a turn's sends and acks commit together. */
export function groupCommitFor(db: DatabaseSync): GroupCommit {
  let commit = shared.get(db);
  if (!commit) {
    commit = createGroupCommit(db);
    shared.set(db, commit);
  }
  return commit;
}

export function createGroupCommit(db: DatabaseSync): GroupCommit {
  let queue: Queued[] = [];

  function flush(): void {
    const batch = queue;
    queue = [];
    let results: unknown[];
    try {
      results = transaction(db, () => batch.map((item) => item.work()));
    } catch {
      // One write failed and the batch rolled back: run each alone so only that one fails.
      for (const item of batch) {
        try {
          item.resolve(transaction(db, item.work));
        } catch (error) {
          item.reject(error);
        }
      }
      return;
    }
    for (const [i, item] of batch.entries()) item.resolve(results[i]);
  }

  return <T>(work: () => T) =>
    new Promise<T>((resolve, reject) => {
      queue.push({ work, resolve: resolve as (value: unknown) => void, reject });
      // After this turn's I/O callbacks, so every ack read from the sockets in it joins the batch.
      if (queue.length === 1) setImmediate(flush);
    });
}
