// WAL checkpoints off the event loop. SQLite's automatic checkpoint runs inside whichever COMMIT
// crosses 1,000 WAL pages: that commit copies the pages into the database file and fsyncs it, on
// the server's only thread (a quarter of a send's storage time in bench/). Here the connection
// that serves requests never checkpoints; a worker thread with its own connection runs a PASSIVE
// checkpoint every interval. If that thread dies, the serving connection checkpoints itself again.
import type { DatabaseSync } from "node:sqlite";
import { Worker } from "node:worker_threads";
import type { Logger } from "../shared/logger.ts";
import type { CheckpointReport, CheckpointWorkerData } from "./checkpoint-worker.ts";
import type { SyncMode } from "./sqlite.ts";

export interface CheckpointerOptions {
  /** The serving connection, and the path of its database file. */
  db: DatabaseSync;
  path: string;
  sync: SyncMode;
  intervalMs?: number;
  logger: Logger;
  onCheckpoint?: (report: CheckpointReport) => void;
}

export interface Checkpointer {
  /** Stops the thread; the caller's own close (TRUNCATE checkpoint) then empties the WAL. */
  stop(): Promise<void>;
}

/** SQLite's default automatic checkpoint threshold, restored when the thread is gone. */
const inlineCheckpointPages = 1_000;

export function startCheckpointer(options: CheckpointerOptions): Checkpointer {
  const { db, logger } = options;
  const workerData: CheckpointWorkerData = {
    path: options.path,
    intervalMs: options.intervalMs ?? 250,
    synchronous: options.sync === "full" ? "FULL" : "NORMAL",
  };
  const worker = new Worker(new URL("./checkpoint-worker.ts", import.meta.url), { workerData });
  worker.unref();
  db.exec("PRAGMA wal_autocheckpoint = 0");
  let stopping = false;
  worker.on("message", (report: CheckpointReport) => {
    logger.debug("wal checkpoint", { ...report });
    options.onCheckpoint?.(report);
  });
  worker.on("error", (error) => logger.error("wal checkpointer failed", { error: error.message }));
  const exited = new Promise<void>((resolve) => {
    worker.once("exit", (code) => {
      if (!stopping) {
        logger.error("wal checkpointer stopped; commits checkpoint inline again", { code });
        if (db.isOpen) db.exec(`PRAGMA wal_autocheckpoint = ${inlineCheckpointPages}`);
      }
      resolve();
    });
  });
  return {
    async stop() {
      stopping = true;
      worker.postMessage("stop");
      await exited;
    },
  };
}
