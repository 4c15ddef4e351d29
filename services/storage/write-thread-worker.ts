// The write thread (see write-thread.ts): its own connection to the database file runs the
// operations the serving thread posts, a turn's worth per transaction (group commit), so SQLite's
// statements, commits and WAL writes are paid off the server's event loop.
import type { DatabaseSync } from "node:sqlite";
import { parentPort, workerData } from "node:worker_threads";
import { ConnectError } from "@connectrpc/connect";
import { ErrorDetailSchema } from "../../gen/parley/v1/errors_pb.js";
import { type CommitPriority, createGroupCommit } from "./group-commit.ts";
import { connect, type SyncMode } from "./sqlite.ts";

export interface WriteThreadData {
  path: string;
  sync: SyncMode;
  /** A module whose `operations` export maps each name to `(db, ...args) => result`. */
  operations: string;
  maxBatch?: number;
}

export interface Call {
  id: number;
  op: string;
  args: unknown[];
  priority: CommitPriority;
}

/** A ConnectError's code and Parley detail, or a plain error's message: Errors lose both in a clone. */
export interface ThrownError {
  message: string;
  code?: number;
  reason?: string;
  field?: string;
  retryAfterMs?: number;
}

export type ToWriter =
  | { type: "calls"; calls: Call[] }
  | { type: "hold" }
  | { type: "release" }
  | { type: "pragma"; sql: string }
  | { type: "close" };

export type FromWriter =
  | { type: "results"; results: Array<{ id: number; value?: unknown; error?: ThrownError }> }
  | { type: "held" }
  | { type: "pragma-failed"; sql: string; error: string };

type Operation = (db: DatabaseSync, ...args: unknown[]) => unknown;

const data = workerData as WriteThreadData;
const port = parentPort;
if (!port) throw new Error("write-thread-worker.ts runs as a worker thread");
const db = connect(data.path, data.sync);
const { operations } = (await import(data.operations)) as { operations: Record<string, Operation> };
const commit = createGroupCommit(db, { maxBatch: data.maxBatch });
let release: (() => void) | undefined;

// Each commit settles its batch's promises in one go; their replies leave in one message.
let results: Array<{ id: number; value?: unknown; error?: ThrownError }> = [];
function answer(result: { id: number; value?: unknown; error?: ThrownError }): void {
  results.push(result);
  if (results.length === 1) queueMicrotask(sendResults);
}
function sendResults(): void {
  const message: FromWriter = { type: "results", results };
  results = [];
  port?.postMessage(message);
}

function thrown(error: unknown): ThrownError {
  if (!(error instanceof ConnectError)) return { message: error instanceof Error ? error.message : String(error) };
  const detail = error.findDetails(ErrorDetailSchema)[0];
  return {
    message: error.rawMessage,
    code: error.code,
    reason: detail?.reason,
    field: detail?.field,
    retryAfterMs: detail?.retryAfterMs,
  };
}

function run(call: Call): void {
  const operation = operations[call.op];
  if (!operation) {
    answer({ id: call.id, error: { message: `no write operation named ${call.op}` } });
    return;
  }
  commit(() => operation(db, ...call.args), call.priority).then(
    (value) => answer({ id: call.id, value }),
    (error: unknown) => answer({ id: call.id, error: thrown(error) }),
  );
}

port.on("message", (message: ToWriter) => {
  switch (message.type) {
    case "calls":
      for (const call of message.calls) run(call);
      return;
    case "hold":
      // No transaction is open between messages (each runs whole), so once this is handled
      // nothing commits until "release".
      release ??= commit.hold();
      port.postMessage({ type: "held" } satisfies FromWriter);
      return;
    case "release":
      release?.();
      release = undefined;
      return;
    case "pragma":
      try {
        db.exec(message.sql);
      } catch (error) {
        port.postMessage({ type: "pragma-failed", sql: message.sql, error: thrown(error).message } satisfies FromWriter);
      }
      return;
    case "close":
      release?.();
      db.close();
      port.close();
      return;
  }
});
