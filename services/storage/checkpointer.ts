// WAL checkpoints off the event loop. SQLite's automatic checkpoint runs inside whichever COMMIT
// crosses 1,000 WAL pages: that commit copies the pages into the database file and fsyncs it, on
// the server's only thread (a quarter of a send's storage time in bench/). Here the connection
// that serves requests never checkpoints; a worker thread with its own connection runs a PASSIVE
// checkpoint every interval. If that thread dies, the serving connection checkpoints itself again.
//
// A WAL only starts again from its beginning when a write begins with every frame in it copied,
// which under steady writes a thread running beside the writer never sees (measured: 2.4 GB after
// 30 s of 4,000 msgs/s, and every commit slower as it grew). So past `restartFrames` the thread
// catches up, the writer holds its group commits (queued, the event loop still serving) while the
// thread copies the last frames, and the first commit after writes from the start of the file.
import type { DatabaseSync } from "node:sqlite";
import { Worker } from "node:worker_threads";
import type { Logger } from "../shared/logger.ts";
import type { CheckpointReport, CheckpointWorkerData } from "./checkpoint-worker.ts";
import { type CommitQueue, inlineCommitQueue } from "./group-commit.ts";
import type { SyncMode } from "./sqlite.ts";

/**
 * A restart: how long the writer's commits were held, whether the thread finished in time, and
 * whether it copied the WAL to its end (if not, a reader elsewhere pins it and restarts back off).
 */
export type WalRestart = { heldMs: number; finished: boolean; complete: boolean };

export interface CheckpointerOptions {
  /** The serving connection, and the path of its database file. */
  db: DatabaseSync;
  path: string;
  /** Where the hot writes commit, if not on `db`'s own group commit (the write thread). */
  commits?: CommitQueue;
  sync: SyncMode;
  intervalMs?: number;
  /** WAL frames (pages) past which the log is restarted; the file is kept at twice that size. */
  restartFrames?: number;
  logger: Logger;
  onCheckpoint?: (report: CheckpointReport) => void;
  onRestart?: (restart: WalRestart) => void;
}

export interface Checkpointer {
  /** Stops the thread; the caller's own close (TRUNCATE checkpoint) then empties the WAL. */
  stop(): Promise<void>;
}

/** SQLite's default automatic checkpoint threshold, restored when the thread is gone. */
const inlineCheckpointPages = 1_000;
/** 32 MB of 4 KB pages: at 4,000 msgs/s (about 18 KB of WAL each) two restarts a second. */
const defaultRestartFrames = 8_192;
/** Commits are released after this long even if the thread never answers (it died, or stalled). */
const maxHoldMs = 1_000;

export function startCheckpointer(options: CheckpointerOptions): Checkpointer {
  const { db, logger } = options;
  const workerData: CheckpointWorkerData = {
    path: options.path,
    intervalMs: options.intervalMs ?? 250,
    sync: options.sync,
    restartFrames: options.restartFrames ?? defaultRestartFrames,
  };
  const commits = options.commits ?? inlineCommitQueue(db);
  // Every connection that commits: the serving one, and the write thread's if there is one.
  const configure = (sql: string) => {
    db.exec(sql);
    if (options.commits) options.commits.configure(sql);
  };
  const pageSize = (db.prepare("PRAGMA page_size").get() as { page_size: number }).page_size;
  // Truncates the file after a burst (SQLite applies it when a restarted log commits).
  configure(`PRAGMA journal_size_limit = ${2 * workerData.restartFrames * (pageSize + 24)}`);
  const worker = new Worker(new URL("./checkpoint-worker.ts", import.meta.url), { workerData });
  worker.unref();
  configure("PRAGMA wal_autocheckpoint = 0");
  let stopping = false;
  let holding = false;
  let held: { release: () => void; since: number; timer: NodeJS.Timeout } | undefined;
  function releaseCommits(finished: boolean, complete = false): void {
    if (!held) return;
    const { release, since, timer } = held;
    held = undefined;
    clearTimeout(timer);
    release();
    const restart: WalRestart = { heldMs: performance.now() - since, finished, complete };
    if (!finished) logger.warn("wal restart: commits released before the checkpoint thread finished", restart);
    else if (!complete) logger.info("wal restart: a reader holds an older snapshot; restarts back off", restart);
    else logger.debug("wal restart", restart);
    options.onRestart?.(restart);
  }
  worker.on("message", (report: CheckpointReport) => {
    logger.debug("wal checkpoint", { ...report });
    options.onCheckpoint?.(report);
    if (report.restart === "finished") return releaseCommits(true, report.checkpointed === report.logged);
    if (report.restart !== "caught-up" || stopping) return;
    // The hot writes wait (queued; the turn's reads, deliveries and sockets go on) while the
    // thread copies what was committed since its last pass. The thread waits for
    // "finish" whatever happens here, so it is always sent.
    if (held || holding) return worker.postMessage("finish");
    holding = true;
    void commits.hold().then((release) => {
      holding = false;
      if (stopping) release();
      else held = { release, since: performance.now(), timer: setTimeout(() => releaseCommits(false), maxHoldMs) };
      worker.postMessage("finish");
    });
  });
  worker.on("error", (error) => logger.error("wal checkpointer failed", { error: error.message }));
  const exited = new Promise<void>((resolve) => {
    worker.once("exit", (code) => {
      releaseCommits(false);
      if (!stopping) {
        logger.error("wal checkpointer stopped; commits checkpoint inline again", { code });
        if (db.isOpen) configure(`PRAGMA wal_autocheckpoint = ${inlineCheckpointPages}`);
      }
      resolve();
    });
  });
  return {
    async stop() {
      stopping = true;
      releaseCommits(false);
      // Unref'd while it runs; held now, or a process with nothing else left to do would exit
      // before the thread does and never reach the caller's close.
      worker.ref();
      worker.postMessage("stop");
      await exited;
    },
  };
}
