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

/**
 * "now": a send waits on it (appends). "bulk": bookkeeping nobody waits on to see a message
 * (receipt watermarks); it commits after the turn's sends, at most `maxBatch` bulk writes a turn.
 */
export type CommitPriority = "now" | "bulk";

export type GroupCommit = (<T>(work: () => T, priority?: CommitPriority) => Promise<T>) & {
  /**
   * Queues every write until the returned release is called, without blocking the event loop:
   * the WAL checkpointer copies the log to its end meanwhile (services/storage/checkpointer.ts).
   */
  hold(): () => void;
};

/**
 * Where a process's hot writes commit, as the WAL checkpointer sees it: it holds them while it
 * copies the log to its end, and sets the committing connection's pragmas. The group commit on
 * the serving connection is one; the write thread (write-thread.ts) is the other.
 */
export interface CommitQueue {
  /** Resolves once nothing commits any more, with the release that lets commits go on. */
  hold(): Promise<() => void>;
  /** Runs a PRAGMA on the connection that commits. */
  configure(sql: string): void;
}

/** The serving connection's group commit as a commit queue. */
export function inlineCommitQueue(db: DatabaseSync): CommitQueue {
  return {
    hold: async () => groupCommitFor(db).hold(),
    configure: (sql) => db.exec(sql),
  };
}

/**
 * Two commit queues as one: a hold waits until neither commits. The pragmas go to the second
 * only (the checkpointer sets the serving connection's itself).
 */
export function holdingBoth(serving: CommitQueue, other: CommitQueue): CommitQueue {
  return {
    async hold() {
      const releases = await Promise.all([serving.hold(), other.hold()]);
      return () => {
        for (const release of releases) release();
      };
    },
    configure: (sql) => other.configure(sql),
  };
}

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

/**
 * `maxBatch` bounds one transaction, and so how long one turn of the event loop is blocked: when
 * every member of a large group acks at once, their watermark writes go in slices with the
 * sockets served between them, instead of one long transaction that holds up delivery.
 */
export function createGroupCommit(db: DatabaseSync, options: { maxBatch?: number } = {}): GroupCommit {
  const maxBatch = options.maxBatch ?? 128;
  let now: Queued[] = [];
  const bulk: Queued[] = [];
  let scheduled = false;
  let holds = 0;

  function schedule(): void {
    if (scheduled) return;
    scheduled = true;
    // After this turn's I/O callbacks, so every ack read from the sockets in it joins the batch.
    setImmediate(flush);
  }

  function flush(): void {
    scheduled = false;
    if (holds > 0) return;
    // Sends first, all of them (each is one small write); bulk fills what room is left, and always
    // gets an eighth of a batch, so a flood of sends cannot hold receipts back for ever.
    const room = Math.max(Math.ceil(maxBatch / 8), maxBatch - now.length);
    const batch = now.concat(bulk.splice(0, room));
    now = [];
    if (bulk.length > 0) schedule();
    run(batch);
  }

  function run(batch: Queued[]): void {
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

  const commit = <T>(work: () => T, priority: CommitPriority = "now") =>
    new Promise<T>((resolve, reject) => {
      (priority === "now" ? now : bulk).push({ work, resolve: resolve as (value: unknown) => void, reject });
      schedule();
    });
  function hold(): () => void {
    holds++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      holds--;
      if (holds === 0 && now.length + bulk.length > 0) schedule();
    };
  }
  return Object.assign(commit, { hold });
}
