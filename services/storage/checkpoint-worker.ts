// The background checkpointer's thread (see checkpointer.ts): its own connection to the database
// file copies committed WAL pages into it, including the fsyncs, off the server's event loop.
import { DatabaseSync } from "node:sqlite";
import { parentPort, workerData } from "node:worker_threads";

export interface CheckpointWorkerData {
  path: string;
  intervalMs: number;
  synchronous: "NORMAL" | "FULL";
}

export interface CheckpointReport {
  /** Frames in the WAL at the checkpoint. */
  logged: number;
  /** Of those, frames now copied into the database file. */
  checkpointed: number;
  durationMs: number;
}

const { path, intervalMs, synchronous } = workerData as CheckpointWorkerData;
const db = new DatabaseSync(path);
db.exec(`PRAGMA synchronous = ${synchronous}`);
db.exec("PRAGMA busy_timeout = 5000");
// PASSIVE never waits on the writer: it copies what is committed and leaves the rest for next time.
const checkpoint = db.prepare("PRAGMA wal_checkpoint(PASSIVE)");
let lastLogged = -1;

const timer = setInterval(() => {
  const started = performance.now();
  const row = checkpoint.get() as { busy: number; log: number; checkpointed: number };
  // An idle store reports nothing; after the writer restarts the WAL, `log` starts again from 0.
  if (row.log === lastLogged && row.log === row.checkpointed) return;
  lastLogged = row.log;
  const report: CheckpointReport = { logged: row.log, checkpointed: row.checkpointed, durationMs: performance.now() - started };
  parentPort?.postMessage(report);
}, intervalMs);

parentPort?.on("message", (message) => {
  if (message !== "stop") return;
  clearInterval(timer);
  db.close();
  parentPort?.close();
});
