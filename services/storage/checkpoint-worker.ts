// The background checkpointer's thread (see checkpointer.ts): its own connection to the database
// file copies committed WAL pages into it, including the fsyncs, off the server's event loop.
import { parentPort, workerData } from "node:worker_threads";
import { connect, type SyncMode } from "./sqlite.ts";

export interface CheckpointWorkerData {
  path: string;
  intervalMs: number;
  sync: SyncMode;
  /** A WAL this long is caught up with and copied to its end while the writer holds its commits. */
  restartFrames: number;
}

export interface CheckpointReport {
  /** Frames in the WAL at the checkpoint. */
  logged: number;
  /** Of those, frames now copied into the database file. */
  checkpointed: number;
  durationMs: number;
  /**
   * "caught-up": the WAL reached `restartFrames`, this thread caught up with the writer and waits
   * for "finish", sent once the serving connection holds its commits (see checkpointer.ts).
   * "finished": the pass that ran while they were held; the thread runs on as before.
   */
  restart?: "caught-up" | "finished";
}

/** Back-to-back passes stop chasing the writer once one copies fewer frames than this. */
const caughtUpFrames = 256;
const maxCatchUpPasses = 8;
/** Most intervals skipped between restarts that could not copy the WAL to its end. */
const maxRestartBackoff = 64;

const { path, intervalMs, sync, restartFrames } = workerData as CheckpointWorkerData;
const db = connect(path, sync);
// PASSIVE never waits on the writer: it copies what is committed and leaves the rest for next time.
const checkpoint = db.prepare("PRAGMA wal_checkpoint(PASSIVE)");
let lastLogged = -1;
let timer: NodeJS.Timeout | undefined;
let stopped = false;
/** Intervals to wait before the next restart, and how many are left. */
let restartBackoff = 0;
let restartSkips = 0;

type Pass = { busy: number; log: number; checkpointed: number };
const pass = () => checkpoint.get() as Pass;

function tick(): void {
  timer = undefined;
  const started = performance.now();
  let row = pass();
  // Under steady writes a pass never ends with nothing left behind it, and only a WAL that was
  // copied to its end can start again from its beginning: it would grow without bound. Past the
  // limit, chase the writer until a pass finds little new, then ask it to hold its commits.
  const restart = row.log >= restartFrames && restartSkips === 0;
  if (restartSkips > 0) restartSkips--;
  for (let i = 0; restart && i < maxCatchUpPasses; i++) {
    const before = row.checkpointed;
    row = pass();
    if (row.checkpointed - before < caughtUpFrames) break;
  }
  report(row, started, restart ? "caught-up" : undefined);
  if (!restart) schedule();
}

/** The writer holds its commits: this pass copies the WAL to its end, so the next commit restarts it. */
function finish(): void {
  const started = performance.now();
  const row = pass();
  // Short of the end, a reader elsewhere holds an older snapshot (a backup, say) and the log
  // cannot restart under it: ask the writer to hold less and less often until it can.
  if (row.checkpointed < row.log) {
    restartBackoff = Math.min(Math.max(1, 2 * restartBackoff), maxRestartBackoff);
    restartSkips = restartBackoff;
  } else {
    restartBackoff = 0;
  }
  report(row, started, "finished");
  schedule();
}

function report(row: Pass, started: number, restart: CheckpointReport["restart"]): void {
  // An idle store reports nothing; after the writer restarts the WAL, `log` starts again from 0.
  if (!restart && row.log === lastLogged && row.log === row.checkpointed) return;
  lastLogged = row.log;
  const message: CheckpointReport = { logged: row.log, checkpointed: row.checkpointed, durationMs: performance.now() - started };
  if (restart) message.restart = restart;
  parentPort?.postMessage(message);
}

function schedule(): void {
  if (!stopped && !timer) timer = setTimeout(tick, intervalMs);
}

parentPort?.on("message", (message) => {
  if (message === "finish") return stopped ? undefined : finish();
  if (message !== "stop") return;
  stopped = true;
  clearTimeout(timer);
  db.close();
  parentPort?.close();
});

schedule();
